/** @module Forward keyset pagination for Relay connections: cursors are opaque, pages at most 100. */
import { InvalidRequest } from '../../shared/errors.ts'
import type { Page } from '../../admin/context.ts'

export interface ConnectionArgs {
  first?: number | null
  after?: string | null
  last?: number | null
  before?: string | null
}

const encode = (id: string) => Buffer.from(`c:${id}`).toString('base64url')

function decode(cursor: string): string {
  const raw = Buffer.from(cursor, 'base64url').toString()
  if (!raw.startsWith('c:')) throw new InvalidRequest('after: not a cursor from this API', 'after', 'validation_failed')
  return raw.slice(2)
}

/** Fetches one page (plus one row to learn whether there is a next) and shapes it as a connection. */
export async function paginate<T extends { id: string }>(args: ConnectionArgs, fetch: (page: Page) => Promise<T[]>, cursorOf: (row: T) => string = (r) => r.id) {
  if (args.last != null || args.before != null) throw new InvalidRequest('last/before: lists page forward only; use first/after', 'last', 'validation_failed')
  const first = args.first ?? 20
  if (!Number.isInteger(first) || first < 1 || first > 100) throw new InvalidRequest('first: must be from 1 to 100', 'first', 'validation_failed')
  const rows = await fetch({ after: args.after ? decode(args.after) : null, limit: first + 1 })
  const page = rows.slice(0, first)
  const edges = page.map((node) => ({ node, cursor: encode(cursorOf(node)) }))
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: Boolean(args.after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  }
}
