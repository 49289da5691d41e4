/** @module Request body reading and validation for the OpenAI-shaped endpoints: size limit first, then shape. */
import { InvalidRequest, PayloadTooLarge } from '../shared/errors.ts'
import { isSpace, Key, plainModel, scanTopLevel, spliceChatBody, valueText, type TopLevel } from './body-splice.ts'

/** Reads a JSON object body of at most `limit` bytes; 413 past it, 400 for anything that is not a JSON object. */
export async function readJsonObject(request: Request, limit: number): Promise<Record<string, unknown>> {
  return (await readJsonBody(request, limit)).body
}

/** As readJsonObject, with the body's size in bytes (an upper bound on its tokens, for worst-case pricing). */
export async function readJsonBody(request: Request, limit: number): Promise<{ body: Record<string, unknown>; bytes: number }> {
  const text = await readText(request, limit)
  return { body: parseObject(text), bytes: Buffer.byteLength(text) }
}

/** A body of at most `limit` bytes as text: 413 past it (declared or counted), 400 when empty. */
async function readText(request: Request, limit: number): Promise<string> {
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
  return text
}

function parseObject(text: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new InvalidRequest('We could not parse the JSON body of your request. Send valid JSON with "Content-Type: application/json".')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidRequest('The request body must be a JSON object.')
  return parsed as Record<string, unknown>
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

/**
 * A chat request's body: the fields the gateway itself relies on, read from the text alone where the walk can vouch
 * for them (see body-splice.ts), the whole body parsed only when something reads it — an upstream that is not sent
 * the client's own text, or a body the walk leaves to the parser. Nothing else is the gateway's to judge: a body
 * whose messages are not valid JSON reaches an OpenAI-compatible upstream as it came, and its 400 comes back.
 */
export class ChatBody {
  /** Body size in bytes: no prompt has more tokens than bytes. */
  readonly bytes: number

  constructor(
    /** The body as the client sent it. */
    readonly text: string,
    private readonly top: TopLevel,
    readonly model: string,
    readonly stream: boolean,
    /** A stream whose client set stream_options.include_usage: it gets the usage chunk. */
    readonly wantsUsage: boolean,
    /** max_completion_tokens or max_tokens when the client set a positive integer. */
    readonly maxTokens: number | null,
    private parsed: Record<string, unknown> | null,
  ) {
    this.bytes = Buffer.byteLength(text)
  }

  /** The parsed body (parsed now if it was read from its text): 400 when it is not a JSON object. */
  parse(): Record<string, unknown> {
    return (this.parsed ??= parseObject(this.text))
  }

  /** The upstream's body text with `model` in place, or null where only a serialisation of parse() can make it. */
  spliced(model: string): string | null {
    return spliceChatBody(this.text, this.top, model, this.stream)
  }

  /**
   * Prompt tokens to bill when a stream ends without usage: a token per 4 characters of the messages' JSON
   * (their framing stands in for the few tokens a message adds), else of the whole body.
   */
  promptEstimate(): number {
    const from = this.top.spans[Key.Messages * 2]!
    const to = this.top.spans[Key.Messages * 2 + 1]!
    return 3 + Math.ceil((from === -1 || to < from ? this.text.length : to - from) / 4)
  }
}

/** Reads a chat body (413 past `limit`), from its text where it can, else parsed and checked whole. */
export async function readChatBody(request: Request, limit: number): Promise<ChatBody> {
  const text = await readText(request, limit)
  const top = scanTopLevel(text)
  return fromText(text, top) ?? fromParsed(text, top, parseObject(text))
}

/** A top-level value parsed from its span: null when absent, `undefined` when not JSON (the whole parse then says why). */
function small(text: string, top: TopLevel, key: Key): unknown {
  const value = valueText(text, top, key)
  if (value === null) return null
  try {
    return JSON.parse(value)
  } catch {
    return undefined
  }
}

/**
 * The body from its top-level values alone, or null for anything the walk cannot vouch for or the checks would
 * reject: fromParsed then parses it and gives the error, as it always did.
 */
function fromText(text: string, top: TopLevel): ChatBody | null {
  if (!top.whole || top.unsafe) return null
  const model = plainModel(text, top)
  if (model === null || model.trim() === '') return null
  // A non-empty array: `[` and something other than `]` after it.
  const messages = top.spans[Key.Messages * 2]!
  if (messages === -1 || text.charCodeAt(messages) !== 91) return null
  let first = messages + 1
  while (isSpace(text.charCodeAt(first))) first++
  if (text.charCodeAt(first) === 93) return null
  const stream = small(text, top, Key.Stream)
  if (stream !== null && typeof stream !== 'boolean') return null
  // A stream's options are merged with the gateway's by the serialiser; elsewhere they only need to be an object.
  const options = top.spans[Key.StreamOptions * 2]!
  if (options !== -1 && (stream === true || text.charCodeAt(options) !== 123)) return null
  const completion = small(text, top, Key.MaxCompletionTokens)
  const max = completion === undefined ? undefined : (completion ?? small(text, top, Key.MaxTokens))
  if (max === undefined) return null
  return new ChatBody(text, top, model, stream === true, false, positiveInteger(max), null)
}

const positiveInteger = (n: unknown): number | null => (typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null)

/** Checks the fields the gateway itself relies on; everything else is the upstream's to judge. */
function fromParsed(text: string, top: TopLevel, raw: Record<string, unknown>): ChatBody {
  const { model, messages, stream, stream_options: opts } = raw
  if (typeof model !== 'string' || model.trim() === '') throw new InvalidRequest('you must provide a model parameter', 'model', 'missing_required_parameter')
  if (!Array.isArray(messages)) throw new InvalidRequest("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter')
  if (messages.length === 0) throw new InvalidRequest("Invalid 'messages': empty array. Expected an array with minimum length 1.", 'messages', 'empty_array')
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') throw new InvalidRequest("Invalid type for 'stream': expected a boolean.", 'stream', 'invalid_type')
  if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) {
    throw new InvalidRequest("Invalid type for 'stream_options': expected an object.", 'stream_options', 'invalid_type')
  }
  const wantsUsage = stream === true && (opts as { include_usage?: unknown } | null | undefined)?.include_usage === true
  return new ChatBody(text, top, model, stream === true, wantsUsage, positiveInteger(raw.max_completion_tokens ?? raw.max_tokens), raw)
}
