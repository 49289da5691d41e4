/** The usage meter against a real Postgres: batches land, a dead database spills to disk, the next start replays. */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { UsageMeter, type UsageEvent } from '../src/billing/meter.ts'
import type { Database } from '../src/shared/db.ts'
import { openDatabase } from '../src/shared/db.ts'
import { newId } from '../src/shared/ids.ts'
import { postgresForFile, readyDb, testDb, until } from './helpers/gateway.ts'

const pg = postgresForFile()
const spillDir = mkdtempSync(join(tmpdir(), 'viapi-spill-'))

afterAll(() => rmSync(spillDir, { recursive: true, force: true }))

const event = (billed: bigint): UsageEvent => ({
  id: newId('req'),
  firmId: 'firm_x',
  clientId: 'cli_x',
  keyId: 'key_x',
  endpoint: 'chat.completions',
  modelRequested: 'default',
  modelUsed: 'gpt-4o-mini',
  provider: 'openai',
  promptTokens: 12,
  completionTokens: 18,
  cachedTokens: 0,
  costNano: billed,
  markupNano: 0n,
  billedNano: billed,
  status: 200,
  outcome: 'ok',
  errorCode: null,
  usageEstimated: false,
  stream: false,
  latencyMs: 3,
  createdAt: new Date(),
  prepaid: false,
})

test('events are written in batches and sums stay exact', async () => {
  const meter = new UsageMeter(pg.sql, { flushMs: 60_000, spillDir, batchSize: 7 })
  for (let i = 0; i < 50; i++) meter.record(event(9_007_199_254_740_993n)) // above 2^53: must not round
  await meter.drain()
  const [sum] = await pg.sql<{ n: bigint; total: bigint }[]>`select count(*)::bigint as n, sum(billed_nano)::bigint as total from usage_events where firm_id = 'firm_x'`
  expect(sum).toEqual({ n: 50n, total: 9_007_199_254_740_993n * 50n })
})

test('database unreachable at shutdown: events spill to disk and the next start replays them once', async () => {
  const dead = await openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none', dataDir: '' })
  const meter = new UsageMeter(dead.sql, { flushMs: 60_000, spillDir })
  const events = Array.from({ length: 5 }, () => event(1n))
  for (const e of events) meter.record(e)
  await meter.drain()
  await dead.close()
  expect(readdirSync(spillDir).filter((f) => f.endsWith('.jsonl'))).toHaveLength(1)

  const next = new UsageMeter(pg.sql, { flushMs: 60_000, spillDir })
  expect(await next.replaySpilled()).toBe(5)
  expect(readdirSync(spillDir)).toHaveLength(0)
  const ids = events.map((e) => e.id)
  const rows = await pg.sql`select id from usage_events where id in ${pg.sql(ids)}`
  expect(rows).toHaveLength(5)
})

