/**
 * @module Owns the alerts table: firm-facing events (thresholds crossed, caps reached, reloads), each once per
 * period, and their delivery state for the firm's webhook.
 */
import type { Pool, Sql } from '../shared/db.ts'
import { inFirm, type FirmScope } from '../tenancy/scope.ts'
import { newId } from '../shared/ids.ts'

export type AlertType = 'spending_limit.threshold_crossed' | 'key.cap_reached' | 'credits.low_balance' | 'auto_reload.succeeded' | 'auto_reload.failed' | 'payment.failed' | 'video_job.completed' | 'video_job.failed'

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

export interface Alert {
  id: string
  firmId: string
  clientId: string | null
  keyId: string | null
  type: string
  period: string
  threshold: number
  data: Record<string, unknown>
  createdAt: Date
  deliveredAt: Date | null
  attempts: number
  lastError: string | null
}

interface AlertRow {
  id: string
  firm_id: string
  client_id: string | null
  key_id: string | null
  type: string
  period: string
  threshold: number
  data: Record<string, unknown>
  created_at: Date
  delivered_at: Date | null
  attempts: number
  last_error: string | null
}

const toAlert = (r: AlertRow): Alert => ({
  id: r.id,
  firmId: r.firm_id,
  clientId: r.client_id,
  keyId: r.key_id,
  type: r.type,
  period: r.period,
  threshold: r.threshold,
  data: r.data,
  createdAt: r.created_at,
  deliveredAt: r.delivered_at,
  attempts: r.attempts,
  lastError: r.last_error,
})

/** Newest first; `after` is the last id of the previous page. */
export async function listAlerts(sql: Sql, scope: FirmScope, page: { after: string | null; limit: number }): Promise<Alert[]> {
  const rows = await sql<AlertRow[]>`
    select * from alerts where true ${inFirm(sql, scope)} ${page.after ? sql`and id < ${page.after}` : sql``}
    order by id desc limit ${page.limit}`
  return rows.map(toAlert)
}

export interface DueDelivery {
  alert: Alert
  url: string
  secret: string
}

/**
 * Claims alerts due for delivery to their firm's webhook, for `leaseMs` (so other replicas skip them meanwhile).
 * Only alerts raised since the webhook was set, and fewer than `maxAttempts` tries so far.
 */
export async function claimDeliveries(sql: Pool, o: { limit: number; leaseMs: number; maxAttempts: number }): Promise<DueDelivery[]> {
  const rows = await sql<(AlertRow & { webhook_url: string; webhook_secret: string })[]>`
    with due as (
      select a.id from alerts a join firms f on f.id = a.firm_id
      where a.delivered_at is null and a.next_attempt_at <= now() and a.attempts < ${o.maxAttempts}
        and f.webhook_url is not null and a.created_at >= f.webhook_set_at
      order by a.next_attempt_at limit ${o.limit}
      for update of a skip locked)
    update alerts set next_attempt_at = now() + ${o.leaseMs} * interval '1 millisecond'
    from due, firms f where alerts.id = due.id and f.id = alerts.firm_id
    returning alerts.*, f.webhook_url, f.webhook_secret`
  return rows.map((r) => ({ alert: toAlert(r), url: r.webhook_url, secret: r.webhook_secret }))
}

export async function markDelivered(sql: Sql, id: string): Promise<void> {
  await sql`update alerts set delivered_at = now(), attempts = attempts + 1, last_error = null where id = ${id}`
}

export async function markFailed(sql: Sql, id: string, error: string, retryInMs: number): Promise<void> {
  await sql`update alerts set attempts = attempts + 1, last_error = ${error.slice(0, 500)}, next_attempt_at = now() + ${retryInMs} * interval '1 millisecond' where id = ${id}`
}
