/**
 * @module Owns usage storage (usage_chunks, read as the usage_events view; see sql/017): batched inserts from the
 * meter and the aggregates behind usage reports (the CSV export reads it in usage-export.ts).
 */
import type { Pool, Sql } from '../shared/db.ts'
import { appendEntry } from './ledger.ts'
import { UsageBatch, type QueuedRow } from './usage-batch.ts'
import { inChunks, writeNew } from './usage-chunks.ts'

/** Token counts and money, of one request or summed over many. */
export interface Tallies {
  promptTokens: number
  completionTokens: number
  cachedTokens: number
  costNano: bigint
  markupNano: bigint
  billedNano: bigint
}

/** One usage event as written: the request's own (attempt 0) or one of its failed attempts. */
export interface UsageRow extends Tallies {
  id: string
  firmId: string
  clientId: string
  keyId: string
  endpoint: string
  modelRequested: string
  modelUsed: string | null
  provider: string | null
  status: number
  outcome: string
  errorCode: string | null
  usageEstimated: boolean
  stream: boolean
  latencyMs: number
  createdAt: Date
  /** 0 (or absent): the request's own event; n: its n-th failed attempt. */
  attempt?: number
}

/**
 * Writes rows. Rows of prepaid clients also debit their credit, for the rows that were new, in the same
 * transaction; returns the clients debited. Idempotent: an id already written is skipped (and not debited again),
 * so replays are harmless.
 */
export function insertUsage(sql: Pool, rows: readonly QueuedRow[]): Promise<string[]> {
  if (rows.length === 0) return Promise.resolve([])
  const batch = UsageBatch.of(rows)
  batch.mayRepeat = true
  return insertBatch(sql, batch, 0, rows.length)
}

/** As insertUsage, for rows from..to-1 of a queued batch. */
export async function insertBatch(sql: Pool, batch: UsageBatch, from: number, to: number): Promise<string[]> {
  if (to <= from) return []
  const rows = Array.from({ length: to - from }, (_, k) => from + k)
  if (!rows.some((i) => batch.debits(i))) {
    await writeNew(sql, batch, rows, (run) => run(sql))
    return []
  }
  return sql.begin(async (tx) => {
    const fresh = await writeNew(tx, batch, rows, (run) => tx.savepoint(run))
    const debits = new Map<string, { firmId: string; amount: bigint; count: number }>()
    for (const i of fresh) {
      if (!batch.debits(i)) continue
      const r = batch.row(i)
      const d = debits.get(r.clientId) ?? { firmId: r.firmId, amount: 0n, count: 0 }
      d.amount += r.billedNano
      d.count++
      debits.set(r.clientId, d)
    }
    for (const [clientId, d] of debits) {
      await appendEntry(tx, { clientId, firmId: d.firmId, kind: 'usage', amountNano: -d.amount, reason: `${d.count} request${d.count === 1 ? '' : 's'}`, actor: 'meter' })
    }
    return [...debits.keys()]
  })
}

/** Writes rows inside the caller's transaction (no prepaid debit: the caller books it); returns the ids new here. */
export async function insertUsageIn(tx: Sql, rows: readonly UsageRow[]): Promise<string[]> {
  if (rows.length === 0) return []
  const batch = UsageBatch.of(rows)
  batch.mayRepeat = true
  const fresh = await writeNew(tx, batch, rows.map((_, i) => i), (run) => run(tx))
  return fresh.map((i) => batch.id(i))
}

/** A time window [from, to) in absolute instants. */
export interface Window {
  from: Date
  to: Date
}

export interface UsageTotals extends Tallies {
  requests: number
}

export interface UsageReport extends UsageTotals {
  byDay: (UsageTotals & { date: string })[]
  byModel: (UsageTotals & { model: string })[]
  byKey: (UsageTotals & { keyId: string; keyPrefix: string | null })[]
}

interface AggRow {
  requests: bigint
  prompt_tokens: bigint | null
  completion_tokens: bigint | null
  cached_tokens: bigint | null
  cost_nano: bigint | null
  markup_nano: bigint | null
  billed_nano: bigint | null
}

const AGG = `count(*)::bigint as requests, sum(prompt_tokens)::bigint as prompt_tokens, sum(completion_tokens)::bigint as completion_tokens,
  sum(cached_tokens)::bigint as cached_tokens, sum(cost_nano)::bigint as cost_nano, sum(markup_nano)::bigint as markup_nano,
  sum(billed_nano)::bigint as billed_nano`

const totals = (r: AggRow | undefined): UsageTotals => ({
  requests: Number(r?.requests ?? 0n),
  promptTokens: Number(r?.prompt_tokens ?? 0n),
  completionTokens: Number(r?.completion_tokens ?? 0n),
  cachedTokens: Number(r?.cached_tokens ?? 0n),
  costNano: r?.cost_nano ?? 0n,
  markupNano: r?.markup_nano ?? 0n,
  billedNano: r?.billed_nano ?? 0n,
})

/** Totals and breakdowns by day (in `timezone`), model and key for one client over a window. */
export async function usageReport(sql: Sql, clientId: string, window: Window, timezone: string): Promise<UsageReport> {
  // Attempt events carry nothing billed; requests are counted by their own events.
  const where = sql`client_id = ${clientId} and ${inChunks(sql, window.from, window.to)} and created_at >= ${window.from} and created_at < ${window.to} and attempt = 0`
  const [all, days, models, keys] = await Promise.all([
    sql<AggRow[]>`select ${sql.unsafe(AGG)} from usage_events where ${where}`,
    sql<(AggRow & { day: string })[]>`
      select to_char((created_at at time zone ${timezone})::date, 'YYYY-MM-DD') as day, ${sql.unsafe(AGG)}
      from usage_events where ${where} group by 1 order by 1`,
    sql<(AggRow & { model: string })[]>`
      select coalesce(model_used, model_requested) as model, ${sql.unsafe(AGG)}
      from usage_events where ${where} group by 1 order by 1`,
    sql<(AggRow & { key_id: string; prefix: string | null })[]>`
      select key_id, (select prefix from api_keys k where k.id = key_id) as prefix, ${sql.unsafe(AGG)}
      from usage_events where ${where} group by key_id order by key_id`,
  ])
  return {
    ...totals(all[0]),
    byDay: days.map((r) => ({ date: r.day, ...totals(r) })),
    byModel: models.map((r) => ({ model: r.model, ...totals(r) })),
    byKey: keys.map((r) => ({ keyId: r.key_id, keyPrefix: r.prefix, ...totals(r) })),
  }
}

/** Billed nano-dollars since `from` for one key and for its whole client: the seeds of the spend counters. */
export async function spendSince(sql: Sql, q: { keyId: string; clientId: string; from: Date }): Promise<{ key: bigint; client: bigint }> {
  const [r] = await sql<{ key: bigint | null; client: bigint | null }[]>`
    select sum(billed_nano) filter (where key_id = ${q.keyId})::bigint as key, sum(billed_nano)::bigint as client
    from usage_events where client_id = ${q.clientId} and ${inChunks(sql, q.from, null)} and created_at >= ${q.from}`
  return { key: r?.key ?? 0n, client: r?.client ?? 0n }
}
