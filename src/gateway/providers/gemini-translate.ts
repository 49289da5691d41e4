/**
 * @module Pure translation between OpenAI chat completions and Google's Generative Language API
 * (generateContent / streamGenerateContent, https://ai.google.dev/api/generate-content).
 */

type Json = Record<string, unknown>

interface OpenAiMessage {
  role?: unknown
  content?: unknown
  tool_calls?: unknown
  tool_call_id?: unknown
}

interface Part {
  text?: string
  inlineData?: { mimeType: string; data: string }
  fileData?: { fileUri: string }
  functionCall?: { name: string; args: unknown }
  functionResponse?: { name: string; response: unknown }
}

const FINISH: Record<string, string> = { STOP: 'stop', MAX_TOKENS: 'length', SAFETY: 'content_filter', RECITATION: 'content_filter', PROHIBITED_CONTENT: 'content_filter', BLOCKLIST: 'content_filter', SPII: 'content_filter' }

export class GeminiTranslationError extends Error {}

function parts(content: unknown): Part[] {
  if (typeof content === 'string') return content ? [{ text: content }] : []
  if (!Array.isArray(content)) return []
  const out: Part[] = []
  for (const p of content as Json[]) {
    if (p?.type === 'text' && typeof p.text === 'string') out.push({ text: p.text })
    else if (p?.type === 'image_url') {
      const url = typeof p.image_url === 'string' ? p.image_url : (p.image_url as Json | undefined)?.url
      if (typeof url !== 'string') throw new GeminiTranslationError('image_url needs a url')
      const data = /^data:([^;]+);base64,(.*)$/s.exec(url)
      out.push(data ? { inlineData: { mimeType: data[1]!, data: data[2]! } } : { fileData: { fileUri: url } })
    }
  }
  return out
}

/** The generateContent request for an OpenAI chat request (the model goes in the URL). */
export function toGeminiRequest(body: Json): Json {
  const system: string[] = []
  const contents: { role: 'user' | 'model'; parts: Part[] }[] = []
  const toolNames = new Map<string, string>()
  const push = (role: 'user' | 'model', ps: Part[]) => {
    if (ps.length === 0) return
    const last = contents.at(-1)
    if (last && last.role === role) last.parts.push(...ps)
    else contents.push({ role, parts: ps })
  }
  for (const m of (Array.isArray(body.messages) ? body.messages : []) as OpenAiMessage[]) {
    if (m.role === 'system' || m.role === 'developer') system.push(parts(m.content).map((p) => p.text ?? '').join(''))
    else if (m.role === 'user') push('user', parts(m.content))
    else if (m.role === 'assistant') {
      const ps = parts(m.content)
      for (const c of (Array.isArray(m.tool_calls) ? m.tool_calls : []) as Json[]) {
        const fn = c.function as Json | undefined
        const name = String(fn?.name ?? '')
        toolNames.set(String(c.id), name)
        let args: unknown = {}
        try {
          args = JSON.parse(typeof fn?.arguments === 'string' && fn.arguments ? fn.arguments : '{}')
        } catch {
          throw new GeminiTranslationError('tool_calls[].function.arguments must be JSON')
        }
        ps.push({ functionCall: { name, args } })
      }
      push('model', ps)
    } else if (m.role === 'tool') {
      const text = typeof m.content === 'string' ? m.content : parts(m.content).map((p) => p.text ?? '').join('')
      let response: unknown
      try {
        response = JSON.parse(text)
      } catch {
        response = { content: text }
      }
      push('user', [{ functionResponse: { name: toolNames.get(String(m.tool_call_id)) ?? String(m.tool_call_id), response: response && typeof response === 'object' && !Array.isArray(response) ? response : { content: response } } }])
    }
  }
  const req: Json = { contents }
  if (system.length) req.systemInstruction = { parts: [{ text: system.join('\n\n') }] }
  const gen: Json = {}
  if (typeof body.temperature === 'number') gen.temperature = body.temperature
  if (typeof body.top_p === 'number') gen.topP = body.top_p
  const max = typeof body.max_completion_tokens === 'number' ? body.max_completion_tokens : body.max_tokens
  if (typeof max === 'number') gen.maxOutputTokens = max
  if (typeof body.stop === 'string') gen.stopSequences = [body.stop]
  else if (Array.isArray(body.stop)) gen.stopSequences = body.stop
  if (typeof body.n === 'number') gen.candidateCount = body.n
  const format = body.response_format as Json | undefined
  if (format?.type === 'json_object' || format?.type === 'json_schema') gen.responseMimeType = 'application/json'
  if (Object.keys(gen).length) req.generationConfig = gen
  if (Array.isArray(body.tools)) {
    req.tools = [{ functionDeclarations: (body.tools as Json[]).map((t) => { const fn = t.function as Json; return { name: fn.name, ...(fn.description ? { description: fn.description } : {}), ...(fn.parameters ? { parameters: fn.parameters } : {}) } }) }]
  }
  const choice = body.tool_choice
  if (choice === 'auto') req.toolConfig = { functionCallingConfig: { mode: 'AUTO' } }
  else if (choice === 'required') req.toolConfig = { functionCallingConfig: { mode: 'ANY' } }
  else if (choice === 'none') req.toolConfig = { functionCallingConfig: { mode: 'NONE' } }
  else if (choice && typeof choice === 'object') req.toolConfig = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [((choice as Json).function as Json | undefined)?.name] } }
  return req
}

