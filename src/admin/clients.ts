/** @module Client accounts as firm admins manage them. */
import { InvalidRequest } from '../shared/errors.ts'
import { clientSlugTaken, createClient as insertClient, getClient as selectClient, listClients as selectClients, updateClient as patchClient, type BillingMode, type Client } from '../tenancy/clients.ts'
import { found, scopeOf, targetFirm, type Actor } from './actor.ts'
import { audit } from './audit.ts'
import type { AdminDeps, Page } from './context.ts'
import { email, MAX_RPD, MAX_RPM, modelList, rate, slug, text } from './validate.ts'

export function getClient(deps: AdminDeps, actor: Actor, id: string): Promise<Client> {
  return selectClient(deps.sql, scopeOf(actor), id).then((c) => found(c, 'client'))
}

export function listClients(deps: AdminDeps, actor: Actor, page: Page): Promise<Client[]> {
  return selectClients(deps.sql, scopeOf(actor), page)
}

export async function createClient(deps: AdminDeps, actor: Actor, input: { name: string; slug: string; email?: string | null; firmId?: string | null }): Promise<Client> {
  const firmId = targetFirm(actor, input.firmId)
  const values = { firmId, name: text(input.name, 'name'), slug: slug(input.slug), email: input.email ? email(input.email) : null }
  return deps.sql.begin(async (tx) => {
    if (await clientSlugTaken(tx, firmId, values.slug)) throw new InvalidRequest(`slug: "${values.slug}" is already used by another client of this firm`, 'slug', 'validation_failed')
    const client = await insertClient(tx, values)
    await audit(tx, actor, { firmId, action: 'createClient', objectType: 'client', objectId: client.id, after: client })
    return client
  })
}

export interface ClientUpdate {
  name?: string | null
  email?: string | null
  billingMode?: BillingMode | null
  allowedModels?: string[] | null
}

export async function updateClient(deps: AdminDeps, actor: Actor, id: string, input: ClientUpdate): Promise<Client> {
  const patch = {
    ...(input.name != null ? { name: text(input.name, 'name') } : {}),
    ...(input.email !== undefined ? { email: input.email === null || input.email === '' ? null : email(input.email) } : {}),
    ...(input.billingMode != null ? { billingMode: input.billingMode } : {}),
    ...(input.allowedModels !== undefined ? { allowedModels: input.allowedModels === null ? null : modelList(input.allowedModels) } : {}),
  }
  return changeClient(deps, actor, id, 'updateClient', patch)
}

export async function setClientRateLimits(deps: AdminDeps, actor: Actor, input: { clientId: string; rpm?: number | null; rpd?: number | null }): Promise<Client> {
  const patch = {
    ...(input.rpm !== undefined ? { rpm: input.rpm === null ? null : rate(input.rpm, 'rpm', MAX_RPM) } : {}),
    ...(input.rpd !== undefined ? { rpd: input.rpd === null ? null : rate(input.rpd, 'rpd', MAX_RPD) } : {}),
  }
  return changeClient(deps, actor, input.clientId, 'setClientRateLimits', patch)
}

/** Applies a patch with an audit row and tells every replica's key cache. */
export async function changeClient(deps: AdminDeps, actor: Actor, id: string, action: string, patch: Parameters<typeof patchClient>[3]): Promise<Client> {
  const scope = scopeOf(actor)
  const client = await deps.sql.begin(async (tx) => {
    const before = found(await selectClient(tx, scope, id), 'client')
    const after = found(await patchClient(tx, scope, id, patch), 'client')
    await audit(tx, actor, { firmId: after.firmId, action, objectType: 'client', objectId: id, before, after })
    return after
  })
  deps.bus.publish({ kind: 'invalidate', inv: { clientId: id } })
  return client
}
