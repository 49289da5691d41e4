/** @module The gateway plugin: the OpenAI-compatible proxy routes under /v1/proxy. */
import { Elysia } from 'elysia'
import { handleChat } from './chat.ts'
import type { GatewayContext } from './context.ts'
import { proxyDocs } from './docs.ts'
import { handleEmbeddings } from './embeddings.ts'
import { listModels } from './models.ts'

export function gatewayPlugin(gw: GatewayContext) {
  return new Elysia({ name: 'gateway', prefix: '/v1/proxy' })
    .post('/chat/completions', ({ request, set }) => handleChat(gw, request, String(set.headers['x-viapi-request-id']), set.headers), { parse: 'none', detail: proxyDocs.chat })
    .post('/embeddings', ({ request, set }) => handleEmbeddings(gw, request, String(set.headers['x-viapi-request-id']), set.headers), { parse: 'none', detail: proxyDocs.embeddings })
    .get('/models', ({ request }) => listModels(gw, request.headers), { detail: proxyDocs.models })
}
