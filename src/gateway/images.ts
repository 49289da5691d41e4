/**
 * @module POST /v1/proxy/images/generations: OpenAI's image request, routed, limited and allowlisted like chat.
 * Reserved at n × the per-image price (plus the prompt at the input price where the model bills tokens), billed per
 * image delivered — or by token usage where the model reports it (gpt-image-1) — with the viapi block.
 */
import { imageUnitPrice, mostBilled, tokenCost } from '../billing/pricing.ts'
import { InvalidRequest } from '../shared/errors.ts'
import { authenticate } from './auth.ts'
import { readJsonBody } from './body.ts'
import { admitTargets } from './targets.ts'
import type { GatewayContext } from './context.ts'
import { forwardJson } from './forward.ts'
import type { Target } from './resolve.ts'
import { RequestMeter } from './settle.ts'

/** OpenAI's default when a request names no model. */
const DEFAULT_IMAGE_MODEL = 'dall-e-2'

export interface ImageRequest {
  model: string
  n: number
  body: Record<string, unknown>
  bytes: number
}

/** Validates an image request body the way OpenAI does (prompt required, n a whole number 1–10); an estimate needs no prompt. */
export function parseImageRequest(body: Record<string, unknown>, bytes: number, needsPrompt = true): ImageRequest {
  if (needsPrompt && (typeof body.prompt !== 'string' || body.prompt === '')) throw new InvalidRequest('you must provide a prompt parameter', 'prompt', 'missing_required_parameter')
  const n = body.n ?? 1
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 10) throw new InvalidRequest("'n' must be a whole number from 1 to 10.", 'n', 'invalid_value')
  if (body.model !== undefined && (typeof body.model !== 'string' || body.model === '')) throw new InvalidRequest("'model' must be a string.", 'model', 'invalid_type')
  return { model: (body.model as string | undefined) ?? DEFAULT_IMAGE_MODEL, n, body, bytes }
}

/** The targets that offer the requested size and quality, each with its per-image price. */
export function pricedImageTargets(targets: readonly Target[], req: ImageRequest): { target: Target; unitNano: bigint }[] {
  const priced = targets.flatMap((target) => {
    const unitNano = target.model.image ? imageUnitPrice(target.model.image, req.body.size, req.body.quality) : null
    return unitNano === null ? [] : [{ target, unitNano }]
  })
  if (priced.length === 0) {
    throw new InvalidRequest(`The model "${req.model}" does not offer size ${JSON.stringify(req.body.size ?? 'default')} with quality ${JSON.stringify(req.body.quality ?? 'default')}.`, 'size', 'invalid_value')
  }
  return priced
}

/** Most the request can cost on one target: n images, plus the prompt (every byte a token) where tokens are priced. */
export function imageWorstCost(req: ImageRequest, t: { target: Target; unitNano: bigint }): bigint {
  return BigInt(req.n) * t.unitNano + tokenCost(t.target.model.prices, { promptTokens: req.bytes, cachedTokens: 0, completionTokens: 0 })
}

export async function handleImages(gw: GatewayContext, request: Request, requestId: string, headers: Record<string, string | number>): Promise<Response> {
  const startedAt = performance.now()
  const entry = await authenticate(gw.keys, request.headers, Date.now())
  const { body, bytes } = await readJsonBody(request, gw.config.bodyLimitBytes)
  const req = parseImageRequest(body, bytes)
  const priced = pricedImageTargets(admitTargets(gw, entry, req.model, 'image'), req)
  const admission = await gw.guard.admit(entry.ctx, mostBilled(priced, entry.ctx.markupBps, (p) => imageWorstCost(req, p)), Date.now(), true)
  Object.assign(headers, admission.headers)
  const meter = new RequestMeter(gw.meter, entry.ctx, requestId, req.model, false, startedAt, (billed) => gw.guard.settle(entry.ctx, admission, billed, Date.now()), 'images.generations')
  const unitOf = new Map(priced.map((p) => [p.target, p.unitNano]))
  return forwardJson(gw, entry, request, priced.map((p) => p.target), meter, {
    what: 'image generation',
    supports: (adapter) => adapter.images !== undefined,
    send: (adapter, target, signal, responseLimit) => adapter.images!({ body: { ...body, model: target.upstreamModel }, signal, responseLimit }),
    bill(answer, target) {
      if (!Array.isArray(answer.data)) throw new Error('no data')
      const usage = answer.usage as { input_tokens?: number; output_tokens?: number; input_tokens_details?: { cached_tokens?: number } } | undefined
      if (usage && typeof usage.output_tokens === 'number' && usage.output_tokens > 0) {
        return { usage: { prompt_tokens: usage.input_tokens ?? 0, completion_tokens: usage.output_tokens, prompt_tokens_details: { cached_tokens: usage.input_tokens_details?.cached_tokens ?? 0 } } }
      }
      return { usage: null, costNano: BigInt(answer.data.length) * unitOf.get(target)! }
    },
  })
}
