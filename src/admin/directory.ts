/** @module Read-only views for admins: who am I, firms, the model catalog, credit balances. */
import type { CatalogModel } from '../billing/catalog.ts'
import { NotFound } from '../shared/errors.ts'
import { getCreditAccount, type CreditAccount } from '../billing/credits.ts'
import { getClient } from '../tenancy/clients.ts'
import { getFirm, listFirms, type Firm } from '../tenancy/firms.ts'
import { getUser, type User } from '../tenancy/users.ts'
import { found, scopeOf, type Actor } from './actor.ts'
import type { AdminDeps, Page } from './context.ts'

export function me(deps: AdminDeps, actor: Actor): Promise<User> {
  return getUser(deps.sql, actor.userId).then((u) => found(u, 'user'))
}

/** A firm admin's own firm; a platform admin names one. */
export async function firm(deps: AdminDeps, actor: Actor, id?: string | null): Promise<Firm> {
  const scope = scopeOf(actor)
  const wanted = id ?? actor.firmId
  if (!wanted || (scope !== null && wanted !== scope)) throw new NotFound('No such firm.')
  return found(await getFirm(deps.sql, wanted), 'firm')
}

export function firms(deps: AdminDeps, actor: Actor, page: Page): Promise<Firm[]> {
  if (actor.role !== 'platform_admin') return actor.firmId ? getFirm(deps.sql, actor.firmId).then((f) => (f && !page.after ? [f] : [])) : Promise.resolve([])
  return listFirms(deps.sql, page)
}

export function models(deps: AdminDeps, filter: { zdr?: boolean | null; provider?: string | null }): CatalogModel[] {
  return [...deps.catalog.current.values()].filter((m) => (filter.zdr == null || m.zdr === filter.zdr) && (filter.provider == null || m.provider === filter.provider))
}

export async function creditBalance(deps: AdminDeps, actor: Actor, clientId: string): Promise<CreditAccount> {
  found(await getClient(deps.sql, scopeOf(actor), clientId), 'client')
  return getCreditAccount(deps.sql, clientId)
}
