/**
 * @module The composition root of everything but the hot routes: the Elysia app (admin plane, docs, the gateway's
 * other routes) assembled from its feature plugins. The server loads it on the first request that needs it.
 */
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
import { gatewayPlugin } from './gateway/index.ts'
import type { GatewayContext } from './gateway/context.ts'
import type { Database } from './shared/db.ts'
import { InvalidRequest, RouteNotFound } from './shared/errors.ts'
import { newId } from './shared/ids.ts'
import { REQUEST_ID, renderError } from './hot-routes.ts'

export interface AppDeps {
  gw: GatewayContext
  db: Database
  admin: AdminDeps
  jwt: JwtConfig | null
}

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
