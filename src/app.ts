/** @module The composition root: the one place that assembles the HTTP app from its feature plugins. */
import { Elysia } from 'elysia'
import { scopeOf, Unauthenticated } from './admin/actor.ts'
import { authenticateAdmin, type JwtConfig } from './admin/auth.ts'
import type { AdminDeps } from './admin/context.ts'
import { adminRestPlugin } from './admin/http.ts'
import { billingPlugin } from './billing/index.ts'
import { mcpPlugin } from './mcp/http.ts'
import { OAuthIssuer } from './mcp/oauth/issuer.ts'
import { oauthPlugin } from './mcp/oauth/routes.ts'
import { docsPlugin } from './docs.ts'
import { graphqlPlugin } from './graphql/index.ts'
import { handleChat } from './gateway/chat.ts'
import { handleEmbeddings } from './gateway/embeddings.ts'
import { handleImages } from './gateway/images.ts'
import { gatewayPlugin } from './gateway/index.ts'
import type { GatewayContext } from './gateway/context.ts'
import type { Database } from './shared/db.ts'
import { errorResponse, GatewayError, InternalError, InvalidRequest, RouteNotFound } from './shared/errors.ts'
import { newId } from './shared/ids.ts'
import { describeError, log } from './shared/log.ts'

export interface AppDeps {
  gw: GatewayContext
  db: Database
  admin: AdminDeps
  jwt: JwtConfig | null
}

const REQUEST_ID = 'x-viapi-request-id'

export function createApp({ gw, db, admin, jwt }: AppDeps) {
  const issuer = new OAuthIssuer(db.sql)
  return new Elysia()
    .onRequest(({ set }) => {
      set.headers[REQUEST_ID] = newId('req')
    })
    .onError(({ error, code, set, request, path }) => {
      const requestId = String(set.headers[REQUEST_ID] ?? newId('req'))
      if (code === 'NOT_FOUND') return renderError(new RouteNotFound(`${request.method} ${path}`), requestId, path)
      if (code === 'PARSE') return renderError(new InvalidRequest('We could not parse the body of your request.'), requestId, path)
      if (code === 'VALIDATION') return renderError(new InvalidRequest(error instanceof Error ? error.message : 'Invalid request.'), requestId, path)
      return renderError(error, requestId, path)
    })
    .get('/healthz', () => ({ status: 'ok' }))
    .get('/readyz', async ({ set }) => {
      try {
        await Promise.race([db.sql`select 1`, Bun.sleep(2000).then(() => Promise.reject(new Error('timeout')))])
        // Degraded Redis is still ready: limits then hold per replica (its share), and resync when it returns.
        const redis = gw.sync ? { redis: gw.sync.status, replicas: gw.sync.liveReplicas, ...(gw.sync.lastError ? { redis_error: gw.sync.lastError } : {}) } : { redis: 'off' }
        return { status: 'ready', database: 'ok', ...redis, usage_queue: gw.meter.queued }
      } catch (err) {
        set.status = 503
        return { status: 'unavailable', database: describeError(err) }
      }
    })
    .use(docsPlugin())
    .use(
      gatewayPlugin(gw, async (request) => {
        const actor = await authenticateAdmin(db.sql, jwt, request.headers)
        if (!actor) throw new Unauthenticated()
        return scopeOf(actor) ?? undefined
      }),
    )
    .use(adminRestPlugin(admin, gw.keys, jwt))
    .use(billingPlugin(admin))
    .use(oauthPlugin({ sql: db.sql, issuer, jwt, env: gw.config.env }))
    .use(mcpPlugin(admin, issuer, gw.config.env))
    .use(graphqlPlugin(admin, jwt, gw.config.production))
}

export type App = ReturnType<typeof createApp>

/** Any thrown value as OpenAI's error JSON: our typed errors as they are, anything else a logged, masked 500. */
export function renderError(error: unknown, requestId: string, path: string, headers?: Record<string, string>): Response {
  let err: GatewayError
  if (error instanceof GatewayError) err = error
  else {
    log.error('unhandled error', { request_id: requestId, path, error: describeError(error) })
    err = new InternalError(requestId)
  }
  if (err.status === 401 || err.status === 403 || err.status === 429) {
    log.info('refused', { request_id: requestId, path, status: err.status, code: err.code })
  }
  const res = errorResponse(err, requestId)
  if (headers) for (const k in headers) if (!res.headers.has(k)) res.headers.set(k, headers[k]!)
  return res
}

/**
 * The proxy's hot routes as Bun.serve routes, ahead of the Elysia app (which still declares them for the OpenAPI
 * document): measured, Elysia's per-request hooks and header merging cost ~12 % of a proxy route's throughput.
 */
type Handler = (gw: GatewayContext, request: Request, requestId: string, headers: Record<string, string>) => Promise<Response>

function jsonRoute(gw: GatewayContext, path: string, handle: Handler) {
  return async (request: Request): Promise<Response> => {
    const requestId = newId('req')
    const headers: Record<string, string> = { [REQUEST_ID]: requestId }
    try {
      const res = await handle(gw, request, requestId, headers)
      for (const k in headers) res.headers.set(k, headers[k]!)
      return res
    } catch (err) {
      return renderError(err, requestId, path, headers)
    }
  }
}

export function hotRoutes(gw: GatewayContext) {
  const chat = async (request: Request): Promise<Response> => {
    const requestId = newId('req')
    const headers: Record<string, string> = { [REQUEST_ID]: requestId }
    try {
      return await handleChat(gw, request, requestId, headers)
    } catch (err) {
      return renderError(err, requestId, '/v1/proxy/chat/completions', headers)
    }
  }
  return {
    '/v1/proxy/chat/completions': { POST: chat },
    '/v1/proxy/embeddings': { POST: jsonRoute(gw, '/v1/proxy/embeddings', handleEmbeddings) },
    '/v1/proxy/images/generations': { POST: jsonRoute(gw, '/v1/proxy/images/generations', handleImages) },
  }
}
