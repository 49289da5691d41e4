/** @module OpenAI and any OpenAI-compatible upstream: the request and response already have the right shape. */
import type { ChatDispatch, ProviderAdapter } from './types.ts'

export interface OpenAiOptions {
  apiKey: string | undefined
  /** Base URL up to and including the version segment, e.g. https://api.openai.com/v1 */
  baseUrl: string
}

export function openAiAdapter(opts: OpenAiOptions): ProviderAdapter {
  const url = opts.baseUrl.replace(/\/+$/, '') + '/chat/completions'
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`
  return {
    id: 'openai',
    configured: Boolean(opts.apiKey),
    capabilities: { chat: true, streaming: true },
    chat: (call: ChatDispatch) =>
      fetch(url, {
        method: 'POST',
        headers: call.stream ? { ...headers, accept: 'text/event-stream' } : headers,
        body: JSON.stringify(call.body),
        signal: call.signal,
        // Admin-set upstream URLs must not be bounced elsewhere (design: no redirects).
        redirect: 'manual',
      }),
  }
}
