/**
 * @module An upstream's answer as the gateway reads it (from the pooled client, or fetch's Response), read with a
 * bound. Upstream URLs can be set by a firm (its own provider base URL), so one firm's endpoint must not be able to
 * make a shared replica hold an answer of any size.
 */
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
