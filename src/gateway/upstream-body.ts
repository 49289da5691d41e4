/**
 * @module Reading an upstream's answer with a bound. Upstream URLs can be set by a firm (its own provider base URL),
 * so one firm's endpoint must not be able to make a shared replica hold an answer of any size.
 */

export class UpstreamTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the upstream answer exceeds ${limit} bytes`)
  }
}

/**
 * The body as text, at most `limit` bytes once decompressed. A declared length (of an uncompressed body) over the
 * limit fails before anything is read and the rest reads natively; a compressed or undeclared body is counted as it
 * arrives. With `truncate`, an answer over the limit is cut there instead of failing (error bodies, of which only
 * the start is kept).
 */
export async function upstreamText(res: Response, limit: number, truncate = false): Promise<string> {
  const declared = res.headers.get('content-length')
  if (declared !== null && !res.headers.has('content-encoding') && Number(declared) <= limit) return res.text()
  if (!res.body) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  // Leaving the loop early cancels the rest of the body.
  for await (const chunk of res.body) {
    if (size + chunk.byteLength > limit) {
      if (!truncate) throw new UpstreamTooLarge(limit)
      chunks.push(chunk.subarray(0, limit - size))
      break
    }
    size += chunk.byteLength
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** The body parsed as JSON, read with the same bound. */
export async function upstreamJson(res: Response, limit: number): Promise<unknown> {
  return JSON.parse(await upstreamText(res, limit)) as unknown
}

/** An upstream error body as JSON, from its first 64 KB; null when it is not JSON. */
export async function errorJson(res: Response): Promise<unknown> {
  try {
    return JSON.parse(await upstreamText(res, 64 * 1024, true)) as unknown
  } catch {
    return null
  }
}
