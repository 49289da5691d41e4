/** @module Owns the audit_log table: one row per admin mutation, written in the mutation's transaction. */
import type { Sql } from '../shared/db.ts'
import { newId } from '../shared/ids.ts'
import { inFirm, type FirmScope } from './scope.ts'

export interface AuditEntry {
  id: string
  firmId: string | null
  actorId: string | null
  actorEmail: string
  action: string
  objectType: string
  objectId: string | null
  before: unknown
  after: unknown
  createdAt: Date
}

interface Row {
  id: string
  firm_id: string | null
  actor_id: string | null
  actor_email: string
  action: string
  object_type: string
  object_id: string | null
  before: unknown
  after: unknown
  created_at: Date
}

const toEntry = (r: Row): AuditEntry => ({
  id: r.id,
  firmId: r.firm_id,
  actorId: r.actor_id,
  actorEmail: r.actor_email,
  action: r.action,
  objectType: r.object_type,
  objectId: r.object_id,
  before: r.before,
  after: r.after,
  createdAt: r.created_at,
})

/** JSON-safe copy: bigints become decimal strings, Dates ISO strings. */
function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)))
}

export async function writeAudit(
  sql: Sql,
  e: { firmId: string | null; actorId: string | null; actorEmail: string; action: string; objectType: string; objectId: string | null; before?: unknown; after?: unknown },
): Promise<void> {
  await sql`
    insert into audit_log (id, firm_id, actor_id, actor_email, action, object_type, object_id, before, after)
    values (${newId('aud')}, ${e.firmId}, ${e.actorId}, ${e.actorEmail}, ${e.action}, ${e.objectType}, ${e.objectId},
            ${sql.json(plain(e.before) as never)}, ${sql.json(plain(e.after) as never)})`
}

/** Newest first; `after` is the last id of the previous page. */
export async function listAudit(sql: Sql, scope: FirmScope, page: { after: string | null; limit: number }): Promise<AuditEntry[]> {
  const rows = await sql<Row[]>`
    select * from audit_log where true ${inFirm(sql, scope)} ${page.after ? sql`and id < ${page.after}` : sql``}
    order by id desc limit ${page.limit}`
  return rows.map(toEntry)
}
