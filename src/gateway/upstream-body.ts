/**
 * @module Reading an upstream's answer with a bound. Upstream URLs can be set by a firm (its own provider base URL),
 * so one firm's endpoint must not be able to make a shared replica hold an answer of any size.
 */
import { readBounded } from './body.ts'

export class UpstreamTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the upstream answer exceeds ${limit} bytes`)
  }
}

/**
 * The body as text, at most `limit` bytes once decompressed. An uncompressed body declaring a length within the
 * limit reads natively (the hot path); any other is counted as it arrives. With `truncate`, an answer over the
 * limit is cut there instead of failing (error bodies, of which only the start is kept).
 */
export async function upstreamText(res: Response, limit: number, truncate = false): Promise<string> {
  const declared = res.headers.get('content-length')
  if (declared !== null && !res.headers.has('content-encoding') && Number(declared) <= limit) return res.text()
  if (!res.body) return ''
  const text = await readBounded(res.body, limit, truncate)
  if (text === null) throw new UpstreamTooLarge(limit)
  return text
}

/** The body parsed as JSON, read with the same bound. */
export async function upstreamJson(res: Response, limit: number): Promise<unknown> {
  return JSON.parse(await upstreamText(res, limit)) as unknown
}

/** An upstream error body as JSON, from its first 64 KB (all an error message needs); null when it is not JSON. */
export async function errorJson(res: Response): Promise<unknown> {
  try {
    return JSON.parse(await upstreamText(res, 64 * 1024, true)) as unknown
  } catch {
    return null
  }
}
