import { expect, test } from 'bun:test'
import { UsageBatch, type HeldRow, type QueuedRow } from './usage-batch.ts'
import { CHUNK_COLUMNS, CHUNK_META } from './usage-chunks.ts'

const row = (i: number, over: Partial<QueuedRow> = {}): HeldRow => ({
  id: `req_${i}`,
  firmId: 'firm_a',
  clientId: i % 2 ? 'cli_odd' : 'cli_even',
  keyId: 'key_a',
  endpoint: 'chat.completions',
  modelRequested: 'default',
  modelUsed: i % 3 ? 'gpt-4o-mini' : null,
  provider: i % 3 ? 'openai' : null,
  promptTokens: i,
  completionTokens: 2 * i,
  cachedTokens: 0,
  costNano: 9_007_199_254_740_993n + BigInt(i),
  markupNano: BigInt(i),
  billedNano: 9_007_199_254_740_993n + BigInt(2 * i),
  status: 200,
  outcome: 'ok',
  errorCode: i % 5 === 0 ? 'x"y\\z' : null,
  usageEstimated: i % 2 === 0,
  stream: i % 3 === 0,
  latencyMs: i,
  createdAt: new Date(1_764_000_000_000 + i),
  attempt: i % 4,
  prepaid: i % 7 === 0,
  ...over,
})

test('rows come back exactly as queued, across growth, with nulls and amounts past 2^53', () => {
  const rows = Array.from({ length: 1000 }, (_, i) => row(i))
  const b = new UsageBatch(4)
  for (const r of rows) b.push(r)
  expect(b.length).toBe(1000)
  expect(b.rows()).toEqual(rows)
  expect(b.slice(990).rows()).toEqual(rows.slice(990))
})

/** chunkParams as named arrays: CHUNK_META then CHUNK_COLUMNS. */
const params = (b: UsageBatch, rows: number[]) => {
  const p = b.chunkParams(rows)
  return Object.fromEntries([...CHUNK_META, ...CHUNK_COLUMNS].map(([name], i) => [name, p[i]!]))
}

test('chunks: one per client and minute, rows in their order; a column with one value for all rows goes once', () => {
  const minute = 60_000
  const at = (i: number, ms: number) => row(i, { createdAt: new Date(Math.floor(1_764_000_000_000 / minute) * minute + ms) })
  // even rows are one client, odd rows another; row 4 falls in the next minute
  const b = UsageBatch.of([at(0, 10), at(1, 20), at(2, 59_999), at(3, 30), at(4, 60_000), at(6, 5)])
  const p = params(b, [0, 1, 2, 3, 4, 5])
  expect(p.id).toBe('{req_0,req_1,req_4}')
  expect(p.client).toBe('{"cli_even","cli_odd","cli_even"}')
  expect(p.firm).toBe('{"firm_a","firm_a","firm_a"}')
  expect([p.s, p.e]).toEqual(['{1,4,6}', '{3,5,6}'])
  expect(p.ids).toBe('{req_0,req_2,req_6,req_1,req_3,req_4}')
  const base = Math.floor(1_764_000_000_000 / minute) * minute
  expect(p.t_min).toBe(`{${base + 5},${base + 20},${base + 60_000}}`)
  expect(p.t_max).toBe(`{${base + 59_999},${base + 30},${base + 60_000}}`)
  expect(p.status).toBe('{200}')
  expect(p.key_id).toBe('{"key_a"}')
  expect(p.prompt_tokens).toBe('{0,2,6,1,3,4}')
  expect(p.error_code).toBe('{"x\\"y\\\\z",NULL,NULL,NULL,NULL,NULL}')
  expect(p.cost_nano).toBe(`{${[0, 2, 6, 1, 3, 4].map((i) => 9_007_199_254_740_993n + BigInt(i)).join(',')}}`)
  // picked rows give what the same rows alone give
  expect(params(UsageBatch.of([at(1, 20), at(3, 30)]), [0, 1])).toEqual({ ...params(b, [1, 3]) })
})

test('an amount outside int64 or a count outside int32 is refused rather than wrapped', () => {
  const b = new UsageBatch()
  expect(() => b.push(row(1, { billedNano: 2n ** 63n }))).toThrow(RangeError)
  expect(() => b.push(row(1, { completionTokens: 2 ** 31 }))).toThrow(RangeError)
  expect(() => b.push(row(1, { promptTokens: 1.5 }))).toThrow(RangeError)
  expect(() => b.push(row(1, { markupNano: -(2n ** 63n) - 1n }))).toThrow(RangeError)
  expect(b.length).toBe(0)
  b.push(row(1, { promptTokens: 2 ** 31 - 1 }))
  expect(b.row(0).promptTokens).toBe(2 ** 31 - 1)
})

test('amounts at the edges of exact doubles and of int64 come back exactly', () => {
  const edges = [2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n), 0n]
  const rows = edges.map((v, i) => row(i, { costNano: v, markupNano: v === -(2n ** 63n) ? v : -v, billedNano: v }))
  expect(UsageBatch.of(rows).rows()).toEqual(rows)
})

test('debits: prepaid rows with a billed amount only', () => {
  const b = UsageBatch.of([row(7), row(14, { billedNano: 0n }), row(8)])
  expect([0, 1, 2].map((i) => b.debits(i))).toEqual([true, false, false])
})

test('request ids go unquoted; any id that needs quoting (or could read as NULL) quotes them all', () => {
  const ids = (list: string[]) => params(UsageBatch.of(list.map((id, i) => row(i, { id: id, clientId: 'cli_a' }))), list.map((_, i) => i)).ids
  expect(ids(['req_01ABC', 'req_01ABD', 'vid_x_y'])).toBe('{req_01ABC,req_01ABD,vid_x_y}')
  expect(ids(['req_1', 'a"b'])).toBe('{"req_1","a\\"b"}')
  expect(ids(['req_1', 'NULL'])).toBe('{"req_1","NULL"}')
  expect(ids(['req_1', 'x,y_'])).toBe('{"req_1","x,y_"}')
  expect(ids(['req 1'])).toBe('{"req 1"}')
  // Ids with several underscores give the check no choices to backtrack through: a long list that fails at its
  // last id still finishes (an exponential scan would not, within the test's timeout).
  const many = Array.from({ length: 20_000 }, (_, i) => `a_b_c_${i}`)
  expect(ids([...many, 'bad-'])).toStartWith('{"a_b_c_0"')
})
