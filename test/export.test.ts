/** The usage export's order and paging against a real Postgres: a firm's clients merged, one client alone, the platform. */
import { beforeAll, expect, test } from 'bun:test'
import { exportUsage, type ExportFilter, type ExportRow } from '../src/billing/usage-export.ts'
import { insertUsage, type UsageRow } from '../src/billing/usage.ts'
import { postgresForFile } from './helpers/gateway.ts'

const pg = postgresForFile()
const window = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-04-01T00:00:00Z') }
const base = window.from.getTime()

const row = (i: number, firmId: string, clientId: string, at: number, id = `req_${String(i).padStart(4, '0')}`): UsageRow => ({
  id,
  firmId,
  clientId,
  keyId: `key_${clientId}`,
  endpoint: 'chat.completions',
  modelRequested: 'default',
  modelUsed: 'gpt-4o-mini',
  provider: 'openai',
  promptTokens: i,
  completionTokens: 1,
  cachedTokens: 0,
  costNano: BigInt(i),
  markupNano: 0n,
  billedNano: BigInt(i),
  status: 200,
  outcome: 'ok',
  errorCode: null,
  usageEstimated: false,
  stream: false,
  latencyMs: 1,
  createdAt: new Date(at),
})

const all = async (filter: ExportFilter, pageSize: number) => {
  const pages: ExportRow[][] = []
  for await (const p of exportUsage(pg.sql, filter, pageSize)) pages.push(p)
  return pages
}
const ids = (pages: ExportRow[][]) => pages.flat().map((r) => r.id)

beforeAll(async () => {
  await pg.sql`insert into firms (id, name) values ('firm_a', 'A'), ('firm_b', 'B')`
  await pg.sql`insert into clients (id, firm_id, name, slug) values ('cli_1', 'firm_a', 'One', 'one'), ('cli_2', 'firm_a', 'Two', 'two'), ('cli_3', 'firm_a', 'Three', 'three'), ('cli_4', 'firm_a', 'Quiet', 'quiet'), ('cli_9', 'firm_b', 'Other', 'other')`
  const rows: UsageRow[] = []
  // Interleaved across three clients, with ties on the millisecond (broken by id), one row outside the window, one in the other firm.
  for (let i = 0; i < 240; i++) rows.push(row(i, 'firm_a', `cli_${1 + ((i * 7) % 3)}`, base + Math.floor(i / 3) * 1000 + (i % 2)))
  rows.push(row(900, 'firm_a', 'cli_1', window.to.getTime()))
  rows.push(row(901, 'firm_b', 'cli_9', base + 5))
  // Ids that sort differently from their insertion: the tie-break is the id.
  rows.push(row(902, 'firm_a', 'cli_2', base, 'req_0000-a1'), row(903, 'firm_a', 'cli_3', base, 'req_0000-a10'), row(904, 'firm_a', 'cli_1', base, 'req_0000-a2'))
  // Written in small batches out of time order, as replicas' flushes land: each batch makes its own chunks (one
  // per client and minute), and chunks of one client overlap in time.
  const shuffled = rows.map((_, k) => rows[(k * 37) % rows.length]!)
  for (let k = 0; k < shuffled.length; k += 11) await insertUsage(pg.sql, shuffled.slice(k, k + 11))
  const [chunks] = await pg.sql<{ n: number }[]>`select count(*)::int as n from usage_chunks where firm_id = 'firm_a'`
  expect(chunks!.n).toBeGreaterThan(40)
})

test("a firm's export merges its clients in (time, id) order, exactly as one ordered query would, across page boundaries", async () => {
  const expected = (await pg.sql<{ id: string }[]>`select id from usage_events where firm_id = 'firm_a' and created_at >= ${window.from} and created_at < ${window.to} order by created_at, id`).map((r) => r.id)
  expect(expected).toHaveLength(243)
  for (const pageSize of [1, 7, 50, 2000]) {
    const pages = await all({ scope: 'firm_a', clientId: null, window }, pageSize)
    expect(ids(pages)).toEqual(expected)
    expect(pages.slice(0, -1).every((p) => p.length === pageSize)).toBe(true)
  }
  const first = (await all({ scope: 'firm_a', clientId: null, window }, 5))[0]![0]!
  expect(first).toMatchObject({ id: 'req_0000', client_name: 'One', key_prefix: null, billed_nano: 0n })
})

test('one client, the platform (no firm), and a window with nothing in it', async () => {
  const two = (await pg.sql<{ id: string }[]>`select id from usage_events where client_id = 'cli_2' and created_at >= ${window.from} and created_at < ${window.to} order by created_at, id`).map((r) => r.id)
  const pages = await all({ scope: 'firm_a', clientId: 'cli_2', window }, 9)
  expect(ids(pages)).toEqual(two)
  // A client's page ends where its chunks pass the page size: a few chunks' rows at most, never the whole client.
  expect(pages.length).toBeGreaterThan(3)
  expect(Math.max(...pages.map((p) => p.length))).toBeLessThan(9 + 3 * 11)
  const everyone = await all({ scope: null, clientId: null, window }, 100)
  expect(ids(everyone)).toHaveLength(244)
  expect(ids(everyone)).toContain('req_0901')
  expect(await all({ scope: 'firm_b', clientId: null, window }, 10)).toEqual([[expect.objectContaining({ id: 'req_0901', client_id: 'cli_9' })]])
  expect(await all({ scope: 'firm_a', clientId: null, window: { from: new Date('2020-01-01'), to: new Date('2020-02-01') } }, 10)).toEqual([])
})
