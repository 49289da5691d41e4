/**
 * @module Pure translation between OpenAI chat completions and Anthropic's Messages API
 * (https://docs.anthropic.com/en/api/messages): request, response, errors, and the event stream.
 */

type Json = Record<string, unknown>

interface OpenAiMessage {
  role?: unknown
  content?: unknown
  tool_calls?: unknown
  tool_call_id?: unknown
  name?: unknown
}

interface AnthropicBlock {
  type: string
  [k: string]: unknown
}

interface AnthropicMessage {
  role: 'user' | 'assistant'
  content: AnthropicBlock[]
}

const STOP: Record<string, string> = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', tool_use: 'tool_calls', pause_turn: 'stop', refusal: 'content_filter' }

export class TranslationError extends Error {}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) return content.map((p: Json) => (p?.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('')
  return ''
}

/** An OpenAI content part as Anthropic blocks: text, and images from URLs or data URLs. */
function partBlocks(content: unknown): AnthropicBlock[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : []
  if (!Array.isArray(content)) return []
  const out: AnthropicBlock[] = []
  for (const p of content as Json[]) {
    if (p?.type === 'text' && typeof p.text === 'string') out.push({ type: 'text', text: p.text })
    else if (p?.type === 'image_url') {
      const url = typeof p.image_url === 'string' ? p.image_url : (p.image_url as Json | undefined)?.url
      if (typeof url !== 'string') throw new TranslationError('image_url needs a url')
      const data = /^data:([^;]+);base64,(.*)$/s.exec(url)
      out.push(data ? { type: 'image', source: { type: 'base64', media_type: data[1], data: data[2] } } : { type: 'image', source: { type: 'url', url } })
    }
  }
  return out
}

function push(messages: AnthropicMessage[], role: 'user' | 'assistant', blocks: AnthropicBlock[]): void {
  if (blocks.length === 0) return
  const last = messages.at(-1)
  // Anthropic wants alternating roles: consecutive turns of one role become one message.
  if (last && last.role === role) last.content.push(...blocks)
  else messages.push({ role, content: blocks })
}

/** The Messages API request for an OpenAI chat request. `model` is the upstream id; max_tokens is required there. */
export function toAnthropicRequest(body: Json, defaultMaxTokens: number): Json {
  const system: string[] = []
  const messages: AnthropicMessage[] = []
  for (const m of (Array.isArray(body.messages) ? body.messages : []) as OpenAiMessage[]) {
    if (m.role === 'system' || m.role === 'developer') system.push(textOf(m.content))
    else if (m.role === 'user') push(messages, 'user', partBlocks(m.content))
    else if (m.role === 'assistant') {
      const blocks = partBlocks(m.content)
      for (const c of (Array.isArray(m.tool_calls) ? m.tool_calls : []) as Json[]) {
        const fn = c.function as Json | undefined
        let input: unknown = {}
        try {
          input = JSON.parse(typeof fn?.arguments === 'string' && fn.arguments ? fn.arguments : '{}')
        } catch {
          throw new TranslationError('tool_calls[].function.arguments must be JSON')
        }
        blocks.push({ type: 'tool_use', id: c.id, name: fn?.name, input })
      }
      push(messages, 'assistant', blocks)
    } else if (m.role === 'tool') {
      push(messages, 'user', [{ type: 'tool_result', tool_use_id: m.tool_call_id, content: textOf(m.content) }])
    }
  }
  const req: Json = {
    model: body.model,
    messages,
    max_tokens: typeof body.max_completion_tokens === 'number' ? body.max_completion_tokens : typeof body.max_tokens === 'number' ? body.max_tokens : defaultMaxTokens,
  }
  if (system.length > 0) req.system = system.join('\n\n')
  if (typeof body.temperature === 'number') req.temperature = Math.min(1, body.temperature)
  if (typeof body.top_p === 'number') req.top_p = body.top_p
  if (typeof body.stop === 'string') req.stop_sequences = [body.stop]
  else if (Array.isArray(body.stop)) req.stop_sequences = body.stop
  if (Array.isArray(body.tools)) {
    req.tools = (body.tools as Json[]).map((t) => {
      const fn = t.function as Json
      return { name: fn.name, ...(fn.description ? { description: fn.description } : {}), input_schema: fn.parameters ?? { type: 'object', properties: {} } }
    })
  }
  const choice = body.tool_choice
  if (choice === 'auto') req.tool_choice = { type: 'auto' }
  else if (choice === 'required') req.tool_choice = { type: 'any' }
  else if (choice === 'none') req.tool_choice = { type: 'none' }
  else if (choice && typeof choice === 'object') req.tool_choice = { type: 'tool', name: ((choice as Json).function as Json | undefined)?.name }
  if (body.stream === true) req.stream = true
  if (typeof body.user === 'string') req.metadata = { user_id: body.user }
  return req
}

export interface AnthropicUsage {
  input_tokens?: number
  output_tokens?: number
  cache_read_input_tokens?: number | null
  cache_creation_input_tokens?: number | null
}

/**
 * Anthropic usage in OpenAI's shape: prompt_tokens counts input + cache reads + cache writes; cached_tokens the
 * reads; cache_creation_tokens (our extension) the writes, priced at their own rate.
 */
export function openAiUsage(u: AnthropicUsage): Json {
  const read = u.cache_read_input_tokens ?? 0
  const write = u.cache_creation_input_tokens ?? 0
  const prompt = (u.input_tokens ?? 0) + read + write
  const completion = u.output_tokens ?? 0
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: read, cache_creation_tokens: write } }
}

