/**
 * @module Anthropic (Messages API): requests and responses translated both ways, the event stream turned into
 * OpenAI chunks as it arrives, with usage (input, output, cache reads and writes) carried to billing exactly.
 */
import { AnthropicStreamTranslator, fromAnthropicError, fromAnthropicResponse, toAnthropicRequest, TranslationError } from './anthropic-translate.ts'
import { SseParser } from './sse-parse.ts'
import type { ChatDispatch, Credentials, ProviderAdapter } from './types.ts'

const VERSION = '2023-06-01'
const enc = new TextEncoder()
const frame = (o: unknown) => enc.encode(`data: ${JSON.stringify(o)}\n\n`)

export function anthropicAdapter(creds: Credentials): ProviderAdapter {
  const url = `${creds.baseUrl}/v1/messages`
  return {
    id: 'anthropic',
    configured: Boolean(creds.apiKey),
    capabilities: { chat: true, streaming: true },
    async chat(call: ChatDispatch): Promise<Response> {
      let body
      try {
        body = toAnthropicRequest(call.body, call.maxOutputTokens ?? 4096)
      } catch (err) {
        if (err instanceof TranslationError) return Response.json({ error: { message: err.message, type: 'invalid_request_error', code: null, param: 'messages' } }, { status: 400 })
        throw err
      }
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': creds.apiKey ?? '', 'anthropic-version': VERSION, ...(call.stream ? { accept: 'text/event-stream' } : {}) },
        body: JSON.stringify(body),
        signal: call.signal,
        redirect: 'manual',
      })
      const created = Math.floor(Date.now() / 1000)
      if (!res.ok) {
        const err = await res.json().catch(() => null)
        return Response.json(fromAnthropicError(res.status, err), { status: res.status, headers: retryAfter(res) })
      }
      if (!call.stream) return Response.json(fromAnthropicResponse((await res.json()) as Record<string, unknown>, created))
      const reader = res.body!.getReader()
      const parser = new SseParser()
      const t = new AnthropicStreamTranslator(created)
      const decoder = new TextDecoder()
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(controller) {
            for (;;) {
              const { done, value } = await reader.read()
              if (done) {
                // Ended without message_stop: leave the stream unfinished so the gateway reports the break.
                controller.close()
                return
              }
              let sent = false
              for (const ev of parser.push(decoder.decode(value, { stream: true }))) {
                let data: Record<string, unknown>
                try {
                  data = JSON.parse(ev.data) as Record<string, unknown>
                } catch {
                  controller.error(new Error('the upstream sent an event that is not JSON'))
                  await reader.cancel().catch(() => {})
                  return
                }
                for (const p of t.event(ev.event !== 'message' ? ev.event : String(data.type ?? ''), data)) {
                  controller.enqueue(frame(p))
                  sent = true
                }
                if (t.ended) {
                  controller.enqueue(enc.encode('data: [DONE]\n\n'))
                  controller.close()
                  await reader.cancel().catch(() => {})
                  return
                }
              }
              if (sent) return
            }
          },
          cancel(reason) {
            return reader.cancel(reason)
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      )
    },
  }
}

function retryAfter(res: Response): Record<string, string> {
  const v = res.headers.get('retry-after')
  return v ? { 'retry-after': v } : {}
}
