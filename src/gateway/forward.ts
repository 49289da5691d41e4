/**
 * @module The non-streaming JSON endpoints (embeddings, images): try each target in turn (breakers, retries on
 * 5xx/429/unreachable, upstream 4xx passed through), settle once, and splice the viapi block into the upstream body.
 */
import { BadGateway, GatewayError, GatewayTimeout, ServiceUnavailable, UpstreamRejected, type ErrorType } from '../shared/errors.ts'
import { redact } from '../shared/secrets.ts'
import type { GatewayContext } from './context.ts'
import type { KeyEntry } from './key-cache.ts'
import { adapterOf } from './targets.ts'
import type { ProviderAdapter } from './providers/types.ts'
import type { Target } from './resolve.ts'
import type { RequestMeter, Settlement } from './settle.ts'

export interface JsonCall {
  /** What the endpoint serves, for the error when a provider cannot ("embeddings", "image generation"). */
  what: string
  /** Sends the request to one target, or null when its adapter lacks the capability. */
  send(adapter: ProviderAdapter, target: Target, signal: AbortSignal): Promise<Response> | null
  /** The bill for an accepted answer; throws when the answer is not what the endpoint returns. */
  bill(answer: Record<string, unknown>, target: Target): Pick<Settlement, 'usage' | 'costNano'>
}

export async function forwardJson(gw: GatewayContext, entry: KeyEntry, request: Request, targets: Target[], meter: RequestMeter, call: JsonCall): Promise<Response> {
  let last: GatewayError | null = null
  for (const target of targets) {
    const key = `${target.provider}:${target.modelId}`
    const adapter = adapterOf(gw, entry, target.provider)
    if (!adapter?.configured) {
      last = new ServiceUnavailable(`The provider "${target.provider}" is not configured on this gateway.`, 'provider_not_configured')
      continue
    }
    if (!gw.breakers.allow(key)) {
      last = new ServiceUnavailable(`The upstream ${key} is failing and temporarily skipped.`, 'circuit_open')
      continue
    }
    const timeout = AbortSignal.timeout(gw.config.upstreamTimeoutMs)
    const pending = call.send(adapter, target, AbortSignal.any([timeout, request.signal]))
    if (!pending) {
      last = new ServiceUnavailable(`The provider "${target.provider}" cannot serve ${call.what} here.`, 'provider_not_configured')
      continue
    }
    meter.target = target
    try {
      const res = await pending
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
      const bill = call.bill(JSON.parse(text) as Record<string, unknown>, target)
      gw.breakers.success(key)
      const block = meter.settle({ status: 200, outcome: 'ok', ...bill })
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