/** A Messages API response as an OpenAI chat.completion. */
export function fromAnthropicResponse(r: Json, created: number): Json {
  const blocks = (Array.isArray(r.content) ? r.content : []) as AnthropicBlock[]
  const text = blocks.filter((b) => b.type === 'text').map((b) => String(b.text ?? '')).join('')
  const calls = blocks.filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } }))
  return {
    id: `chatcmpl-${String(r.id ?? '')}`,
    object: 'chat.completion',
    created,
    model: r.model,
    choices: [{ index: 0, message: { role: 'assistant', content: text || null, ...(calls.length ? { tool_calls: calls } : {}), refusal: null }, logprobs: null, finish_reason: STOP[String(r.stop_reason)] ?? 'stop' }],
    usage: openAiUsage((r.usage ?? {}) as AnthropicUsage),
  }
}

/** An Anthropic error body as OpenAI's error JSON. */
export function fromAnthropicError(status: number, body: unknown): Json {
  const e = (body as { error?: { type?: string; message?: string } } | null)?.error
  const type = status === 429 ? 'rate_limit_exceeded' : status === 401 ? 'authentication_error' : status === 403 ? 'permission_error' : status === 404 ? 'not_found_error' : status >= 500 ? 'api_error' : 'invalid_request_error'
  return { error: { message: e?.message ?? `The upstream provider answered ${status}.`, type, code: e?.type ?? null, param: null } }
}

/**
 * Turns Anthropic stream events into OpenAI chunk payloads (each a JSON object to frame as `data:`), ending with
 * the finish chunk and a usage chunk. Feed events in order; `flush` is for a stream that ended without message_stop.
 */
export class AnthropicStreamTranslator {
  private id = ''
  private model = ''
  private usage: AnthropicUsage = {}
  private finish: string | null = null
  private toolIndex = new Map<number, number>()
  private done = false

  constructor(private readonly created: number) {}

  private chunk(delta: Json, finish: string | null = null): Json {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] }
  }

  /** Payloads for one event (type and parsed data). */
  event(type: string, data: Json): Json[] {
    switch (type) {
      case 'message_start': {
        const m = (data.message ?? {}) as Json
        this.id = `chatcmpl-${String(m.id ?? '')}`
        this.model = String(m.model ?? '')
        this.usage = { ...((m.usage ?? {}) as AnthropicUsage) }
        return [this.chunk({ role: 'assistant', content: '' })]
      }
      case 'content_block_start': {
        const b = (data.content_block ?? {}) as Json
        if (b.type !== 'tool_use') return []
        const i = this.toolIndex.size
        this.toolIndex.set(Number(data.index), i)
        return [this.chunk({ tool_calls: [{ index: i, id: b.id, type: 'function', function: { name: b.name, arguments: '' } }] })]
      }
      case 'content_block_delta': {
        const d = (data.delta ?? {}) as Json
        if (d.type === 'text_delta') return [this.chunk({ content: String(d.text ?? '') })]
        if (d.type === 'input_json_delta') {
          const i = this.toolIndex.get(Number(data.index)) ?? 0
          return [this.chunk({ tool_calls: [{ index: i, function: { arguments: String(d.partial_json ?? '') } }] })]
        }
        return []
      }
      case 'message_delta': {
        const d = (data.delta ?? {}) as Json
        if (d.stop_reason) this.finish = STOP[String(d.stop_reason)] ?? 'stop'
        // message_delta carries cumulative usage: output tokens, and sometimes final input/cache counts.
        this.usage = { ...this.usage, ...Object.fromEntries(Object.entries((data.usage ?? {}) as Json).filter(([, v]) => v !== null && v !== undefined)) }
        return []
      }
      case 'message_stop':
        return this.end()
      case 'error': {
        this.done = true
        const e = (data.error ?? {}) as Json
        return [{ error: { message: String(e.message ?? 'The upstream stream failed.'), type: 'api_error', code: String(e.type ?? 'upstream_error'), param: null } }]
      }
      default:
        return []
    }
  }

  /** The finish and usage chunks; nothing if already ended. */
  end(): Json[] {
    if (this.done) return []
    this.done = true
    return [this.chunk({}, this.finish ?? 'stop'), { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage: openAiUsage(this.usage) }]
  }

  get ended(): boolean {
    return this.done
  }
}
