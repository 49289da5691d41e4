/** @module An MCP server instance exposing the control-plane tools over a given way to reach the admin API. */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import pkg from '../../package.json'
import type { Exec } from './exec.ts'
import { registerTools } from './tools.ts'

export function createMcpServer(exec: Exec): McpServer {
  const server = new McpServer(
    { name: 'viapi', title: 'Viapi', version: pkg.version },
    { instructions: 'Manage a Viapi firm: client accounts, API keys with spend caps and model allowlists, routes, spending limits, usage and prepaid credit. Ids come from the list_* tools.' },
  )
  registerTools(server, exec)
  return server
}
