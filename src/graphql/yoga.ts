/**
 * @module The GraphQL server: Yoga over the Pothos schema, with depth, alias, cost and batch limits, introspection
 * for authenticated callers only in production, and typed errors (unexpected ones masked).
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor'
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql'
import { createYoga, type Plugin } from 'graphql-yoga'
import type { Actor } from '../admin/actor.ts'
import type { AdminDeps } from '../admin/context.ts'
import { GatewayError } from '../shared/errors.ts'
import { describeError, log } from '../shared/log.ts'
import { createContext, type GraphQLContext } from './context.ts'
import { schema } from './schema/index.ts'

export const LIMITS = { depth: 10, aliases: 30, batch: 10, cost: 20_000, tokens: 2000 } as const

const CODES: Record<number, string> = { 400: 'BAD_USER_INPUT', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 409: 'CONFLICT', 503: 'SERVICE_UNAVAILABLE' }

/** Our typed errors keep their message, a stable code and the field they name; anything else is masked. */
export function toGraphQLError(err: GatewayError): GraphQLError {
  return new GraphQLError(err.message, {
    extensions: { code: CODES[err.status] ?? 'INTERNAL_SERVER_ERROR', reason: err.code, ...(err.param ? { field: err.param } : {}), http: { status: err.status === 401 ? 401 : 200 } },
  })
}

function maskError(error: unknown, message: string): Error {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error
  if (original instanceof GatewayError) return toGraphQLError(original)
  if (original instanceof GraphQLError) return original
  log.error('graphql resolver failed', { error: describeError(original) })
  return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } })
}

const introspectionForMembersOnly = (production: boolean): Plugin<GraphQLContext> => ({
  onValidate({ addValidationRule, context }) {
    if (production && !context.actor) addValidationRule(NoSchemaIntrospectionCustomRule)
  },
})

export function createGraphQL(deps: AdminDeps, production: boolean) {
  return createYoga<{ actor: Actor | null }, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: !production,
    landingPage: false,
    logging: false,
    batching: { limit: LIMITS.batch },
    maskedErrors: { maskError },
    context: ({ actor }) => createContext(deps, actor),
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: LIMITS.depth, ignoreIntrospection: true },
        maxAliases: { n: LIMITS.aliases },
        costLimit: { maxCost: LIMITS.cost },
        maxTokens: { n: LIMITS.tokens },
        maxDirectives: { n: 20 },
        blockFieldSuggestion: { enabled: production },
      }),
      introspectionForMembersOnly(production),
    ],
  })
}
