import { expect, test } from 'bun:test'
import { UsageBatch, type HeldRow, type QueuedRow } from './usage-batch.ts'

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

test('picked rows give the same array literals as the same rows in a range; text goes once, in the dictionary', () => {
  const b = UsageBatch.of(Array.from({ length: 20 }, (_, i) => row(i)))
  expect(b.literalsAt([5, 6, 7])).toEqual(b.literals(5, 8))
  const lit = b.literals(5, 6)
  expect(lit[0]).toBe('{req_5}')
  expect(lit[13]).toBe(`{${9_007_199_254_740_993n + 10n}}`)
  expect(lit[20]).toBe('{1764000000005}')
  const dict = lit[22]!
  // provider and error code: 1-based indexes into the dictionary (quoted and escaped there once), 0 for NULL
  const word = (col: number) => JSON.parse(`[${dict.slice(1, -1)}]`)[Number(lit[col]!.slice(1, -1)) - 1]
  expect(word(7)).toBe('openai')
  expect(word(16)).toBe('x"y\\z')
  expect(b.literals(6, 7)[7]).toBe('{0}')
  // a column with one value throughout goes as that value alone (firm: dictionary index 1; status 200)
  const all = b.literals(0, 20)
  expect([all[1], all[14]]).toEqual(['{1}', '{200}'])
  expect(all[8]!.split(',')).toHaveLength(20)
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
  const ids = (list: string[]) => UsageBatch.of(list.map((id, i) => row(i, { id }))).literals(0, list.length)[0]
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
