/** @module OpenAPI descriptions for the proxy routes, with examples shaped like real responses. */
import type { DocumentDecoration } from 'elysia'

const security: Record<string, string[]>[] = [{ viapiKey: [] }, { bearerAuth: [] }]
const viapi = { request_id: 'req_01JX2Z7C1Q8V0S3M4N5P6R7T8W', client_id: 'cli_01JX…', provider: 'openai', model_used: 'gpt-4o', cost_usd: 0.000042, markup_usd: 0.000013, billed_usd: 0.000055 }

export const proxyDocs = {
  chat: {
    tags: ['Proxy'],
    summary: 'Chat completions (OpenAI-compatible), JSON or streamed',
    description:
      'OpenAI’s request and response, plus a `viapi` billing block. With `stream: true`, server-sent events in OpenAI’s framing; `viapi` rides on the finish chunk (or on the usage chunk when `stream_options.include_usage` is set).',
    security,
    requestBody: { required: true, content: { 'application/json': { example: { model: 'default', messages: [{ role: 'user', content: 'Hello!' }] } } } },
    responses: {
      200: {
        description: 'The completion',
        content: {
          'application/json': {
            example: {
              id: 'chatcmpl-abc123',
              object: 'chat.completion',
              created: 1714000000,
              model: 'gpt-4o',
              choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?' }, finish_reason: 'stop' }],
              usage: { prompt_tokens: 12, completion_tokens: 18, total_tokens: 30 },
              viapi,
            },
          },
          'text/event-stream': { example: 'data: {"id":"chatcmpl-abc123","object":"chat.completion.chunk",…}\n\ndata: [DONE]\n\n' },
        },
      },
      401: { description: 'Missing, unknown, revoked or expired key' },
      404: { description: 'Unknown model' },
      429: { description: 'Rate limit or quota exceeded' },
      502: { description: 'Upstream failed' },
      504: { description: 'Upstream timed out' },
    },
  },
  embeddings: {
    tags: ['Proxy'],
    summary: 'Embeddings (OpenAI-compatible)',
    description: 'OpenAI’s embeddings request and response (translated for Gemini), metered like chat, plus the `viapi` block.',
    security,
    requestBody: { required: true, content: { 'application/json': { example: { model: 'text-embedding-3-small', input: 'The quick brown fox' } } } },
    responses: {
      200: { description: 'The vectors', content: { 'application/json': { example: { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.0023, -0.0091] }], model: 'text-embedding-3-small', usage: { prompt_tokens: 5, total_tokens: 5 }, viapi } } } },
    },
  },
  images: {
    tags: ['Proxy'],
    summary: 'Image generation (OpenAI-compatible)',
    description:
      'OpenAI’s image request (`model`, `prompt`, `n`, `size`, `quality`, `style`, `response_format`) and response, priced per image by model, size and quality (by token usage where the model reports it), plus the `viapi` block.',
    security,
    requestBody: { required: true, content: { 'application/json': { example: { model: 'dall-e-3', prompt: 'A photorealistic sunset over the ocean', n: 1, size: '1024x1024', quality: 'hd' } } } },
    responses: {
      200: { description: 'The images', content: { 'application/json': { example: { created: 1714000000, data: [{ url: 'https://…/image.png', revised_prompt: '…' }], viapi: { ...viapi, model_used: 'dall-e-3', cost_usd: 0.08, markup_usd: 0, billed_usd: 0.08 } } } } },
      400: { description: 'Missing prompt, bad n, or a size/quality the model does not offer' },
      429: { description: 'Rate limit or quota exceeded' },
    },
  },
  videoSubmit: {
    tags: ['Video'],
    summary: 'Submit an async video generation job',
    description:
      'Holds the most the job can cost (its duration at the priciest target of its route, with markup) and answers 202 at once; a client that cannot cover the hold gets 429 `insufficient_quota`. The worker submits it to the provider, polls, and reconciles the hold to the bill on completion (released in full on failure or timeout).',
    security,
    requestBody: { required: true, content: { 'application/json': { example: { model: 'runway-gen3-alpha', prompt: 'A cinematic drone shot over a city at dusk', duration_seconds: 5, image: null, ratio: null } } } },
    responses: {
      202: { description: 'Queued', content: { 'application/json': { example: { viapi_job_id: 'vid_01JX…', object: 'video.job', status: 'queued', model: 'runway-gen3-alpha', duration_seconds: 5, viapi: { provider: 'runway', model_used: 'gen3a_turbo', estimated_cost_usd: 0.25, reserved_usd: 0.25 } } } } },
      400: { description: 'Missing model or prompt, or a duration the model does not offer' },
      429: { description: 'Rate limit, or the hold cannot be covered' },
    },
  },
  videoGet: {
    tags: ['Video'],
    summary: 'A video job: status, result URL, and its bill once final',
    description: 'Visible to the client that submitted it (its `vi_live_` key) and to its firm’s admins; anyone else gets 404.',
    security,
    responses: {
      200: {
        description: 'The job',
        content: { 'application/json': { example: { viapi_job_id: 'vid_01JX…', object: 'video.job', status: 'completed', result_url: 'https://…/video.mp4', viapi: { estimated_cost_usd: 0.25, reserved_usd: 0, cost_usd: 0.25, markup_usd: 0, billed_usd: 0.25 } } } },
      },
      404: { description: 'No such job for this caller' },
    },
  },
  videoContent: {
    tags: ['Video'],
    summary: 'The finished video',
    description: 'Streams the video of a completed job where the provider’s own URL needs the provider’s key (Sora, Veo); redirects to it otherwise. Same visibility as the job.',
    security,
    responses: { 200: { description: 'The video file' }, 302: { description: 'The provider’s URL' }, 404: { description: 'No such job, or no video yet' } },
  },
  estimate: {
    tags: ['Proxy'],
    summary: 'Estimate a request’s cost in cents (informational)',
    description:
      'The body a chat, embeddings or image call would take. Priced on the route’s primary target with the firm’s prices and the client’s markup, by the functions that bill; chat input is counted with the o200k tokenizer and output is `max_tokens` or an assumed 500 tokens. Never reserves or bills.',
    security,
    requestBody: { required: true, content: { 'application/json': { example: { model: 'dall-e-3', n: 1, size: '1024x1024', quality: 'hd' } } } },
    responses: {
      200: {
        description: 'The estimate',
        content: { 'application/json': { example: { estimated_cost_cents: 8, provider: 'openai', model: 'dall-e-3', breakdown: { provider_cost_cents: 8, markup_cents: 0 }, assumptions: { images: 1, unit_cost_cents: 8 } } } },
      },
    },
  },
  models: {
    tags: ['Proxy'],
    summary: 'Models and route aliases this key may call',
    security,
    responses: {
      200: {
        description: 'OpenAI list format',
        content: { 'application/json': { example: { object: 'list', data: [{ id: 'default', object: 'model', created: 0, owned_by: 'viapi' }, { id: 'gpt-4o', object: 'model', created: 0, owned_by: 'openai' }] } } },
      },
    },
  },
} satisfies Record<string, DocumentDecoration>
