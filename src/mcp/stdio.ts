/**
 * @module `viapi mcp`: the same tools over stdin/stdout for agent CLIs, reaching a running gateway at
 * VIAPI_API_URL with VIAPI_ADMIN_TOKEN (a vi_pat_ token). Only protocol messages go to stdout; logs go to stderr.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { remoteExec } from './exec.ts'
import { createMcpServer } from './server.ts'

export async function runStdio(env: Record<string, string | undefined>): Promise<number> {
  const url = env.VIAPI_API_URL
  const token = env.VIAPI_ADMIN_TOKEN
  if (!url || !token) {
    process.stderr.write('viapi mcp: set VIAPI_API_URL (the gateway, e.g. https://api.viapi.ai) and VIAPI_ADMIN_TOKEN (a vi_pat_ token)\n')
    return 2
  }
  const server = createMcpServer(remoteExec(url, token))
  const transport = new StdioServerTransport()
  await server.connect(transport)
  await new Promise<void>((resolve) => {
    transport.onclose = () => resolve()
    process.stdin.on('end', () => resolve())
  })
  return 0
}
