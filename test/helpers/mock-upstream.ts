/**
 * A local OpenAI look-alike the tests control: fixed answers, streams, delays, error statuses, streams that
 * break or turn to garbage, and a record of every request and of streams the gateway cancelled.
 */

export type Scenario =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; message?: string; code?: string; retryAfter?: string }
  | { kind: 'delay'; ms: number }
  | { kind: 'slow-stream'; gapMs: number; chunks?: number }
  | { kind: 'break-stream'; after: number }
  | { kind: 'garbage' }
  | { kind: 'garbage-mid-stream'; after: number }
  | { kind: 'no-usage' }
  /** A non-streamed answer padded to about `bytes`, gzip-compressed on the wire when asked. */
  | { kind: 'huge'; bytes: number; gzip?: boolean }

export const REPLY_WORDS = ['Hello', '!', ' How', ' can', ' I', ' help', ' you', ' today', '?']
export const REPLY = REPLY_WORDS.join('')
export const USAGE = { prompt_tokens: 12, completion_tokens: 18, total_tokens: 30, prompt_tokens_details: { cached_tokens: 0 } }

export interface Recorded {
  body: Record<string, unknown>
  /** The body as sent. */
  text: string
  headers: Record<string, string>
  url: string
}

const enc = new TextEncoder()

function chunk(model: string, delta: object, finish: string | null, withUsageNull: boolean): string {
  const o = { id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 1714000000, model, choices: [{ index: 0, delta, finish_reason: finish }], ...(withUsageNull ? { usage: null } : {}) }
  return `data: ${JSON.stringify(o)}\n\n`
}

export function streamEvents(model: string, includeUsage: boolean, words: string[] = REPLY_WORDS): string[] {
  const ev = [chunk(model, { role: 'assistant', content: '' }, null, includeUsage)]
  for (const w of words) ev.push(chunk(model, { content: w }, null, includeUsage))
  ev.push(chunk(model, {}, 'stop', includeUsage))
  if (includeUsage) ev.push(`data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 1714000000, model, choices: [], usage: USAGE })}\n\n`)
  ev.push('data: [DONE]\n\n')
  return ev
}

export class MockUpstream {
  scenario: Scenario = { kind: 'ok' }
  /** Scenarios for the next requests, in order; `scenario` applies when this is empty. */
  queue: Scenario[] = []
  requests: Recorded[] = []
  cancelled = 0
  private server: ReturnType<typeof Bun.serve> | null = null
  port = 0

