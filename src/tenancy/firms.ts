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
