/** @module Owns the alerts table: firm-facing events (thresholds crossed, caps reached), each once per period. */
import type { Sql } from '../shared/db.ts'
import { newId } from '../shared/ids.ts'

export type AlertType = 'spending_limit.threshold_crossed' | 'key.cap_reached' | 'credits.low_balance' | 'auto_reload.succeeded' | 'auto_reload.failed' | 'payment.failed'

export interface AlertInput {
  firmId: string
  clientId: string | null
  keyId: string | null
  type: AlertType
  period: string
  threshold?: number
  data?: Record<string, unknown>
}

/** Records an alert unless the same one exists for the period; returns its id when it was new. */
export async function recordAlert(sql: Sql, a: AlertInput): Promise<string | null> {
  const [row] = await sql<{ id: string }[]>`
    insert into alerts (id, firm_id, client_id, key_id, type, period, threshold, data)
    values (${newId('evt')}, ${a.firmId}, ${a.clientId}, ${a.keyId}, ${a.type}, ${a.period}, ${a.threshold ?? 0}, ${sql.json((a.data ?? {}) as never)})
    on conflict do nothing
    returning id`
  return row?.id ?? null
}
