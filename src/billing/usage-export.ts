/**
 * @module Usage rows for the CSV export, in (time, request id) order, one page at a time: constant memory, never
 * one long-held connection. Usage is stored in chunks, indexed by client and first time (see sql/017), so every
 * page is one client's: a page is every row from its start up to the first time of a chunk past about `limit`
 * rows, which makes it complete to that point. A firm's export, or the platform's, merges its clients' pages.
 */
import type { Sql } from '../shared/db.ts'
import { inFirm, type FirmScope } from '../tenancy/scope.ts'
import { CHUNK_SPAN_MS, inChunks } from './usage-chunks.ts'
import type { Window } from './usage.ts'

/** A usage row as the export reads it (column names as stored). */
export interface ExportRow {
  created_at: Date
  id: string
  client_id: string
  client_name: string | null
  key_prefix: string | null
  model_requested: string
  model_used: string | null
  provider: string | null
  prompt_tokens: number
  completion_tokens: number
  cached_tokens: number
  cost_nano: bigint
  markup_nano: bigint
  billed_nano: bigint
  status: number
  stream: boolean
}

export interface ExportFilter {
  scope: FirmScope
  clientId: string | null
  window: Window
}

/** Rows held in memory at once by a merge, over all its clients (each holds at least MIN_CLIENT_PAGE). */
const MERGE_ROWS = 20_000
const MIN_CLIENT_PAGE = 50

/** One client's rows in [from, until), in order; `until` is where the next page starts (the window's end: the last). */
interface Page {
  rows: ExportRow[]
  until: Date
}

/**
 * The client's rows from `from` on, up to where its chunks from there hold about `limit` rows: `until` is the
 * first time of the first chunk past them (later than `from`), or the window's end. Every row before `until` is in
 * a chunk that starts before it, so the page holds them all.
 */
async function page(sql: Sql, f: ExportFilter, clientId: string, from: Date, limit: number): Promise<Page> {
  const [bound] = await sql<{ t_min: Date }[]>`
    select t_min from (
      select t_min, sum(n) over (order by t_min) - n as before
      from usage_chunks
      where client_id = ${clientId} and t_min > ${new Date(from.getTime() - CHUNK_SPAN_MS)} and t_min < ${f.window.to} and t_max >= ${from}
    ) w
    where before >= ${limit} and t_min > ${from}
    limit 1`
  const until = bound?.t_min ?? f.window.to
  const rows = await sql<ExportRow[]>`
    select u.created_at, u.id, u.client_id, c.name as client_name, k.prefix as key_prefix, u.model_requested, u.model_used,
           u.provider, u.prompt_tokens, u.completion_tokens, u.cached_tokens, u.cost_nano, u.markup_nano, u.billed_nano,
           u.status, u.stream
    from usage_events u left join clients c on c.id = u.client_id left join api_keys k on k.id = u.key_id
    where u.client_id = ${clientId} and ${inChunks(sql, from, until)} and u.created_at >= ${from} and u.created_at < ${until}
      ${inFirm(sql, f.scope, 'u.firm_id')}
    order by u.created_at, u.id`
  return { rows, until }
}

/** Yields export rows in (time, id) order, about `pageSize` at a time. */
export async function* exportUsage(sql: Sql, filter: ExportFilter, pageSize = 2000): AsyncGenerator<ExportRow[]> {
  const { from, to } = filter.window
  const span = sql`t_min > ${new Date(from.getTime() - CHUNK_SPAN_MS)} and t_min < ${to} and t_max >= ${from}`
  const clients = filter.clientId
    ? [filter.clientId]
    : (
        await sql<{ client_id: string }[]>`
          select distinct client_id from usage_chunks where ${span} ${inFirm(sql, filter.scope, 'firm_id')} order by client_id`
      ).map((r) => r.client_id)
  if (clients.length > 1) {
    yield* merged(sql, filter, clients, pageSize)
    return
  }
  if (clients.length === 0) return
  let at = from
  while (at < to) {
    const p = await page(sql, filter, clients[0]!, at, pageSize)
    if (p.rows.length > 0) yield p.rows
    at = p.until
  }
}

/** One client's rows as the merge reads them: a page in hand, refilled from where it ended. */
interface Source {
  clientId: string
  rows: ExportRow[]
  at: number
  /** Where the next page starts: the window's end once the client has no more. */
  until: Date
}

/** Request ids are ASCII, so this is Postgres's order for them too. */
const before = (a: ExportRow, b: ExportRow) => {
  const t = a.created_at.getTime() - b.created_at.getTime()
  return t < 0 || (t === 0 && a.id < b.id)
}

async function* merged(sql: Sql, filter: ExportFilter, clientIds: string[], pageSize: number): AsyncGenerator<ExportRow[]> {
  const per = Math.max(MIN_CLIENT_PAGE, Math.min(pageSize, Math.floor(MERGE_ROWS / clientIds.length)))
  const end = filter.window.to
  // Pages until one has rows, or the client has none left.
  const fill = async (s: Source) => {
    s.rows = []
    s.at = 0
    while (s.rows.length === 0 && s.until < end) {
      const p = await page(sql, filter, s.clientId, s.until, per)
      s.rows = p.rows
      s.until = p.until
    }
  }
  // A binary min-heap of the sources by their current row.
  const heap: Source[] = []
  for (const clientId of clientIds) {
    const s: Source = { clientId, rows: [], at: 0, until: filter.window.from }
    await fill(s)
    if (s.rows.length > 0) push(heap, s)
  }
  let out: ExportRow[] = []
  while (heap.length > 0) {
    const s = heap[0]!
    const row = s.rows[s.at++]!
    out.push(row)
    if (s.at === s.rows.length) await fill(s)
    if (s.rows.length === 0) pop(heap)
    else down(heap, 0)
    if (out.length === pageSize) {
      yield out
      out = []
    }
  }
  if (out.length > 0) yield out
}

const head = (s: Source) => s.rows[s.at]!

function push(heap: Source[], s: Source): void {
  heap.push(s)
  let i = heap.length - 1
  while (i > 0) {
    const p = (i - 1) >> 1
    if (!before(head(heap[i]!), head(heap[p]!))) break
    ;[heap[i], heap[p]] = [heap[p]!, heap[i]!]
    i = p
  }
}

function pop(heap: Source[]): void {
  const last = heap.pop()!
  if (heap.length === 0) return
  heap[0] = last
  down(heap, 0)
}

function down(heap: Source[], i: number): void {
  for (;;) {
    const l = 2 * i + 1
    const r = l + 1
    let m = i
    if (l < heap.length && before(head(heap[l]!), head(heap[m]!))) m = l
    if (r < heap.length && before(head(heap[r]!), head(heap[m]!))) m = r
    if (m === i) return
    ;[heap[i], heap[m]] = [heap[m]!, heap[i]!]
    i = m
  }
}
