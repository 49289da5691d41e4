/**
 * @module An upstream's answer as the gateway reads it (from the pooled client, or fetch's Response), read with a
 * bound. Upstream URLs can be set by a firm (its own provider base URL), so one firm's endpoint must not be able to
 * make a shared replica hold an answer of any size; and a completion's usage, read from its text.
 */
import { keysNamed, scanTopLevel } from './body-splice.ts'
import { readBounded } from './body.ts'
import type { ByteReader } from './stream.ts'

export class UpstreamTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the upstream answer exceeds ${limit} bytes`)
  }
}

/** What the gateway reads of an upstream answer, whichever client fetched it. */
export interface UpstreamReply {
  readonly status: number
  readonly ok: boolean
  readonly headers: { get(name: string): string | null; has(name: string): boolean }
  /** The body as text, at most `limit` bytes once decoded (UpstreamTooLarge past it; with `truncate`, cut there). */
  text(limit: number, truncate?: boolean): Promise<string>
  /** The whole body when all of it has already arrived (at most `limit` bytes), else null: then text(). */
  textNow?(limit: number): string | null
  /** The body chunk by chunk, decoded. */
  reader(): ByteReader
  /** Drops what is left of the body. */
  cancel(): void
}

/** fetch's Response as an UpstreamReply. */
export function replyOf(res: Response): UpstreamReply {
  // A body being read is locked to its reader: cancelling goes through the reader then.
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null
  return {
    status: res.status,
    ok: res.ok,
    headers: res.headers,
    text: (limit, truncate) => upstreamText(res, limit, truncate),
    reader: () => (reader ??= res.body!.getReader()),
    cancel: () => void (reader ? reader.cancel() : res.body?.cancel())?.catch(() => {}),
  }
}

/** An adapter's answer, whichever client produced it. */
export const asReply = (r: Response | UpstreamReply): UpstreamReply => (r instanceof Response ? replyOf(r) : r)

/**
 * The body as text, at most `limit` bytes once decompressed. An uncompressed body declaring a length within the
 * limit reads natively; any other is counted as it arrives. With `truncate`, an answer over the limit is cut there
 * instead of failing (error bodies, of which only the start is kept).
 */
export async function upstreamText(res: Response, limit: number, truncate = false): Promise<string> {
  const declared = res.headers.get('content-length')
  if (declared !== null && !res.headers.has('content-encoding') && Number(declared) <= limit) return res.text()
  if (!res.body) return ''
  const text = await readBounded(res.body, limit, truncate)
  if (text === null) throw new UpstreamTooLarge(limit)
  return text
}

/** An upstream error body as JSON, from its first 64 KB (all an error message needs); null when it is not JSON. */
export async function errorJson(res: Response | UpstreamReply): Promise<unknown> {
  try {
    return JSON.parse(await asReply(res).text(64 * 1024, true)) as unknown
  } catch {
    return null
  }
}

/** An upstream answer that is not a chat.completion: not JSON, or no `choices` array. */
export class InvalidUpstreamJson extends Error {}

const answerKeyAt = keysNamed(['choices', 'usage'])
/**
 * Answers longer than this are walked for their usage instead of parsed: the walk's cost follows the quotes in the
 * text, a parse's its bytes, and they cross at about 1 KB of a typical answer (~0.4 µs parsed against ~0.9 walked for
 * a 300-byte one; ~7 against ~3.4 for 3.6 KB).
 */
const WALK_FROM = 1024

/**
 * A chat.completion's usage object (null when it has none). A long answer is read where it sits (see
 * body-splice.ts): only `usage` is parsed, since what the client gets is the upstream's own bytes, unless the walk
 * cannot vouch for the text, which is then parsed whole. InvalidUpstreamJson when it is not a chat.completion.
 */
export function answerUsage(text: string): object | null {
  if (text.length > WALK_FROM) {
    const top = scanTopLevel(text, answerKeyAt)
    const choices = top.spans[0]!
    if (top.whole && !top.unsafe && choices !== -1 && text.charCodeAt(choices) === 91) {
      const from = top.spans[2]!
      if (from === -1 || text.charCodeAt(from) !== 123) return null
      try {
        return JSON.parse(text.slice(from, top.spans[3])) as object
      } catch {
        throw new InvalidUpstreamJson()
      }
    }
  }
  let parsed: { choices?: unknown; usage?: unknown }
  try {
    parsed = JSON.parse(text) as typeof parsed
  } catch {
    throw new InvalidUpstreamJson()
  }
  if (!parsed || typeof parsed !== 'object' || !Array.isArray(parsed.choices)) throw new InvalidUpstreamJson()
  return parsed.usage && typeof parsed.usage === 'object' ? parsed.usage : null
}
