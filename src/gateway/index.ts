/** @module The gateway plugin: the OpenAI-compatible proxy routes under /v1/proxy, and the cost estimate. */
import { Elysia } from 'elysia'
import { handleChat } from './chat.ts'
import type { GatewayContext } from './context.ts'
import { proxyDocs } from './docs.ts'
import { handleEmbeddings } from './embeddings.ts'
import { handleEstimate } from './estimate.ts'
import { handleImages } from './images.ts'
import { listModels } from './models.ts'
import { readVideoJob, submitVideoJob, videoContent } from './video.ts'

/** `adminFirm`: the firm of the admin calling (undefined: a platform admin), for reading a firm's video jobs. */
export function gatewayPlugin(gw: GatewayContext, adminFirm: (request: Request) => Promise<string | undefined>) {
  return new Elysia({ name: 'gateway' })
    .post('/v1/proxy/chat/completions', ({ request, set }) => handleChat(gw, request, String(set.headers['x-viapi-request-id']), set.headers), { parse: 'none', detail: proxyDocs.chat })
    .post('/v1/proxy/embeddings', ({ request, set }) => handleEmbeddings(gw, request, String(set.headers['x-viapi-request-id']), set.headers), { parse: 'none', detail: proxyDocs.embeddings })
    .post('/v1/proxy/images/generations', ({ request, set }) => handleImages(gw, request, String(set.headers['x-viapi-request-id']), set.headers), { parse: 'none', detail: proxyDocs.images })
    .get('/v1/proxy/models', ({ request }) => listModels(gw, request.headers), { detail: proxyDocs.models })
    .post('/v1/video/jobs', ({ request, set }) => submitVideoJob(gw, request, set.headers), { parse: 'none', detail: proxyDocs.videoSubmit })
    .get('/v1/video/jobs/:id', ({ request, params }) => readVideoJob(gw, request, params.id, adminFirm), { detail: proxyDocs.videoGet })
    .get('/v1/video/jobs/:id/content', ({ request, params }) => videoContent(gw, request, params.id, adminFirm), { detail: proxyDocs.videoContent })
    .post('/v1/estimate', ({ request }) => handleEstimate(gw, request), { parse: 'none', detail: proxyDocs.estimate })
}