export interface GeminiUsage {
  promptTokenCount?: number
  candidatesTokenCount?: number
  thoughtsTokenCount?: number
  cachedContentTokenCount?: number
}

/** usageMetadata in OpenAI's shape: thinking tokens bill as output, cached content as cached input. */
export function geminiUsage(u: GeminiUsage | undefined): Json {
  const prompt = u?.promptTokenCount ?? 0
  const completion = (u?.candidatesTokenCount ?? 0) + (u?.thoughtsTokenCount ?? 0)
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: u?.cachedContentTokenCount ?? 0 }, ...(u?.thoughtsTokenCount ? { completion_tokens_details: { reasoning_tokens: u.thoughtsTokenCount } } : {}) }
}

interface Candidate {
  index?: number
  content?: { parts?: Part[] }
  finishReason?: string
}

function choiceOf(c: Candidate, i: number, ids: () => string): Json {
  const ps = c.content?.parts ?? []
  const text = ps.filter((p) => typeof p.text === 'string').map((p) => p.text).join('')
  const calls = ps.filter((p) => p.functionCall).map((p) => ({ id: ids(), type: 'function', function: { name: p.functionCall!.name, arguments: JSON.stringify(p.functionCall!.args ?? {}) } }))
  const finish = calls.length ? 'tool_calls' : (FINISH[c.finishReason ?? 'STOP'] ?? 'stop')
  return { index: c.index ?? i, message: { role: 'assistant', content: text || null, ...(calls.length ? { tool_calls: calls } : {}), refusal: null }, logprobs: null, finish_reason: finish }
}

let callSeq = 0
const callId = () => `call_${Date.now().toString(36)}${(callSeq++).toString(36)}`

/** A generateContent response as an OpenAI chat.completion. */
export function fromGeminiResponse(r: Json, model: string, created: number): Json {
  const candidates = (Array.isArray(r.candidates) ? r.candidates : []) as Candidate[]
  return {
    id: `chatcmpl-${String(r.responseId ?? callId())}`,
    object: 'chat.completion',
    created,
    model: String(r.modelVersion ?? model),
    choices: candidates.map((c, i) => choiceOf(c, i, callId)),
    usage: geminiUsage(r.usageMetadata as GeminiUsage | undefined),
  }
}

/** A Google error body as OpenAI's error JSON. */
export function fromGeminiError(status: number, body: unknown): Json {
  const e = (body as { error?: { message?: string; status?: string } } | null)?.error
  const type = status === 429 ? 'rate_limit_exceeded' : status === 401 ? 'authentication_error' : status === 403 ? 'permission_error' : status === 404 ? 'not_found_error' : status >= 500 ? 'api_error' : 'invalid_request_error'
  return { error: { message: e?.message ?? `The upstream provider answered ${status}.`, type, code: e?.status ?? null, param: null } }
}

/** streamGenerateContent (alt=sse) chunks as OpenAI chunk payloads; the last usageMetadata is the total. */
export class GeminiStreamTranslator {
  private id = `chatcmpl-${callId()}`
  private started = false
  private usage: GeminiUsage | undefined
  private finish: string | null = null
  private tools = 0

  constructor(
    private readonly model: string,
    private readonly created: number,
  ) {}

  private chunk(delta: Json, finish: string | null = null): Json {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] }
  }

  chunkOf(r: Json): Json[] {
    const out: Json[] = []
    if (!this.started) {
      this.started = true
      if (typeof r.responseId === 'string') this.id = `chatcmpl-${r.responseId}`
      out.push(this.chunk({ role: 'assistant', content: '' }))
    }
    if (r.usageMetadata) this.usage = r.usageMetadata as GeminiUsage
    const c = ((Array.isArray(r.candidates) ? r.candidates : []) as Candidate[])[0]
    for (const p of c?.content?.parts ?? []) {
      if (typeof p.text === 'string' && p.text) out.push(this.chunk({ content: p.text }))
      if (p.functionCall) out.push(this.chunk({ tool_calls: [{ index: this.tools++, id: callId(), type: 'function', function: { name: p.functionCall.name, arguments: JSON.stringify(p.functionCall.args ?? {}) } }] }))
    }
    if (c?.finishReason) this.finish = this.tools > 0 ? 'tool_calls' : (FINISH[c.finishReason] ?? 'stop')
    return out
  }

  /** The finish and usage chunks, at the end of the upstream stream. */
  end(): Json[] {
    return [this.chunk({}, this.finish ?? 'stop'), { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage: geminiUsage(this.usage) }]
  }
}
