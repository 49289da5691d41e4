/** @module Owns the clients table: a firm's client accounts, their rate limits and markup override. */
import type { Sql } from '../shared/db.ts'
import { newId } from '../shared/ids.ts'
import { inFirm, type FirmScope } from './scope.ts'

export type BillingMode = 'prepaid' | 'postpaid'

export interface Client {
  id: string
  firmId: string
  name: string
  slug: string
  email: string | null
  markupBps: number | null
  billingMode: BillingMode
  rpm: number | null
  rpd: number | null
  allowedModels: string[] | null
  createdAt: Date
  updatedAt: Date
}

interface ClientRow {
  id: string
  firm_id: string
  name: string
  slug: string
  email: string | null
  markup_bps: number | null
  billing_mode: BillingMode
  rpm: number | null
  rpd: number | null
  allowed_models: string[] | null
  created_at: Date
  updated_at: Date
}

const toClient = (r: ClientRow): Client => ({
  id: r.id,
  firmId: r.firm_id,
  name: r.name,
  slug: r.slug,
  email: r.email,
  markupBps: r.markup_bps,
  billingMode: r.billing_mode,
  rpm: r.rpm,
  rpd: r.rpd,
  allowedModels: r.allowed_models,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

export async function createClient(sql: Sql, input: { firmId: string; name: string; slug: string; email?: string | null }): Promise<Client> {
  const [row] = await sql<ClientRow[]>`
    insert into clients (id, firm_id, name, slug, email)
    values (${newId('cli')}, ${input.firmId}, ${input.name}, ${input.slug}, ${input.email ?? null})
    returning *`
  return toClient(row!)
}

export async function getClient(sql: Sql, scope: FirmScope, id: string): Promise<Client | null> {
  const [row] = await sql<ClientRow[]>`select * from clients where id = ${id} ${inFirm(sql, scope)}`
  return row ? toClient(row) : null
}

export async function clientsByIds(sql: Sql, ids: readonly string[]): Promise<Client[]> {
  if (ids.length === 0) return []
  return (await sql<ClientRow[]>`select * from clients where id in ${sql(ids)}`).map(toClient)
}

export async function clientSlugTaken(sql: Sql, firmId: string, slug: string): Promise<boolean> {
  return (await sql`select 1 from clients where firm_id = ${firmId} and slug = ${slug}`).length > 0
}

/** Keyset page in id (creation) order; `after` is the last id of the previous page. */
export async function listClients(sql: Sql, scope: FirmScope, page: { after: string | null; limit: number }): Promise<Client[]> {
  const rows = await sql<ClientRow[]>`
    select * from clients where true ${inFirm(sql, scope)} ${page.after ? sql`and id > ${page.after}` : sql``}
    order by id limit ${page.limit}`
  return rows.map(toClient)
}

export interface ClientPatch {
  name?: string
  email?: string | null
  billingMode?: BillingMode
  rpm?: number | null
  rpd?: number | null
  markupBps?: number | null
  allowedModels?: string[] | null
}

export async function updateClient(sql: Sql, scope: FirmScope, id: string, patch: ClientPatch): Promise<Client | null> {
  const set: Record<string, unknown> = {}
  if (patch.name !== undefined) set.name = patch.name
  if (patch.email !== undefined) set.email = patch.email
  if (patch.billingMode !== undefined) set.billing_mode = patch.billingMode
  if (patch.rpm !== undefined) set.rpm = patch.rpm
  if (patch.rpd !== undefined) set.rpd = patch.rpd
  if (patch.markupBps !== undefined) set.markup_bps = patch.markupBps
  if (patch.allowedModels !== undefined) set.allowed_models = patch.allowedModels
  if (Object.keys(set).length === 0) return getClient(sql, scope, id)
  const [row] = await sql<ClientRow[]>`
    update clients set ${sql(set)}, updated_at = now() where id = ${id} ${inFirm(sql, scope)} returning *`
  return row ? toClient(row) : null
}
