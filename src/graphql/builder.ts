/** @module The Pothos schema builder: plugins, scalars and auth scopes. Types live in schema/. */
import SchemaBuilder from '@pothos/core'
import RelayPlugin from '@pothos/plugin-relay'
import ScopeAuthPlugin from '@pothos/plugin-scope-auth'
import { GraphQLError, Kind } from 'graphql'
import { Unauthenticated } from '../admin/actor.ts'
import type { GraphQLContext } from './context.ts'

export const builder = new SchemaBuilder<{
  Context: GraphQLContext
  AuthScopes: { authenticated: boolean; platformAdmin: boolean }
  Scalars: {
    DateTime: { Input: Date; Output: Date }
    JSON: { Input: unknown; Output: unknown }
  }
  DefaultFieldNullability: false
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({ authenticated: ctx.actor !== null, platformAdmin: ctx.actor?.role === 'platform_admin' }),
    unauthorizedError: (_parent, ctx) => (ctx.actor ? new GraphQLError('Not allowed.', { extensions: { code: 'FORBIDDEN' } }) : new Unauthenticated()),
  },
  relay: { clientMutationId: 'omit', cursorType: 'String', nodeQueryOptions: false, nodesQueryOptions: false },
})

builder.scalarType('DateTime', {
  description: 'An ISO 8601 date-time, e.g. 2026-12-31T23:59:59Z.',
  serialize: (d) => d.toISOString(),
  parseValue: (v) => {
    const d = typeof v === 'string' ? new Date(v) : new Date(NaN)
    if (Number.isNaN(d.getTime())) throw new GraphQLError('DateTime must be an ISO 8601 string', { extensions: { code: 'BAD_USER_INPUT' } })
    return d
  },
  parseLiteral: (ast) => {
    const d = ast.kind === Kind.STRING ? new Date(ast.value) : new Date(NaN)
    if (Number.isNaN(d.getTime())) throw new GraphQLError('DateTime must be an ISO 8601 string', { extensions: { code: 'BAD_USER_INPUT' } })
    return d
  },
})

builder.scalarType('JSON', {
  description: 'Arbitrary JSON.',
  serialize: (v) => v,
  parseValue: (v) => v,
})

builder.queryType({ authScopes: { authenticated: true } })
builder.mutationType({ authScopes: { authenticated: true } })
