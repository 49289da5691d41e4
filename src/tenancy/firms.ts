/** @module Owns the firms table. */
import type { Sql } from '../shared/db.ts'
import { newId } from '../shared/ids.ts'

export interface Firm {
  id: string
  name: string
  markupBps: number
  timezone: string
  createdAt: Date
}

interface FirmRow {
  id: string
  name: string
  markup_bps: number
  timezone: string
  created_at: Date
}

const toFirm = (r: FirmRow): Firm => ({ id: r.id, name: r.name, markupBps: r.markup_bps, timezone: r.timezone, createdAt: r.created_at })

export async function createFirm(sql: Sql, input: { name: string; markupBps?: number }): Promise<Firm> {
  const [row] = await sql<FirmRow[]>`
    insert into firms (id, name, markup_bps) values (${newId('firm')}, ${input.name}, ${input.markupBps ?? 0})
    returning *`
  return toFirm(row!)
}

export async function getFirm(sql: Sql, id: string): Promise<Firm | null> {
  const [row] = await sql<FirmRow[]>`select * from firms where id = ${id}`
  return row ? toFirm(row) : null
}

export async function firmsByIds(sql: Sql, ids: readonly string[]): Promise<Firm[]> {
  if (ids.length === 0) return []
  return (await sql<FirmRow[]>`select * from firms where id in ${sql(ids)}`).map(toFirm)
}

export async function listFirms(sql: Sql, page: { after: string | null; limit: number }): Promise<Firm[]> {
  const rows = await sql<FirmRow[]>`
    select * from firms ${page.after ? sql`where id > ${page.after}` : sql``} order by id limit ${page.limit}`
  return rows.map(toFirm)
}

export async function setFirmMarkup(sql: Sql, id: string, markupBps: number): Promise<Firm | null> {
  const [row] = await sql<FirmRow[]>`update firms set markup_bps = ${markupBps} where id = ${id} returning *`
  return row ? toFirm(row) : null
}

/** Every firm's stored webhook signing secret (sealed or not), for re-sealing under a new key. */
export async function webhookSecrets(sql: Sql): Promise<{ firmId: string; stored: string }[]> {
  const rows = await sql<{ id: string; webhook_secret: string }[]>`select id, webhook_secret from firms where webhook_secret is not null order by id`
  return rows.map((r) => ({ firmId: r.id, stored: r.webhook_secret }))
}

/** Replaces a stored signing secret with the same secret sealed anew, unless it changed meanwhile. */
export async function resealWebhookSecret(sql: Sql, firmId: string, was: string, sealed: string): Promise<void> {
  await sql`update firms set webhook_secret = ${sealed} where id = ${firmId} and webhook_secret = ${was}`
}

/** Sets (or with null clears) the firm's alert webhook and its signing secret (as stored: sealed when keyed). */
export async function setFirmWebhook(sql: Sql, id: string, hook: { url: string; secret: string } | null): Promise<boolean> {
  const rows = await sql`
    update firms set webhook_url = ${hook?.url ?? null}, webhook_secret = ${hook?.secret ?? null}, webhook_set_at = ${hook ? new Date() : null}
    where id = ${id} returning id`
  return rows.length > 0
}
