/** Upgrading to chunked usage storage (sql/017): rows written by earlier versions come through the view unchanged. */
import { expect, test } from 'bun:test'
import { insertUsage, type UsageRow } from '../src/billing/usage.ts'
import type { Pool } from '../src/shared/db.ts'
import { listMigrations, migrate } from '../src/shared/migrate.ts'
import { testDb, type DbMode } from './helpers/gateway.ts'

const minute = Date.parse('2026-06-01T12:00:00Z')
/** Row i of three minutes' worth over two clients, so each client's rows make several chunks; nulls and failures mixed in. */
const row = (i: number, over: Partial<UsageRow> = {}): UsageRow => {
  const ok = i % 7 !== 0
  const routed = i % 4 !== 0
  return {
    ...{ id: `req_old${String(i).padStart(3, '0')}`, firmId: 'firm_u', clientId: i % 3 ? 'cli_a' : 'cli_b', keyId: i % 2 ? 'key_1' : 'key_2' },
    ...{ endpoint: 'chat.completions', modelRequested: 'default', modelUsed: routed ? 'gpt-4o' : null, provider: routed ? 'openai' : null },
    ...{ promptTokens: i, completionTokens: 2 * i, cachedTokens: i % 5, costNano: 9_007_199_254_740_993n + BigInt(i), markupNano: BigInt(i), billedNano: BigInt(3 * i) },
    ...{ status: ok ? 200 : 502, outcome: ok ? 'ok' : 'upstream_error', errorCode: ok ? null : 'upstream_unreachable', usageEstimated: i % 2 === 0 },
    ...{ stream: i % 3 === 0, latencyMs: 10 + i, createdAt: new Date(minute + i * 7_001), attempt: i % 6 === 5 ? 1 : 0 },
    ...over,
  }
}

const asStored = (r: UsageRow) => ({
  id: r.id, firm_id: r.firmId, client_id: r.clientId, key_id: r.keyId, endpoint: r.endpoint, model_requested: r.modelRequested,
  model_used: r.modelUsed, provider: r.provider, prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens,
  cached_tokens: r.cachedTokens, cost_nano: r.costNano, markup_nano: r.markupNano, billed_nano: r.billedNano, status: r.status,
  outcome: r.outcome, error_code: r.errorCode, usage_estimated: r.usageEstimated, stream: r.stream, latency_ms: r.latencyMs,
  created_at: r.createdAt, attempt: r.attempt ?? 0,
})

const COLS = 'id, firm_id, client_id, key_id, endpoint, model_requested, model_used, provider, prompt_tokens, completion_tokens, cached_tokens, cost_nano, markup_nano, billed_nano, status, outcome, error_code, usage_estimated, stream, latency_ms, created_at, attempt'

async function upgrade(sql: Pool): Promise<void> {
  const all = listMigrations()
  await migrate(sql, all.filter((m) => m.version < 17))
  const old = Array.from({ length: 26 }, (_, i) => row(i))
  // As the table was written before: a row per event.
  for (const r of old) await sql`insert into usage_events ${sql(asStored(r))}`
  expect(await migrate(sql, all)).toContain('017_usage_chunks.sql')
  const back = await sql`select ${sql.unsafe(COLS)} from usage_events order by id`
  expect([...back]).toEqual(old.map(asStored))
  // One chunk per client and minute, each within its minute.
  const chunks = await sql<{ client_id: string; n: number; span: number }[]>`
    select client_id, n, extract(epoch from t_max - t_min)::float8 as span from usage_chunks order by client_id, t_min`
  expect(chunks.map((c) => c.client_id)).toEqual(['cli_a', 'cli_a', 'cli_a', 'cli_b', 'cli_b', 'cli_b'])
  expect(chunks.reduce((n, c) => n + c.n, 0)).toBe(26)
  expect(chunks.every((c) => c.span < 60)).toBe(true)
  // Written after the upgrade: an id the old table held is skipped, a new one lands beside them.
  await insertUsage(sql, [row(3, { billedNano: 999n }), row(100)])
  const [sum] = await sql<{ n: number; billed: bigint }[]>`select count(*)::int as n, sum(billed_nano)::bigint as billed from usage_events`
  expect(sum).toEqual({ n: 27, billed: old.reduce((s, r) => s + r.billedNano, 0n) + 300n })
}

for (const mode of ['postgres', 'embedded'] as DbMode[]) {
  test(`${mode}: usage written before the upgrade reads back exactly through the view, and replays of it are skipped`, async () => {
    const db = await testDb(mode)
    const conn = await db.connect()
    try {
      await upgrade(conn.sql)
    } finally {
      await conn.close()
      await db.drop()
    }
  })
}
