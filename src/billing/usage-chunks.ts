/**
 * @module Usage chunks (sql/017): a flush's events of one client and minute in one row, their values as arrays.
 * How a batch goes in (one statement for all its chunks), how a write that may repeat skips what is stored, and
 * how a reader bounds the chunks it unpacks.
 */
import type { Sql } from '../shared/db.ts'
import type { UsageBatch } from './usage-batch.ts'

/**
 * The usage_chunks columns that hold one value per event, in the order the chunk insert sends them (see
 * insertChunks below), with their element types. Times go as epoch milliseconds.
 */
export const CHUNK_COLUMNS = [
  ['ids', 'text'],
  ['key_id', 'text'],
  ['endpoint', 'text'],
  ['model_requested', 'text'],
  ['model_used', 'text'],
  ['provider', 'text'],
  ['prompt_tokens', 'int'],
  ['completion_tokens', 'int'],
  ['cached_tokens', 'int'],
  ['cost_nano', 'bigint'],
  ['markup_nano', 'bigint'],
  ['billed_nano', 'bigint'],
  ['status', 'int'],
  ['outcome', 'text'],
  ['error_code', 'text'],
  ['usage_estimated', 'bool'],
  ['stream', 'bool'],
  ['latency_ms', 'int'],
  ['created_ms', 'bigint'],
  ['attempt', 'int'],
] as const

/** Per chunk, before the columns: its id, firm, client, first and last time, and its rows' span (1-based, inclusive) in the column arrays. */
export const CHUNK_META = [
  ['id', 'text'],
  ['firm', 'text'],
  ['client', 'text'],
  ['t_min', 'bigint'],
  ['t_max', 'bigint'],
  ['s', 'int'],
  ['e', 'int'],
] as const

/** A chunk holds one client's events within one minute: readers of a window look only at chunks that can hold it. */
export const CHUNK_SPAN_MS = 60_000

const NEEDS_ESCAPE = /["\\]/
/** Comma-separated elements that each hold an underscore and only letters, digits and underscores: never empty, never NULL. */
const PLAIN_IDS = /^[A-Za-z0-9]*_\w*(?:,[A-Za-z0-9]*_\w*)*$/

/** A text element of a Postgres array literal: quoted, with quotes and backslashes escaped; NULL unquoted. */
export function arrayElement(v: string | null): string {
  if (v === null) return 'NULL'
  return NEEDS_ESCAPE.test(v) ? `"${v.replace(/[\\"]/g, '\\$&')}"` : `"${v}"`
}

/** Request ids (a prefix, an underscore, base32) as an array literal: unquoted when one scan of the joined list says none needs quotes. */
export function idList(ids: string[]): string {
  const bare = ids.join(',')
  return `{${PLAIN_IDS.test(bare) ? bare : ids.map(arrayElement).join(',')}}`
}

// One statement writes a batch's chunks: each chunk's columns are slices of one array parameter per column (a
// column with one value for the whole batch is stored as that value), and its metadata comes from the CHUNK_META
// arrays, unnested together. The batch costs a few dozen parameters and one tuple per chunk.
const META = CHUNK_META.length
const column = ([, type]: (typeof CHUNK_COLUMNS)[number], i: number) => {
  const p = `$${META + i + 1}::${type}[]`
  return `case when cardinality(${p}) = 1 then ${p} else (${p})[b.s:b.e] end`
}
const fromMs = (c: string) => `timestamptz 'epoch' + b.${c} * interval '1 millisecond'`
const INSERT_CHUNKS = `insert into usage_chunks (id, firm_id, client_id, t_min, t_max, n, ${CHUNK_COLUMNS.map(([c]) => c).join(', ')})
  select b.id, b.firm, b.client, ${fromMs('t_min')}, ${fromMs('t_max')}, b.e - b.s + 1, ${CHUNK_COLUMNS.map(column).join(', ')}
  from unnest(${CHUNK_META.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')}) as b(${CHUNK_META.map(([c]) => c).join(', ')})`

const isUniqueViolation = (err: unknown) => (err as { code?: unknown } | null)?.code === '23505'

/** Runs a statement that may fail on a conflict without ending the transaction it is in (a savepoint there). */
type Guard = (run: (sql: Sql) => Promise<unknown>) => Promise<unknown>

function insertChunks(sql: Sql, batch: UsageBatch, rows: readonly number[]): Promise<unknown> {
  return rows.length === 0 ? Promise.resolve() : sql.unsafe(INSERT_CHUNKS, batch.chunkParams(rows) as never, { prepare: true })
}

/**
 * Of these rows, those not stored yet (and each id once). A row's chunk is its client's, with t_min within a
 * minute before the row's time, so only those chunks are searched, and only those holding one of the ids unpacked.
 */
async function unwritten(sql: Sql, batch: UsageBatch, rows: readonly number[]): Promise<number[]> {
  if (rows.length === 0) return []
  const ids = rows.map((i) => batch.id(i))
  const clients = [...new Set(rows.map((i) => batch.clientId(i)))]
  let lo = Infinity
  let hi = -Infinity
  for (const i of rows) {
    lo = Math.min(lo, batch.time(i))
    hi = Math.max(hi, batch.time(i))
  }
  const stored = await sql<{ id: string }[]>`
    select x.id from usage_chunks c, unnest(c.ids) as x(id)
    where c.client_id = any(${clients}::text[]) and c.t_min > ${new Date(lo - CHUNK_SPAN_MS)} and c.t_min <= ${new Date(hi)}
      and c.ids && ${ids}::text[] and x.id = any(${ids}::text[])`
  const seen = new Set(stored.map((r) => r.id))
  return rows.filter((i) => !seen.has(batch.id(i)) && (seen.add(batch.id(i)), true))
}

/**
 * Stores the rows not stored yet; returns those it stored. A batch written for the first time goes in one insert;
 * if a chunk of it is there already (its commit went unacknowledged and this is the retry) or the batch is marked
 * as possibly written before (a retry, a spill file), the ids already stored are looked up and skipped.
 */
export async function writeNew(sql: Sql, batch: UsageBatch, rows: readonly number[], guard: Guard): Promise<readonly number[]> {
  if (!batch.mayRepeat) {
    try {
      await guard((s) => insertChunks(s, batch, rows))
      return rows
    } catch (err) {
      if (!isUniqueViolation(err)) throw err
    }
  }
  const fresh = await unwritten(sql, batch, rows)
  await insertChunks(sql, batch, fresh)
  return fresh
}

/**
 * Chunks that can hold events of [from, to): t_min within a minute before `from` (the client index finds them)
 * and t_max not before it. For queries on the usage_events view.
 */
export const inChunks = (sql: Sql, from: Date, to: Date | null) =>
  sql`chunk_at > ${new Date(from.getTime() - CHUNK_SPAN_MS)} and chunk_end >= ${from} ${to ? sql`and chunk_at < ${to}` : sql``}`

