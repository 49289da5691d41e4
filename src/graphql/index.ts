/** @module The GraphQL plugin: authenticates the admin, then hands the request to Yoga at /graphql. */
import { Elysia } from 'elysia'
import { Unauthenticated } from '../admin/actor.ts'
import { authenticateAdmin, type JwtConfig } from '../admin/auth.ts'
import type { AdminDeps } from '../admin/context.ts'
import { createGraphQL, toGraphQLError } from './yoga.ts'

export function graphqlPlugin(deps: AdminDeps, jwt: JwtConfig | null, production: boolean) {
  const yoga = createGraphQL(deps, production)
  const handle = async ({ request }: { request: Request }) => {
    let actor = null
    try {
      actor = await authenticateAdmin(deps.sql, jwt, request.headers)
    } catch (err) {
      if (!(err instanceof Unauthenticated)) throw err
      return Response.json({ errors: [toGraphQLError(err).toJSON()] }, { status: 401, headers: { 'www-authenticate': 'Bearer' } })
    }
    return yoga.fetch(request, { actor })
  }
  return new Elysia({ name: 'graphql' }).get('/graphql', handle).post('/graphql', handle, { parse: 'none' })
}
