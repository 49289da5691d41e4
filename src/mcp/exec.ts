/**
 * @module How MCP tools reach the admin API: GraphQL, run in-process for /mcp (same schema, same services, the
 * caller's identity) or over HTTP for the stdio server (VIAPI_API_URL with a vi_pat_ token).
 */
import { graphql } from 'graphql'
import type { Actor } from '../admin/actor.ts'
import type { AdminDeps } from '../admin/context.ts'
import { createContext } from '../graphql/context.ts'
import { schema } from '../graphql/schema/index.ts'
import { GatewayError } from '../shared/errors.ts'
import { toGraphQLError } from '../graphql/yoga.ts'

export type Exec = (query: string, variables?: Record<string, unknown>) => Promise<Record<string, unknown>>

/** A failure the model should read: the API's own message, with the argument it names. */
export class ToolFailure extends Error {}

interface GqlError {
  message: string
  extensions?: { code?: string; field?: string }
}

function failure(errors: readonly GqlError[]): ToolFailure {
  const e = errors[0]!
  const field = e.extensions?.field ? ` (argument: ${snakeName(e.extensions.field)})` : ''
  const code = e.extensions?.code === 'NOT_FOUND' ? 'Not found: ' : e.extensions?.code === 'FORBIDDEN' ? 'Not allowed: ' : ''
  return new ToolFailure(`${code}${e.message}${field}`)
}

export function snakeName(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
}

export function inProcessExec(deps: AdminDeps, actor: Actor): Exec {
  return async (query, variables) => {
    const r = await graphql({ schema, source: query, variableValues: variables, contextValue: createContext(deps, actor) })
    if (r.errors?.length) {
      const errs = r.errors.map((e) => {
        const orig = e.originalError
        if (orig instanceof GatewayError) return toGraphQLError(orig).toJSON() as GqlError
        return { message: orig ? 'The gateway failed to handle this request.' : e.message, extensions: e.extensions as GqlError['extensions'] }
      })
      throw failure(errs)
    }
    return (r.data ?? {}) as Record<string, unknown>
  }
}

export function remoteExec(apiUrl: string, token: string): Exec {
  const url = `${apiUrl.replace(/\/+$/, '')}/graphql`
  return async (query, variables) => {
    let res: Response
    try {
      res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) })
    } catch {
      throw new ToolFailure(`The Viapi gateway at ${apiUrl} could not be reached.`)
    }
    const body = (await res.json().catch(() => ({}))) as { data?: Record<string, unknown> | null; errors?: GqlError[] }
    if (body.errors?.length) throw failure(body.errors)
    if (!res.ok || !body.data) throw new ToolFailure(`The Viapi gateway answered ${res.status}.`)
    return body.data
  }
}
