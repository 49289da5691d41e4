/**
 * @module The routes every replica serves from the first request: the proxy's hot routes and the health probes,
 * as Bun.serve routes ahead of the Elysia app. Nothing here loads the admin plane (GraphQL, MCP, docs), so a
 * replica that only proxies never pays its memory.
 */
import type { Database } from './shared/db.ts'
import type { GatewayContext } from './gateway/context.ts'
import { handleChat } from './gateway/chat.ts'
import { handleEmbeddings } from './gateway/embeddings.ts'
import { handleImages } from './gateway/images.ts'
import { errorResponse, GatewayError, InternalError } from './shared/errors.ts'
import { newId } from './shared/ids.ts'
import { describeError, log } from './shared/log.ts'

export const REQUEST_ID = 'x-viapi-request-id'

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

const json = (body: unknown, status = 200) => Response.json(body, { status })

/** Liveness, and readiness: the database answers (Redis degraded is still ready; limits then hold per replica). */
function probes(gw: GatewayContext, db: Database) {
  return {
    '/healthz': { GET: () => json({ status: 'ok' }) },
    '/readyz': {
      GET: async () => {
        try {
          await Promise.race([db.sql`select 1`, Bun.sleep(2000).then(() => Promise.reject(new Error('timeout')))])
          const redis = gw.sync ? { redis: gw.sync.status, replicas: gw.sync.liveReplicas, ...(gw.sync.lastError ? { redis_error: gw.sync.lastError } : {}) } : { redis: 'off' }
          return json({ status: 'ready', database: 'ok', ...redis, usage_queue: gw.meter.queued })
        } catch (err) {
          return json({ status: 'unavailable', database: describeError(err) }, 503)
        }
      },
    },
  }
}

export function hotRoutes(gw: GatewayContext, db: Database) {
  // Not an async function of its own: one async level fewer a request (each costs ~0.25 KB of heap).
  const chat = (request: Request): Promise<Response> => {
    const requestId = newId('req')
    const headers: Record<string, string> = { [REQUEST_ID]: requestId }
    return handleChat(gw, request, requestId, headers).catch((err: unknown) => renderError(err, requestId, '/v1/proxy/chat/completions', headers))
  }
  return {
    ...probes(gw, db),
    '/v1/proxy/chat/completions': { POST: chat },
    '/v1/proxy/embeddings': { POST: jsonRoute(gw, '/v1/proxy/embeddings', handleEmbeddings) },
    '/v1/proxy/images/generations': { POST: jsonRoute(gw, '/v1/proxy/images/generations', handleImages) },
  }
}
