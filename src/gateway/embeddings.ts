/**
 * @module POST /v1/proxy/embeddings: OpenAI's embeddings request, routed like chat (aliases, allowlists, limits,
 * fallbacks, breakers), priced at the model's input price through the same meter, with the viapi block.
 */
import { applyMarkup, tokenCost } from '../billing/pricing.ts'
import { BadGateway, GatewayError, GatewayTimeout, InvalidRequest, ServiceUnavailable, UpstreamRejected, type ErrorType } from '../shared/errors.ts'
import { redact } from '../shared/secrets.ts'
import { authenticate } from './auth.ts'
import { readJsonBody } from './body.ts'
import { adapterOf, admitTargets } from './chat.ts'
import type { GatewayContext } from './context.ts'
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
  let worst = 0n
  for (const t of targets) {
    const b = applyMarkup(tokenCost(t.model.prices, { promptTokens: bytes, cachedTokens: 0, completionTokens: 0 }), entry.ctx.markupBps).billedNano
    if (b > worst) worst = b
  }
  const admission = await gw.guard.admit(entry.ctx, worst, Date.now())
  Object.assign(headers, admission.headers)
  const meter = new RequestMeter(gw.meter, entry.ctx, requestId, model, false, startedAt, (billed) => gw.guard.settle(entry.ctx, admission, billed, Date.now()), 'embeddings')
  let last: GatewayError | null = null
  for (const target of targets) {
    const key = `${target.provider}:${target.modelId}`
    const adapter = adapterOf(gw, entry, target.provider)
    if (!adapter?.configured || !adapter.embeddings) {
      last = new ServiceUnavailable(`The provider "${target.provider}" cannot serve embeddings here.`, 'provider_not_configured')
      continue
    }
    if (!gw.breakers.allow(key)) {
      last = new ServiceUnavailable(`The upstream ${key} is failing and temporarily skipped.`, 'circuit_open')
      continue
    }
    meter.target = target
    const timeout = AbortSignal.timeout(gw.config.upstreamTimeoutMs)
    try {
      const res = await adapter.embeddings({ body: { ...body, model: target.upstreamModel }, signal: AbortSignal.any([timeout, request.signal]) })
      const text = await res.text()
      if (!res.ok) {
        if (res.status >= 500 || res.status === 429) {
          gw.breakers.failure(key)
          last = new BadGateway(`The upstream provider failed (${res.status}).`)
          continue
        }
        const e = (JSON.parse(text || '{}') as { error?: { message?: string; type?: string; code?: string; param?: string } }).error
        const rejected = new UpstreamRejected(res.status, redact(e?.message ?? `The upstream provider answered ${res.status}.`), (e?.type ?? 'invalid_request_error') as ErrorType, e?.code ?? null, e?.param ?? null)
        meter.settle({ status: res.status, outcome: 'upstream_rejected', errorCode: rejected.code, usage: null })
        throw rejected
      }
      const parsed = JSON.parse(text) as { data?: unknown; usage?: { prompt_tokens?: number } }
      if (!Array.isArray(parsed.data)) throw new Error('no data')
      gw.breakers.success(key)
      const block = meter.settle({ status: 200, outcome: 'ok', usage: { prompt_tokens: parsed.usage?.prompt_tokens ?? 0, completion_tokens: 0 } })
      return new Response(`${text.slice(0, text.lastIndexOf('}'))},"viapi":${JSON.stringify(block)}}`, { headers: { 'content-type': 'application/json' } })
    } catch (err) {
      if (err instanceof UpstreamRejected) throw err
      if (request.signal.aborted) break
      gw.breakers.failure(key)
      last = timeout.aborted ? new GatewayTimeout() : new BadGateway('The upstream returned an invalid response or could not be reached.', 'upstream_unreachable')
    }
  }
  const error = last ?? new BadGateway('No upstream could serve this request.')
  meter.settle({ status: error.status, outcome: error.status === 504 ? 'timeout' : 'upstream_error', errorCode: error.code, usage: null })
  throw error
}