test('past maxQueued the oldest half spills in one file, not a file per request', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'viapi-spill-bound-'))
  const dead = await openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none', dataDir: '' })
  try {
    const meter = new UsageMeter(dead.sql, { flushMs: 60_000, spillDir: dir, maxQueued: 10 })
    for (let i = 0; i < 26; i++) meter.record(event(1n))
    const files = readdirSync(dir).sort()
    // 11th event: 6 out, 5 kept; 17th: 6 more; 23rd: 6 more; 26 recorded, 18 on disk, 8 in memory.
    expect(files).toHaveLength(3)
    expect(files.every((f) => f.endsWith('.jsonl'))).toBe(true)
    expect(files.map((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n').length)).toEqual([6, 6, 6])
    expect(meter.queued).toBe(8)
  } finally {
    await dead.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a running meter writes what it spilled as soon as the database takes writes again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'viapi-spill-live-'))
  const meter = new UsageMeter(pg.sql, { flushMs: 20, spillDir: dir, maxQueued: 4 })
  try {
    const events = Array.from({ length: 5 }, () => event(1n))
    for (const e of events) meter.record(e) // the 5th spills 3
    expect(readdirSync(dir)).toHaveLength(1)
    meter.start()
    await until(async () => (await pg.sql`select id from usage_events where id in ${pg.sql(events.map((e) => e.id))}`).length === 5, 5_000, 'all five rows')
    await until(() => readdirSync(dir).length === 0, 5_000, 'the spill file gone')
  } finally {
    await meter.drain()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('replays at once from two workers write each row once; abandoned claims, half-written files and a torn line are handled', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'viapi-spill-race-'))
  try {
    const exited = Bun.spawn(['true'])
    await exited.exited
    const deadPid = exited.pid
    const a = Array.from({ length: 40 }, () => event(1n))
    const b = Array.from({ length: 3 }, () => event(1n))
    const c = Array.from({ length: 2 }, () => event(1n))
    const d = [event(1n)]
    const line = (e: UsageEvent) => JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
    writeFileSync(join(dir, `usage-1-${process.pid}-aaaa.jsonl`), a.map(line).join('\n') + '\n{"id":"req_torn","firm')
    // Claimed by a replayer that died before finishing.
    writeFileSync(join(dir, `usage-2-${process.pid}-bbbb.jsonl.${deadPid}-x1.replaying`), b.map(line).join('\n') + '\n')
    // Claimed under this very pid by a replay that is not running: what a restarted container (same pid) finds.
    writeFileSync(join(dir, `usage-3-${process.pid}-cccc.jsonl.${process.pid}-gone.replaying`), c.map(line).join('\n') + '\n')
    // Left half-way through its writing by an earlier process with this pid.
    writeFileSync(join(dir, `usage-4-${process.pid}-dddd.jsonl.tmp`), d.map(line).join('\n') + '\n')
    const one = new UsageMeter(pg.sql, { flushMs: 60_000, spillDir: dir, batchSize: 5 })
    const two = new UsageMeter(pg.sql, { flushMs: 60_000, spillDir: dir, batchSize: 5 })
    const [n1, n2] = await Promise.all([one.replaySpilled(), two.replaySpilled()])
    expect(n1 + n2).toBe(46)
    expect(readdirSync(dir)).toEqual([])
    const rows = await pg.sql`select id from usage_events where id in ${pg.sql([...a, ...b, ...c, ...d].map((e) => e.id))}`
    expect(rows).toHaveLength(46)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a flush that fails keeps the events queued for the next attempt', async () => {
  const dead = await openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none', dataDir: '' })
  const meter = new UsageMeter(dead.sql, { flushMs: 60_000, spillDir })
  meter.record(event(1n))
  await meter.flush()
  expect(meter.queued).toBe(1)
  await dead.close()
})

test('prepaid rows debit credit once, even when the same batch is written again', async () => {
  const { bootstrap } = await import('../src/tenancy/bootstrap.ts')
  const fx = await bootstrap(pg.sql, { firmName: 'Pre', email: 'pre@x.test', demo: true, demoTarget: 'mock:mock-1' })
  await pg.sql`insert into credit_accounts (client_id, firm_id, balance_nano) values (${fx.client_id!}, ${fx.firm_id}, 1000000)`
  const events = Array.from({ length: 3 }, () => ({ ...event(10_000n), clientId: fx.client_id!, firmId: fx.firm_id, prepaid: true }))
  const postpaid = { ...event(99_999n), clientId: fx.client_id!, firmId: fx.firm_id, prepaid: false }
  const meter = new UsageMeter(pg.sql, { flushMs: 60_000, spillDir })
  for (const e of [...events, postpaid]) meter.record(e)
  await meter.drain()
  const again = new UsageMeter(pg.sql, { flushMs: 60_000, spillDir })
  for (const e of events) again.record(e)
  await again.drain()
  const [acct] = await pg.sql<{ balance_nano: bigint }[]>`select balance_nano from credit_accounts where client_id = ${fx.client_id!}`
  expect(acct!.balance_nano).toBe(1_000_000n - 30_000n)
})

test('text survives the array literals exactly: quotes, backslashes, tabs, newlines, commas, braces, "NULL", unicode, null', async () => {
  const tricky = ['a"b', 'back\\slash', 'c,d', '{e}', 'NULL', '\\N', 'tab\there', 'line\nbreak\r', 'ünï €', ' spaced ', '', 'x\\"y']
  const events = tricky.map((t) => ({ ...event(1n), modelRequested: t, errorCode: t === 'NULL' ? null : t }))
  const meter = new UsageMeter(pg.sql, { flushMs: 60_000, spillDir })
  for (const e of events) meter.record(e)
  await meter.drain()
  const rows = await pg.sql<{ id: string; model_requested: string; error_code: string | null }[]>`select id, model_requested, error_code from usage_events where id in ${pg.sql(events.map((e) => e.id))}`
  const byId = new Map(rows.map((r) => [r.id, r]))
  for (const e of events) expect(byId.get(e.id)).toEqual({ id: e.id, model_requested: e.modelRequested, error_code: e.errorCode })
})

/** Writes a few varied events through a meter and reads every column back as the meter's own event shape. */
async function roundTrip(sql: Database['sql']): Promise<void> {
  const base = event(9_007_199_254_740_993n)
  const events: UsageEvent[] = [
    { ...base, createdAt: new Date('2026-11-27T01:02:03.004Z') },
    { ...event(0n), modelUsed: null, provider: null, status: 502, outcome: 'upstream_error', errorCode: 'upstream_unreachable', usageEstimated: true, stream: true, attempt: 2, latencyMs: 12_345, createdAt: new Date('2026-01-01T00:00:00.999Z') },
    { ...event(3n), endpoint: 'images.generations', modelRequested: 'gpt-image-1', cachedTokens: 7, markupNano: 1n, createdAt: new Date(Date.now()) },
  ]
  const meter = new UsageMeter(sql, { flushMs: 60_000, spillDir })
  for (const e of events) meter.record(e)
  await meter.drain()
  const rows = await sql<Record<string, unknown>[]>`select * from usage_events where id in ${sql(events.map((e) => e.id))}`
  const byId = new Map(rows.map((r) => [r.id as string, r]))
  for (const e of events) {
    const r = byId.get(e.id)!
    expect({
      id: r.id, firmId: r.firm_id, clientId: r.client_id, keyId: r.key_id, endpoint: r.endpoint, modelRequested: r.model_requested, modelUsed: r.model_used,
      provider: r.provider, promptTokens: r.prompt_tokens, completionTokens: r.completion_tokens, cachedTokens: r.cached_tokens, costNano: r.cost_nano,
      markupNano: r.markup_nano, billedNano: r.billed_nano, status: r.status, outcome: r.outcome, errorCode: r.error_code, usageEstimated: r.usage_estimated,
      stream: r.stream, latencyMs: r.latency_ms, createdAt: r.created_at, attempt: r.attempt, prepaid: false,
    }).toEqual({ attempt: 0, ...e })
  }
}

test('every column comes back exactly as recorded: times to the millisecond, amounts past 2^53, nulls, flags', async () => {
  await roundTrip(pg.sql)
})

test('embedded Postgres: every column comes back exactly too', async () => {
  const emb = await testDb('embedded')
  const c = await readyDb(emb)
  try {
    await roundTrip(c.sql)
  } finally {
    await c.close()
    await emb.drop()
  }
})

/** Writes one event, then a batch holding it again and a new one (a replay); returns what the table holds of them. */
async function replay(sql: Database['sql']): Promise<{ ids: [string, string]; rows: { id: string; billed_nano: bigint }[] }> {
  const [old, fresh] = [event(5n), event(7n)]
  const first = new UsageMeter(sql, { flushMs: 60_000, spillDir })
  first.record(old)
  await first.drain()
  const second = new UsageMeter(sql, { flushMs: 60_000, spillDir })
  second.record(old)
  second.record(fresh)
  await second.drain()
  expect(second.queued).toBe(0)
  const rows = await sql<{ id: string; billed_nano: bigint }[]>`select id, billed_nano from usage_events where id in ${sql([old.id, fresh.id])} order by billed_nano`
  return { ids: [old.id, fresh.id], rows: [...rows] }
}

test('a batch that meets ids already written still writes the new ones, once', async () => {
  const { ids, rows } = await replay(pg.sql)
  expect(rows).toEqual([{ id: ids[0], billed_nano: 5n }, { id: ids[1], billed_nano: 7n }])
})

test('embedded Postgres: a replayed batch falls back the same way (the conflict arrives as SQLSTATE 23505 there too)', async () => {
  const emb = await testDb('embedded')
  const c = await readyDb(emb)
  try {
    const { ids, rows } = await replay(c.sql)
    expect(rows).toEqual([{ id: ids[0], billed_nano: 5n }, { id: ids[1], billed_nano: 7n }])
  } finally {
    await c.close()
    await emb.drop()
  }
})

test('spill files in the earlier snake_case shape still replay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'viapi-spill-old-'))
  const id = newId('req')
  const line = { prepaid: false, id, firm_id: 'firm_x', client_id: 'cli_x', key_id: 'key_x', endpoint: 'chat.completions', model_requested: 'default', model_used: null, provider: null, prompt_tokens: 1, completion_tokens: 2, cached_tokens: 0, cost_nano: '9007199254740993', markup_nano: '0', billed_nano: '9007199254740993', status: 200, outcome: 'ok', error_code: null, usage_estimated: true, stream: true, latency_ms: 4, created_at: '2026-01-02T03:04:05.000Z' }
  await Bun.write(join(dir, 'usage-1-1-old.jsonl'), JSON.stringify(line) + '\n')
  const meter = new UsageMeter(pg.sql, { flushMs: 60_000, spillDir: dir })
  expect(await meter.replaySpilled()).toBe(1)
  const [row] = await pg.sql<{ billed_nano: bigint; usage_estimated: boolean; created_at: Date; attempt: number }[]>`select billed_nano, usage_estimated, created_at, attempt from usage_events where id = ${id}`
  expect(row).toEqual({ billed_nano: 9_007_199_254_740_993n, usage_estimated: true, created_at: new Date('2026-01-02T03:04:05.000Z'), attempt: 0 })
  expect(readdirSync(dir)).toEqual([])
  rmSync(dir, { recursive: true, force: true })
})

