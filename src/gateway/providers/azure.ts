/**
 * @module Azure OpenAI: the OpenAI wire format at deployment-based URLs
 * (`<base>/openai/deployments/<deployment>/chat/completions?api-version=…`) with an `api-key` header. The catalog's
 * upstream model is the deployment name; AZURE_OPENAI_API_VERSION picks the API version.
 */
import { upstreamRequest } from '../upstream-request.ts'
import type { ChatDispatch, Credentials, ProviderAdapter } from './types.ts'

export const AZURE_API_VERSION = '2024-10-21'

export function azureAdapter(creds: Credentials, apiVersion: string, pooled: boolean): ProviderAdapter {
  return {
    id: 'azure-openai',
    configured: Boolean(creds.apiKey) && !creds.baseUrl.includes('.invalid'),
    capabilities: { chat: true, streaming: true },
    chat(call: ChatDispatch) {
      const deployment = encodeURIComponent(String(call.body.model))
      const { model: _model, ...body } = call.body
      return upstreamRequest(
        `${creds.baseUrl}/openai/deployments/${deployment}/chat/completions?api-version=${encodeURIComponent(apiVersion)}`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'api-key': creds.apiKey ?? '', ...(call.stream ? { accept: 'text/event-stream' } : {}) }, body: JSON.stringify(body), signal: call.signal },
        pooled,
      )
    },
  }
}
