/**
 * @module Usage rows for the CSV export, in (time, request id) order, one keyset page at a time: constant memory,
 * never one long-held connection. usage_events is indexed by client and time only — an index costs every proxied
 * request's insert ~2.5 µs of database CPU, and a firm-wide export is a monthly billing task — so a firm's export
 * merges its clients' ordered pages, each read from that index.
 */
import type { Sql } from '../shared/db.ts'
import { inFirm, type FirmScope } from '../tenancy/scope.ts'
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

interface Cursor {
  at: Date
  id: string
}

/** Rows held in memory at once by a firm's merge, over all its clients (each holds at least MIN_CLIENT_PAGE). */
const MERGE_ROWS = 20_000
const MIN_CLIENT_PAGE = 50

/** Up to `limit` rows after `cursor`, in order: one client's, or (no client) every row in scope. */
function page(sql: Sql, f: ExportFilter, cursor: Cursor | null, limit: number): Promise<ExportRow[]> {
  return sql<ExportRow[]>`
    select u.created_at, u.id, u.client_id, c.name as client_name, k.prefix as key_prefix, u.model_requested, u.model_used,
           u.provider, u.prompt_tokens, u.completion_tokens, u.cached_tokens, u.cost_nano, u.markup_nano, u.billed_nano,
           u.status, u.stream
    from usage_events u left join clients c on c.id = u.client_id left join api_keys k on k.id = u.key_id
    where u.created_at >= ${f.window.from} and u.created_at < ${f.window.to}
      ${inFirm(sql, f.scope, 'u.firm_id')}
      ${f.clientId ? sql`and u.client_id = ${f.clientId}` : sql``}
      ${cursor ? sql`and u.created_at >= ${cursor.at} and (u.created_at, u.id) > (${cursor.at}, ${cursor.id})` : sql``}
    order by u.created_at, u.id
    limit ${limit}`
}

/** Yields export rows in (time, id) order, `pageSize` at a time. */
export async function* exportUsage(sql: Sql, filter: ExportFilter, pageSize = 2000): AsyncGenerator<ExportRow[]> {
  if (filter.scope !== null && filter.clientId === null) {
    const clients = await sql<{ id: string }[]>`
      select c.id from clients c
      where c.firm_id = ${filter.scope}
        and exists (select 1 from usage_events u where u.client_id = c.id and u.created_at >= ${filter.window.from} and u.created_at < ${filter.window.to})
      order by c.id`
    if (clients.length > 1) {
      yield* merged(sql, filter, clients.map((c) => c.id), pageSize)
      return
    }
    if (clients.length === 0) return
    filter = { ...filter, clientId: clients[0]!.id }
  }
  let cursor: Cursor | null = null
  for (;;) {
    const rows = await page(sql, filter, cursor, pageSize)
    if (rows.length === 0) return
    yield rows
    if (rows.length < pageSize) return
    const last = rows[rows.length - 1]!
    cursor = { at: last.created_at, id: last.id }
  }
}

/** One client's rows as the merge reads them: a page in hand, refilled after its last row. */
interface Source {
  clientId: string
  rows: ExportRow[]
  at: number
  /** The client has no rows past this page. */
  last: boolean
}

/** Request ids are ASCII, so this is Postgres's order for them too. */
const before = (a: ExportRow, b: ExportRow) => {
  const t = a.created_at.getTime() - b.created_at.getTime()
  return t < 0 || (t === 0 && a.id < b.id)
}

async function* merged(sql: Sql, filter: ExportFilter, clientIds: string[], pageSize: number): AsyncGenerator<ExportRow[]> {
  const per = Math.max(MIN_CLIENT_PAGE, Math.min(pageSize, Math.floor(MERGE_ROWS / clientIds.length)))
  const fill = async (s: Source, cursor: Cursor | null) => {
    s.rows = await page(sql, { ...filter, clientId: s.clientId }, cursor, per)
    s.at = 0
    s.last = s.rows.length < per
  }
  // A binary min-heap of the sources by their current row.
  const heap: Source[] = []
  for (const clientId of clientIds) {
    const s: Source = { clientId, rows: [], at: 0, last: false }
    await fill(s, null)
    if (s.rows.length > 0) push(heap, s)
  }
  let out: ExportRow[] = []
  while (heap.length > 0) {
    const s = heap[0]!
    const row = s.rows[s.at++]!
    out.push(row)
    if (s.at === s.rows.length) {
      if (s.last) s.rows = []
      else await fill(s, { at: row.created_at, id: row.id })
    }
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
