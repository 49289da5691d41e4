/**
 * @module MCP over Streamable HTTP at /mcp, stateless: every POST carries its own credentials (an OAuth access token
 * issued by this gateway for the /mcp resource, or a vi_pat_ token) and is served by a server made for it, so any
 * replica behind a load balancer answers any request and nothing is kept between them. The tools need no
 * server-initiated messages, hence no sessions and no GET stream. Tokens in the query string are refused, and the
 * token is never passed on to anything else.
 */
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import { Elysia } from 'elysia'
import type { Actor } from '../admin/actor.ts'
import { actorFromPat, bearer } from '../admin/auth.ts'
import type { AdminDeps } from '../admin/context.ts'
import { describeError, log } from '../shared/log.ts'
import { PAT_PREFIX } from '../tenancy/tokens.ts'
import { inProcessExec } from './exec.ts'
import type { OAuthIssuer } from './oauth/issuer.ts'
import { publicOrigin } from '../shared/origin.ts'
import { createMcpServer } from './server.ts'

export function mcpPlugin(deps: AdminDeps, issuer: OAuthIssuer, env: Record<string, string | undefined>) {
  const unauthorized = (request: Request, message: string) => {
    const origin = publicOrigin(request, env)
    return new Response(JSON.stringify({ error: 'invalid_token', error_description: message }), {
      status: 401,
      headers: { 'content-type': 'application/json', 'www-authenticate': `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp", error="invalid_token", error_description="${message}"` },
    })
  }

  async function who(request: Request): Promise<Actor | string> {
    const url = new URL(request.url)
    if (url.searchParams.has('access_token') || url.searchParams.has('token')) return 'Tokens are not accepted in the query string; send Authorization: Bearer.'
    const token = bearer(request.headers)
    if (!token) return 'Sign in: this server needs an access token.'
    try {
      if (token.startsWith(PAT_PREFIX)) return await actorFromPat(deps.sql, token)
      return await issuer.verifyAccessToken(token, `${publicOrigin(request, env)}/mcp`)
    } catch (err) {
      return err instanceof Error ? err.message : 'Invalid token.'
    }
  }

  const handle = async ({ request }: { request: Request }): Promise<Response> => {
    const actor = await who(request)
    if (typeof actor === 'string') return unauthorized(request, actor)
    if (request.method !== 'POST') {
      return Response.json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this server is stateless; send each message as a POST.' }, id: null }, { status: 405, headers: { allow: 'POST' } })
    }
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    const server = createMcpServer(inProcessExec(deps, actor))
    try {
      await server.connect(transport)
      return await transport.handleRequest(request)
    } catch (err) {
      log.error('mcp request failed', { error: describeError(err) })
      return Response.json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }, { status: 500 })
    } finally {
      void server.close().catch(() => {})
    }
  }

  return new Elysia({ name: 'mcp' })
    .post('/mcp', handle, { parse: 'none', detail: { hide: true } })
    .get('/mcp', handle, { detail: { hide: true } })
    .delete('/mcp', handle, { detail: { hide: true } })
}
