/**
 * @module POST /v1/proxy/embeddings: OpenAI's embeddings request, routed like chat (aliases, allowlists, limits,
 * fallbacks, breakers), priced at the model's input price through the same meter, with the viapi block.
 */
import { mostBilled, tokenCost } from '../billing/pricing.ts'
import { InvalidRequest } from '../shared/errors.ts'
import { authenticate } from './auth.ts'
import { readJsonBody } from './body.ts'
import { admitTargets } from './targets.ts'
import type { GatewayContext } from './context.ts'
import { forwardJson } from './forward.ts'
import { RequestMeter } from './settle.ts'

export async function handleEmbeddings(gw: GatewayContext, request: Request, requestId: string, headers: Record<string, string | number>): Promise<Response> {
  const startedAt = performance.now()
  const entry = await authenticate(gw.keys, request.headers, Date.now())
  const { body, bytes } = await readJsonBody(request, gw.config.bodyLimitBytes)
  if (typeof body.model !== 'string' || body.model === '') throw new InvalidRequest('you must provide a model parameter', 'model', 'missing_required_parameter')
  const input = body.input
  const ok = typeof input === 'string' || (Array.isArray(input) && input.length > 0 && input.length <= 2048)
  if (!ok) throw new InvalidRequest("'input' must be a string or an array of 1 to 2048 items.", 'input', 'invalid_type')
  const model = body.model
  const targets = admitTargets(gw, entry, model, 'embedding')
  const worst = mostBilled(targets, entry.ctx.markupBps, (t) => tokenCost(t.model.prices, { promptTokens: bytes, cachedTokens: 0, completionTokens: 0 }))
  const admission = await gw.guard.admit(entry.ctx, worst, Date.now())
  Object.assign(headers, admission.headers)
  const meter = new RequestMeter(gw.meter, entry.ctx, requestId, model, false, startedAt, (billed) => gw.guard.settle(entry.ctx, admission, billed, Date.now()), 'embeddings')
  return forwardJson(gw, entry, request, targets, meter, {
    what: 'embeddings',
    supports: (adapter) => adapter.embeddings !== undefined,
    send: (adapter, target, signal, responseLimit) => adapter.embeddings!({ body: { ...body, model: target.upstreamModel }, signal, responseLimit }),
    bill(answer) {
      if (!Array.isArray(answer.data)) throw new Error('no data')
      const usage = answer.usage as { prompt_tokens?: number } | undefined
      return { usage: { prompt_tokens: usage?.prompt_tokens ?? 0, completion_tokens: 0 } }
    },
  })
}
