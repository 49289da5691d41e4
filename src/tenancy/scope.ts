/** @module Tenant scoping for queries: a firm id limits a query to that firm; null (platform admin) does not. */
import type { Sql } from '../shared/db.ts'

/** The firm a caller may see, or null for every firm. */
export type FirmScope = string | null

/** `and <column> = <firm>` when scoped, nothing when not. Column names are fixed strings in our own SQL. */
export function inFirm(sql: Sql, scope: FirmScope, column = 'firm_id') {
  return scope === null ? sql`` : sql`and ${sql(column)} = ${scope}`
}
