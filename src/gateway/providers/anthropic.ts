/**
 * @module Anthropic (Messages API): requests and responses translated both ways, the event stream turned into
 * OpenAI chunks as it arrives, with usage (input, output, cache reads and writes) carried to billing exactly.
 */
import { AnthropicStreamTranslator, fromAnthropicError, fromAnthropicResponse, toAnthropicRequest, TranslationError } from './anthropic-translate.ts'
import { retryAfterHeader, translatedStream } from './sse-parse.ts'
import type { ChatDispatch, Credentials, ProviderAdapter } from './types.ts'
import { upstreamRequest } from '../upstream-request.ts'
import { errorJson } from '../upstream-body.ts'

const VERSION = '2023-06-01'

/** `pooled`: send with the pooled HTTP/1.1 client (see http1.ts), else fetch. */
export function anthropicAdapter(creds: Credentials, pooled: boolean): ProviderAdapter {
  const url = `${creds.baseUrl}/v1/messages`
  const headers = { 'content-type': 'application/json', 'x-api-key': creds.apiKey ?? '', 'anthropic-version': VERSION }
  const streamHeaders = { ...headers, accept: 'text/event-stream' }
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
      const res = await upstreamRequest(url, { method: 'POST', headers: call.stream ? streamHeaders : headers, body: JSON.stringify(body), signal: call.signal }, pooled)
      const created = Math.floor(Date.now() / 1000)
      if (!res.ok) {
        const err = await errorJson(res)
        return Response.json(fromAnthropicError(res.status, err), { status: res.status, headers: retryAfterHeader(res) })
      }
      if (!call.stream) return Response.json(fromAnthropicResponse(JSON.parse(await res.text(call.responseLimit)) as Record<string, unknown>, created))
      const t = new AnthropicStreamTranslator(created)
      // Ended without message_stop: close without [DONE], so the gateway reports the break.
      return translatedStream(res, {
        event: (type, data) => t.event(type, data),
        get ended() {
          return t.ended
        },
        atEnd: () => null,
      })
    },
  }
}
