/** @module Usage reports for admins and for a client's own key: windows in the firm's timezone. */
import { usageReport, type UsageReport, type Window } from '../billing/usage.ts'
import type { Sql } from '../shared/db.ts'
import { InvalidRequest } from '../shared/errors.ts'
import { getClient } from '../tenancy/clients.ts'
import { getFirm } from '../tenancy/firms.ts'
import { found, scopeOf, type Actor } from './actor.ts'
import type { AdminDeps } from './context.ts'

const DAY = /^\d{4}-\d{2}-\d{2}$/

export interface ResolvedWindow extends Window {
  /** As given, or the day the default window starts/ends on (YYYY-MM-DD). */
  fromLabel: string
  toLabel: string
}

function check(value: string, field: string): void {
  const ok = DAY.test(value) ? !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) : /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value))
  if (!ok) throw new InvalidRequest(`${field}: must be a date (YYYY-MM-DD) or an ISO 8601 date-time`, field, 'validation_failed')
}

/**
 * Days are whole days in `timezone`, both ends inclusive; date-times are exact instants, `to` exclusive.
 * Without `from`, the current month's first day; without `to`, its last.
 */
export async function resolveWindow(sql: Sql, timezone: string, from?: string | null, to?: string | null): Promise<ResolvedWindow> {
  if (from) check(from, 'from')
  if (to) check(to, 'to')
  const fromDay = from && DAY.test(from) ? from : null
  const toDay = to && DAY.test(to) ? to : null
  const [r] = await sql<{ from_at: Date; to_at: Date; from_label: string; to_label: string }[]>`
    with month as (select date_trunc('month', now() at time zone ${timezone})::date as first)
    select
      ${from && !fromDay ? sql`${from}::timestamptz` : sql`(coalesce(${fromDay}::date, (select first from month)))::timestamp at time zone ${timezone}`} as from_at,
      ${to && !toDay ? sql`${to}::timestamptz` : sql`(coalesce(${toDay}::date, (select first from month) + interval '1 month' - interval '1 day')::date + 1)::timestamp at time zone ${timezone}`} as to_at,
      to_char(coalesce(${fromDay}::date, (select first from month)), 'YYYY-MM-DD') as from_label,
      to_char(coalesce(${toDay}::date, ((select first from month) + interval '1 month' - interval '1 day')::date), 'YYYY-MM-DD') as to_label`
  const w = r!
  if (w.to_at <= w.from_at) throw new InvalidRequest('to: must not be before from', 'to', 'validation_failed')
  return { from: w.from_at, to: w.to_at, fromLabel: from && !fromDay ? from : w.from_label, toLabel: to && !toDay ? to : w.to_label }
}

export async function clientUsage(sql: Sql, clientId: string, firmId: string, from?: string | null, to?: string | null): Promise<{ window: ResolvedWindow; report: UsageReport }> {
  const firm = found(await getFirm(sql, firmId), 'firm')
  const window = await resolveWindow(sql, firm.timezone, from, to)
  return { window, report: await usageReport(sql, clientId, window, firm.timezone) }
}

export async function usageFor(deps: AdminDeps, actor: Actor, clientId: string, from?: string | null, to?: string | null) {
  const client = found(await getClient(deps.sql, scopeOf(actor), clientId), 'client')
  return clientUsage(deps.sql, client.id, client.firmId, from, to)
}
