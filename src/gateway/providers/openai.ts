/**
 * @module OpenAI and every OpenAI-compatible upstream (Groq, Mistral, Together, DeepSeek, Fireworks, xAI,
 * OpenRouter, a generic one): the request and response already have the right shape, so an adapter is a base URL.
 */
import type { ChatDispatch, Credentials, EmbedDispatch, ProviderAdapter, ProviderId } from './types.ts'

export function openAiCompatible(id: ProviderId, creds: Credentials): ProviderAdapter {
  const url = `${creds.baseUrl}/chat/completions`
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (creds.apiKey) headers.authorization = `Bearer ${creds.apiKey}`
  return {
    id,
    configured: Boolean(creds.apiKey),
    capabilities: { chat: true, streaming: true },
    chat: (call: ChatDispatch) =>
      fetch(url, {
        method: 'POST',
        headers: call.stream ? { ...headers, accept: 'text/event-stream' } : headers,
        body: JSON.stringify(call.body),
        signal: call.signal,
        // Upstream URLs must not be bounced elsewhere (design: no redirects).
        redirect: 'manual',
      }),
    embeddings: (call: EmbedDispatch) =>
      fetch(`${creds.baseUrl}/embeddings`, { method: 'POST', headers, body: JSON.stringify(call.body), signal: call.signal, redirect: 'manual' }),
    images: (call: EmbedDispatch) =>
      fetch(`${creds.baseUrl}/images/generations`, { method: 'POST', headers, body: JSON.stringify(call.body), signal: call.signal, redirect: 'manual' }),
  }
}

/** Public endpoints of the OpenAI-compatible providers (with their version segment, as their SDKs use them). */
export const COMPATIBLE_BASE_URLS = {
  openai: 'https://api.openai.com/v1',
  groq: 'https://api.groq.com/openai/v1',
  mistral: 'https://api.mistral.ai/v1',
  together: 'https://api.together.xyz/v1',
  deepseek: 'https://api.deepseek.com/v1',
  fireworks: 'https://api.fireworks.ai/inference/v1',
  xai: 'https://api.x.ai/v1',
  openrouter: 'https://openrouter.ai/api/v1',
  // No public default: the operator (or, later, the firm) names the server.
  'openai-compatible': 'http://127.0.0.1:1/v1',
} as const satisfies Partial<Record<ProviderId, string>>
