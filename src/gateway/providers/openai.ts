/**
 * @module OpenAI and every OpenAI-compatible upstream (Groq, Mistral, Together, DeepSeek, Fireworks, xAI,
 * OpenRouter, a generic one): the request and response already have the right shape, so an adapter is a base URL.
 */
import { upstreamRequest } from '../upstream-request.ts'
import type { ChatDispatch, Credentials, EmbedDispatch, ProviderAdapter, ProviderId } from './types.ts'

/** `pooled`: send with the pooled HTTP/1.1 client (see http1.ts), else fetch. */
export function openAiCompatible(id: ProviderId, creds: Credentials, pooled: boolean): ProviderAdapter {
  const url = `${creds.baseUrl}/chat/completions`
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (creds.apiKey) headers.authorization = `Bearer ${creds.apiKey}`
  const streamHeaders = { ...headers, accept: 'text/event-stream' }
  return {
    id,
    configured: Boolean(creds.apiKey),
    capabilities: { chat: true, streaming: true },
    sendsClientText: true,
    chat: (call: ChatDispatch) => upstreamRequest(url, { method: 'POST', headers: call.stream ? streamHeaders : headers, body: call.json(), signal: call.signal }, pooled),
    embeddings: (call: EmbedDispatch) => upstreamRequest(`${creds.baseUrl}/embeddings`, { method: 'POST', headers, body: JSON.stringify(call.body), signal: call.signal }, pooled),
    images: (call: EmbedDispatch) => upstreamRequest(`${creds.baseUrl}/images/generations`, { method: 'POST', headers, body: JSON.stringify(call.body), signal: call.signal }, pooled),
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
