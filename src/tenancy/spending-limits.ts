/** @module Owns the spending_limits table: a client's monthly spending limit and its alert thresholds. */
import type { Sql } from '../shared/db.ts'
import type { Enforcement } from './keys.ts'
import { inFirm, type FirmScope } from './scope.ts'

export interface SpendingLimit {
  clientId: string
  firmId: string
  monthlyLimitNano: bigint
  limitClamped: boolean
  /** Integer percents of the limit, ascending. */
  alertThresholds: number[]
  enforcement: Enforcement
  updatedAt: Date
}

interface Row {
  client_id: string
  firm_id: string
  monthly_limit_nano: bigint
  limit_clamped: boolean
  alert_thresholds: number[]
  enforcement: Enforcement
  updated_at: Date
}

const toLimit = (r: Row): SpendingLimit => ({
  clientId: r.client_id,
  firmId: r.firm_id,
  monthlyLimitNano: r.monthly_limit_nano,
  limitClamped: r.limit_clamped,
  alertThresholds: r.alert_thresholds,
  enforcement: r.enforcement,
  updatedAt: r.updated_at,
})

export async function getSpendingLimit(sql: Sql, scope: FirmScope, clientId: string): Promise<SpendingLimit | null> {
  const [r] = await sql<Row[]>`select * from spending_limits where client_id = ${clientId} ${inFirm(sql, scope)}`
  return r ? toLimit(r) : null
}

export async function upsertSpendingLimit(sql: Sql, limit: Omit<SpendingLimit, 'updatedAt'>): Promise<SpendingLimit> {
  const [r] = await sql<Row[]>`
    insert into spending_limits (client_id, firm_id, monthly_limit_nano, limit_clamped, alert_thresholds, enforcement)
    values (${limit.clientId}, ${limit.firmId}, ${limit.monthlyLimitNano}, ${limit.limitClamped}, ${limit.alertThresholds}, ${limit.enforcement})
    on conflict (client_id) do update set monthly_limit_nano = excluded.monthly_limit_nano, limit_clamped = excluded.limit_clamped,
      alert_thresholds = excluded.alert_thresholds, enforcement = excluded.enforcement, updated_at = now()
    returning *`
  return toLimit(r!)
}
