/** @module The per-request GraphQL context: the caller, the admin services' dependencies, and batch loaders. */
import DataLoader from 'dataloader'
import type { Actor } from '../admin/actor.ts'
import type { AdminDeps } from '../admin/context.ts'
import { clientsByIds, type Client } from '../tenancy/clients.ts'
import { firmsByIds, type Firm } from '../tenancy/firms.ts'

export interface GraphQLContext {
  actor: Actor | null
  deps: AdminDeps
  loaders: {
    client: DataLoader<string, Client | null>
    firm: DataLoader<string, Firm | null>
  }
}

function byId<T extends { id: string }>(load: (ids: readonly string[]) => Promise<T[]>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = new Map((await load(ids)).map((r) => [r.id, r]))
    return ids.map((id) => rows.get(id) ?? null)
  })
}

export function createContext(deps: AdminDeps, actor: Actor | null): GraphQLContext {
  return {
    actor,
    deps,
    loaders: {
      client: byId((ids) => clientsByIds(deps.sql, ids)),
      firm: byId((ids) => firmsByIds(deps.sql, ids)),
    },
  }
}

/** The authenticated caller; resolvers behind the `authenticated` scope can rely on it. */
export function actorOf(ctx: GraphQLContext): Actor {
  if (!ctx.actor) throw new Error('resolver reached without an authenticated actor')
  return ctx.actor
}
