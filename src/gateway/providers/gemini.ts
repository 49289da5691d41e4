/**
 * @module Google Gemini (Generative Language API): generateContent and streamGenerateContent (SSE), translated both
 * ways; usage from usageMetadata. The key goes in the x-goog-api-key header, never in the URL.
 */
import { retryAfterHeader, translatedStream } from './sse-parse.ts'
import { fromGeminiError, fromGeminiResponse, GeminiStreamTranslator, GeminiTranslationError, toGeminiRequest } from './gemini-translate.ts'
import type { ChatDispatch, Credentials, EmbedDispatch, ProviderAdapter } from './types.ts'
import { upstreamRequest } from '../upstream-request.ts'
import { errorJson } from '../upstream-body.ts'

/** `pooled`: send with the pooled HTTP/1.1 client (see http1.ts), else fetch. */
export function geminiAdapter(creds: Credentials, pooled: boolean): ProviderAdapter {
  const headers = { 'content-type': 'application/json', 'x-goog-api-key': creds.apiKey ?? '' }
  return {
    id: 'gemini',
    configured: Boolean(creds.apiKey),
    capabilities: { chat: true, streaming: true },
    async chat(call: ChatDispatch): Promise<Response> {
      const model = String(call.body.model)
      let body
      try {
        body = toGeminiRequest(call.body)
      } catch (err) {
        if (err instanceof GeminiTranslationError) return Response.json({ error: { message: err.message, type: 'invalid_request_error', code: null, param: 'messages' } }, { status: 400 })
        throw err
      }
      const url = `${creds.baseUrl}/v1beta/models/${encodeURIComponent(model)}:${call.stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`
      const res = await upstreamRequest(url, { method: 'POST', headers, body: JSON.stringify(body), signal: call.signal }, pooled)
      const created = Math.floor(Date.now() / 1000)
      if (!res.ok) {
        return Response.json(fromGeminiError(res.status, await errorJson(res)), { status: res.status, headers: retryAfterHeader(res) })
      }
      if (!call.stream) return Response.json(fromGeminiResponse(JSON.parse(await res.text(call.responseLimit)) as Record<string, unknown>, model, created))
      const t = new GeminiStreamTranslator(model, created)
      return translatedStream(res, { event: (_name, data) => t.chunkOf(data), atEnd: (pending) => (pending > 0 ? new Error('the upstream stream ended mid-event') : t.end()) })
    },
    async embeddings(call: EmbedDispatch): Promise<Response> {
      const model = String(call.body.model)
      const inputs = Array.isArray(call.body.input) ? call.body.input.map(String) : [String(call.body.input ?? '')]
      const dims = typeof call.body.dimensions === 'number' ? { outputDimensionality: call.body.dimensions } : {}
      const res = await upstreamRequest(
        `${creds.baseUrl}/v1beta/models/${encodeURIComponent(model)}:batchEmbedContents`,
        { method: 'POST', headers, body: JSON.stringify({ requests: inputs.map((text) => ({ model: `models/${model}`, content: { parts: [{ text }] }, ...dims })) }), signal: call.signal },
        pooled,
      )
      if (!res.ok) return Response.json(fromGeminiError(res.status, await errorJson(res)), { status: res.status })
      const out = JSON.parse(await res.text(call.responseLimit)) as { embeddings?: { values?: number[] }[] }
      // The API reports no token count: estimate one token per four characters, as its own docs suggest.
      const tokens = inputs.reduce((n, t) => n + Math.ceil(t.length / 4), 0)
      return Response.json({
        object: 'list',
        // The OpenAI SDKs ask for base64 (little-endian float32) by default.
        data: (out.embeddings ?? []).map((e, index) => ({ object: 'embedding', index, embedding: call.body.encoding_format === 'base64' ? Buffer.from(new Float32Array(e.values ?? []).buffer).toString('base64') : (e.values ?? []) })),
        model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      })
    },
  }
}