  start(port = 0): this {
    this.server = Bun.serve({ port, hostname: '127.0.0.1', idleTimeout: 0, fetch: (req) => this.handle(req) })
    this.port = this.server.port!
    return this
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`
  }

  async stop(): Promise<void> {
    await this.server?.stop(true)
    this.server = null
  }

  reset(): void {
    this.scenario = { kind: 'ok' }
    this.queue = []
    this.requests = []
    this.cancelled = 0
  }

  private async handle(req: Request): Promise<Response> {
    const text = await req.text()
    let body: Record<string, unknown>
    try {
      body = JSON.parse(text) as Record<string, unknown>
    } catch {
      // As OpenAI answers a body it cannot parse.
      this.requests.push({ body: {}, text, headers: Object.fromEntries(req.headers.entries()), url: req.url })
      const message = 'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly.)'
      return Response.json({ error: { message, type: 'invalid_request_error', param: null, code: null } }, { status: 400 })
    }
    this.requests.push({ body, text, headers: Object.fromEntries(req.headers.entries()), url: req.url })
    const s = this.queue.shift() ?? this.scenario
    const model = String(body.model)
    if (new URL(req.url).pathname.endsWith('/embeddings')) {
      if (s.kind === 'status') return Response.json({ error: { message: s.message ?? `mock failure ${s.status}`, type: 'invalid_request_error', code: null, param: null } }, { status: s.status, headers: s.retryAfter ? { 'retry-after': s.retryAfter } : {} })
      const inputs = Array.isArray(body.input) ? body.input : [body.input]
      const vec = body.encoding_format === 'base64' ? Buffer.from(new Float32Array([0.1, 0.2, 0.3]).buffer).toString('base64') : [0.1, 0.2, 0.3]
      return Response.json({ object: 'list', data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: vec })), model, usage: { prompt_tokens: 8, total_tokens: 8 } })
    }
    if (new URL(req.url).pathname.endsWith('/images/generations')) {
      if (s.kind === 'status') return Response.json({ error: { message: s.message ?? `mock failure ${s.status}`, type: 'invalid_request_error', code: s.code ?? null, param: null } }, { status: s.status, headers: s.retryAfter ? { 'retry-after': s.retryAfter } : {} })
      if (s.kind === 'garbage') return new Response('<html>oops', { headers: { 'content-type': 'application/json' } })
      const n = typeof body.n === 'number' ? body.n : 1
      const data = Array.from({ length: n }, (_, i) => ({ url: `https://images.example.test/${i}.png`, revised_prompt: String(body.prompt) }))
      // gpt-image-1 reports token usage (and bills by it); the DALL·E models report none.
      const usage = model === 'gpt-image-1' ? { input_tokens: 20, output_tokens: 4160, total_tokens: 4180, input_tokens_details: { text_tokens: 20, image_tokens: 0 } } : undefined
      return Response.json({ created: 1714000000, data, ...(usage ? { usage } : {}) })
    }
    const stream = body.stream === true
    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true
    if (s.kind === 'status') {
      return Response.json({ error: { message: s.message ?? `mock failure ${s.status}`, type: 'invalid_request_error', code: s.code ?? null, param: null } }, { status: s.status, headers: s.retryAfter ? { 'retry-after': s.retryAfter } : {} })
    }
    if (s.kind === 'delay') await Bun.sleep(s.ms)
    if (s.kind === 'garbage') return new Response(stream ? '<html>502 Bad Gateway</html>' : '<html>oops', { headers: { 'content-type': stream ? 'text/event-stream' : 'application/json' } })
    if (s.kind === 'huge' && !stream) {
      const json = JSON.stringify({ id: 'chatcmpl-huge', object: 'chat.completion', created: 1714000000, model, choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(s.bytes) }, finish_reason: 'stop' }], usage: USAGE })
      return s.gzip ? new Response(Bun.gzipSync(json), { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } }) : new Response(json, { headers: { 'content-type': 'application/json' } })
    }
    if (!stream) {
      return Response.json({
        id: 'chatcmpl-mock',
        object: 'chat.completion',
        created: 1714000000,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: REPLY }, logprobs: null, finish_reason: 'stop' }],
        ...(s.kind === 'no-usage' ? {} : { usage: USAGE }),
      })
    }
    let events = streamEvents(model, includeUsage && s.kind !== 'no-usage')
    if (s.kind === 'slow-stream' && s.chunks) events = streamEvents(model, includeUsage, Array.from({ length: s.chunks }, (_, i) => ` w${i}`))
    const self = this
    let i = 0
    return new Response(
      new ReadableStream({
        async pull(controller) {
          if (s.kind === 'slow-stream' && i > 0) await Bun.sleep(s.gapMs)
          if (s.kind === 'break-stream' && i === s.after) {
            await Bun.sleep(50) // let what was sent reach the gateway before the reset
            controller.error(new Error('mock reset'))
            return
          }
          if (s.kind === 'garbage-mid-stream' && i === s.after) {
            controller.enqueue(enc.encode('this is not SSE at all\n\n'))
            controller.close()
            return
          }
          const next = events[i++]
          if (next === undefined) controller.close()
          else controller.enqueue(enc.encode(next))
        },
        cancel() {
          self.cancelled++
        },
      }),
      { headers: { 'content-type': 'text/event-stream' } },
    )
  }
}
