/**
 * @module A deterministic in-process provider for the demo and tests: no network, answers derived from the
 * prompt, streams in OpenAI's exact SSE framing, and reports usage like OpenAI does.
 */
import type { ChatDispatch, EmbedDispatch, ProviderAdapter } from './types.ts'

interface MockMessage {
  role?: unknown
  content?: unknown
}

/** Rough token count: one token per 4 characters, at least one per word-ish piece. */
export function approxTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4))
}

function messageText(content: unknown): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) {
    return content.map((p: unknown) => (p && typeof p === 'object' && 'text' in p && typeof p.text === 'string' ? p.text : '')).join(' ')
  }
  return ''
}

/** OpenAI-style prompt token estimate: content tokens plus a few per message of framing. */
export function estimatePromptTokens(messages: unknown): number {
  if (!Array.isArray(messages)) return 0
  let n = 3
  for (const m of messages as MockMessage[]) n += 4 + approxTokens(messageText(m?.content))
  return n
}

function replyFor(messages: unknown): string {
  const list = Array.isArray(messages) ? (messages as MockMessage[]) : []
  const lastUser = [...list].reverse().find((m) => m?.role === 'user')
  const said = messageText(lastUser?.content).trim().slice(0, 200)
  return said ? `Hello from the Viapi mock provider! You said: "${said}"` : 'Hello from the Viapi mock provider!'
}

/** Words with their leading space, like a tokenizer's pieces. */
function pieces(text: string): string[] {
  return text.match(/\s*\S+/g) ?? []
}

/** A 1×1 transparent PNG. */
const PIXEL_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII='

export function mockAdapter(): ProviderAdapter {
  return {
    id: 'mock',
    configured: true,
    capabilities: { chat: true, streaming: true },
    async images(call: EmbedDispatch): Promise<Response> {
      if (call.signal.aborted) throw call.signal.reason
      const n = typeof call.body.n === 'number' ? call.body.n : 1
      const id = Date.now().toString(36)
      const asB64 = call.body.response_format === 'b64_json'
      const data = Array.from({ length: n }, (_, i) => (asB64 ? { b64_json: PIXEL_PNG } : { url: `https://images.mock.invalid/${id}-${i}.png` }))
      return Response.json({ created: Math.floor(Date.now() / 1000), data })
    },
    async chat(call: ChatDispatch): Promise<Response> {
      if (call.signal.aborted) throw call.signal.reason
      const model = String(call.body.model)
      const max = Number(call.body.max_completion_tokens ?? call.body.max_tokens ?? Infinity)
      let out = pieces(replyFor(call.body.messages))
      const finish = out.length > max ? 'length' : 'stop'
      if (out.length > max) out = out.slice(0, max)
      const usage = {
        prompt_tokens: estimatePromptTokens(call.body.messages),
        completion_tokens: out.length,
        total_tokens: 0,
        prompt_tokens_details: { cached_tokens: 0 },
      }
      usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
      const id = `chatcmpl-mock${Date.now().toString(36)}`
      const created = Math.floor(Date.now() / 1000)
      if (!call.stream) {
        return Response.json({
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: out.join('') }, finish_reason: finish }],
          usage,
        })
      }
      const wantUsage = (call.body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true
      const chunk = (delta: object, finishReason: string | null) =>
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finishReason }], ...(wantUsage ? { usage: null } : {}) })}\n\n`
      const events = [chunk({ role: 'assistant', content: '' }, null), ...out.map((p) => chunk({ content: p }, null)), chunk({}, finish)]
      if (wantUsage) events.push(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`)
      events.push('data: [DONE]\n\n')
      const encoder = new TextEncoder()
      return new Response(
        new ReadableStream({
          pull(controller) {
            const next = events.shift()
            if (next === undefined) controller.close()
            else controller.enqueue(encoder.encode(next))
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      )
    },
  }
}
