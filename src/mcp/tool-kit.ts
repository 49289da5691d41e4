/** @module What every MCP tool shares: snake_case results, common input shapes, and registration with output schemas and tool errors. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import { snakeName, ToolFailure, type Exec } from './exec.ts'

export type Json = Record<string, unknown>

/** camelCase keys to snake_case, recursively. */
export function snake(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snake)
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [snakeName(k), snake(x)]))
  return v
}

export const nodes = (conn: unknown): Json[] => ((conn as { edges: { node: Json }[] }).edges ?? []).map((e) => e.node)

export const id = (what: string) => z.string().min(1).describe(`The ${what} id (e.g. from list_${what === 'client' ? 'clients' : 'keys'}).`)
export const usd = z.number().positive()
export const enforcement = z.enum(['hard', 'soft']).describe('hard blocks requests past the cap; soft only alerts.')
export const rate = (max: number) => z.number().int().positive().max(max)

export const lower = (o: Json): Json => ({ ...o, ...(typeof o.status === 'string' ? { status: o.status.toLowerCase() } : {}), ...(typeof o.enforcement === 'string' ? { enforcement: o.enforcement.toLowerCase() } : {}), ...(typeof o.billing_mode === 'string' ? { billing_mode: o.billing_mode.toLowerCase() } : {}) })

export const upper = (v: string | undefined) => (v === undefined ? undefined : v.toUpperCase())

export interface ToolSpec<I extends z.ZodRawShape, O extends z.ZodRawShape> {
  title: string
  description: string
  input: I
  output: O
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean }
  run: (args: z.infer<z.ZodObject<I>>, exec: Exec) => Promise<{ data: z.infer<z.ZodObject<O>>; text: string }>
}

export function register<I extends z.ZodRawShape, O extends z.ZodRawShape>(server: McpServer, exec: Exec, name: string, spec: ToolSpec<I, O>): void {
  server.registerTool(
    name,
    { title: spec.title, description: spec.description, inputSchema: spec.input, outputSchema: spec.output, annotations: { openWorldHint: false, ...spec.annotations } },
    // The SDK has validated args against the input shape.
    (async (args: z.infer<z.ZodObject<I>>) => {
      try {
        const { data, text } = await spec.run(args, exec)
        return { content: [{ type: 'text' as const, text }], structuredContent: data as Json }
      } catch (err) {
        const message = err instanceof ToolFailure ? err.message : 'The tool failed unexpectedly.'
        return { content: [{ type: 'text' as const, text: message }], isError: true }
      }
    }) as never,
  )
}

export const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true }
export const WRITE = { readOnlyHint: false, destructiveHint: false, idempotentHint: false }