test('a window edge inside a chunk: spend and reports count the events on its side only, from the chunks that can hold them', async () => {
  const { spendSince, usageReport } = await import('../src/billing/usage.ts')
  const minute = Date.parse('2026-05-05T10:07:00Z')
  const at = (ms: number, billed: bigint) => ({ ...event(billed), clientId: 'cli_edge', keyId: 'key_edge', createdAt: new Date(minute + ms) })
  // One chunk (one client, one minute, one flush) holding both sides of the edge, one chunk a minute earlier, one later.
  const meter = new UsageMeter(pg.sql, { flushMs: 60_000, spillDir })
  for (const e of [at(-30_000, 1n), at(5_000, 10n), at(20_000, 100n), at(59_999, 1000n), at(61_000, 10_000n)]) meter.record(e)
  await meter.drain()
  const chunks = await pg.sql<{ n: number }[]>`select n from usage_chunks where client_id = 'cli_edge' order by t_min`
  expect(chunks.map((c) => c.n)).toEqual([1, 3, 1])
  const edge = new Date(minute + 10_000)
  expect(await spendSince(pg.sql, { keyId: 'key_edge', clientId: 'cli_edge', from: edge })).toEqual({ key: 11_100n, client: 11_100n })
  const report = await usageReport(pg.sql, 'cli_edge', { from: new Date(minute - 40_000), to: edge }, 'UTC')
  expect([report.requests, report.billedNano]).toEqual([2, 11n])
})
