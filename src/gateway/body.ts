/** @module Request body reading and validation for the OpenAI-shaped endpoints: size limit first, then shape. */
import { InvalidRequest, PayloadTooLarge } from '../shared/errors.ts'

/** Reads a JSON object body of at most `limit` bytes; 413 past it, 400 for anything that is not a JSON object. */
export async function readJsonObject(request: Request, limit: number): Promise<Record<string, unknown>> {
  return (await readJsonBody(request, limit)).body
}

/** As readJsonObject, with the body's size in bytes (an upper bound on its tokens, for worst-case pricing). */
export async function readJsonBody(request: Request, limit: number): Promise<{ body: Record<string, unknown>; bytes: number; text: string }> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > limit) throw new PayloadTooLarge(limit)
  let text: string
  if (declared !== null || !request.body) {
    text = await request.text()
    if (text.length > limit) throw new PayloadTooLarge(limit)
  } else {
    text = await readCapped(request.body, limit)
  }
  if (text.trim() === '') throw new InvalidRequest('The request body is empty; send a JSON object.')
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new InvalidRequest('We could not parse the JSON body of your request. Send valid JSON with "Content-Type: application/json".')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidRequest('The request body must be a JSON object.')
  return { body: parsed as Record<string, unknown>, bytes: Buffer.byteLength(text), text }
}

async function readCapped(body: ReadableStream<Uint8Array>, limit: number): Promise<string> {
  const text = await readBounded(body, limit)
  if (text === null) throw new PayloadTooLarge(limit)
  return text
}

/**
 * A byte stream as text, counted as it arrives: null once it passes `limit` (the rest is cancelled), or, with
 * `truncate`, its first `limit` bytes.
 */
export async function readBounded(stream: AsyncIterable<Uint8Array>, limit: number, truncate = false): Promise<string | null> {
  const chunks: Uint8Array[] = []
  let size = 0
  // Leaving the loop early cancels the rest of the stream (a ReadableStream's iterator, or a generator's finally).
  for await (const chunk of stream) {
    if (size + chunk.byteLength > limit) {
      if (!truncate) return null
      chunks.push(chunk.subarray(0, limit - size))
      break
    }
    size += chunk.byteLength
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

export interface ChatBody {
  model: string
  /** Body size in bytes: no prompt has more tokens than bytes. */
  bytes: number
  /** max_completion_tokens or max_tokens when the client set a positive integer. */
  maxTokens: number | null
  stream: boolean
  /** The client set stream_options.include_usage: it gets the usage chunk. */
  wantsUsage: boolean
  raw: Record<string, unknown>
  /** The body as the client sent it (see body-splice.ts). */
  text: string
}

/** Checks the fields the gateway itself relies on; everything else is the upstream's to judge. */
export function parseChatBody(raw: Record<string, unknown>, bytes: number, text: string): ChatBody {
  const { model, messages, stream, stream_options: opts } = raw
  if (typeof model !== 'string' || model.trim() === '') throw new InvalidRequest('you must provide a model parameter', 'model', 'missing_required_parameter')
  if (!Array.isArray(messages)) throw new InvalidRequest("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter')
  if (messages.length === 0) throw new InvalidRequest("Invalid 'messages': empty array. Expected an array with minimum length 1.", 'messages', 'empty_array')
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') throw new InvalidRequest("Invalid type for 'stream': expected a boolean.", 'stream', 'invalid_type')
  if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) {
    throw new InvalidRequest("Invalid type for 'stream_options': expected an object.", 'stream_options', 'invalid_type')
  }
  const wantsUsage = (opts as { include_usage?: unknown } | null | undefined)?.include_usage === true
  const max = raw.max_completion_tokens ?? raw.max_tokens
  const maxTokens = typeof max === 'number' && Number.isInteger(max) && max > 0 ? max : null
  return { model, bytes, maxTokens, stream: stream === true, wantsUsage, raw, text }
}
