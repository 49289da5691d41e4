/**
 * @module The non-streaming JSON endpoints (embeddings, images): try each target in turn as chat does (breakers,
 * same-target retries on 5xx/429/unreachable honouring Retry-After, then the next target; an upstream 4xx passed
 * through), one usage event per failed attempt, settle once, and splice the viapi block into the upstream body.
 */
import { BadGateway, GatewayError, GatewayTimeout, ServiceUnavailable } from '../shared/errors.ts'
import type { GatewayContext } from './context.ts'
import type { KeyEntry } from './key-cache.ts'
import { adapterOf } from './targets.ts'
import type { ProviderAdapter } from './providers/types.ts'
import type { Target } from './resolve.ts'
import { pause, rejected, retryWait, type Failure } from './retry.ts'
import type { RequestMeter, Settlement } from './settle.ts'

export interface JsonCall {
  /** What the endpoint serves, for the error when a provider cannot ("embeddings", "image generation"). */
  what: string
  /** Sends the request to one target, or null when its adapter lacks the capability. */
  send(adapter: ProviderAdapter, target: Target, signal: AbortSignal): Promise<Response> | null
  /** The bill for an accepted answer; throws when the answer is not what the endpoint returns. */
  bill(answer: Record<string, unknown>, target: Target): Pick<Settlement, 'usage' | 'costNano'>
}

const skip = (error: GatewayError): Failure => ({ retryable: true, sameTarget: false, outcome: 'upstream_error', error })

export async function forwardJson(gw: GatewayContext, entry: KeyEntry, request: Request, targets: Target[], meter: RequestMeter, call: JsonCall): Promise<Response> {
  const clientSignal = request.signal
  let last: Failure | null = null
  // The previous failure, recorded as its own event once another attempt follows it (the last one is settled).
  let previous: { target: Target; failure: Failure } | null = null
  let attempt = 0
  let waited = 0
  targets: for (const target of targets) {
    const key = `${target.provider}:${target.modelId}`
    const adapter = adapterOf(gw, entry, target.provider)
    if (!adapter?.configured) {
      last = skip(new ServiceUnavailable(`The provider "${target.provider}" is not configured on this gateway.`, 'provider_not_configured'))
      continue
    }
    for (let tries = 1; ; tries++) {
      if (clientSignal.aborted) break targets
      if (!gw.breakers.allow(key)) {
        last = skip(new ServiceUnavailable(`The upstream ${key} is failing and temporarily skipped.`, 'circuit_open'))
        continue targets
      }
      const timeout = AbortSignal.timeout(gw.config.upstreamTimeoutMs)
      const pending = call.send(adapter, target, AbortSignal.any([timeout, clientSignal]))
      if (!pending) {
        last = skip(new ServiceUnavailable(`The provider "${target.provider}" cannot serve ${call.what} here.`, 'provider_not_configured'))
        continue targets
      }
      if (previous) {
        attempt++
        meter.attempt(attempt, previous.target, previous.failure.error.status, previous.failure.outcome, previous.failure.error.code)
        previous = null
      }
      meter.target = target
      const r = await once(pending, target, timeout, clientSignal, meter, call)
      if (r instanceof Response) {
        gw.breakers.success(key)
        return r
      }
      if (r === null) break targets
      last = r
      if (r.upstreamFault) gw.breakers.failure(key)
      if (!r.retryable) {
        meter.settle({ status: r.error.status, outcome: r.outcome, errorCode: r.error.code, usage: null })
        throw r.error
      }
      previous = { target, failure: r }
      const wait = retryWait(r, tries, waited, gw.config)
      if (wait === null) continue targets
      waited += wait
      if (!(await pause(wait, clientSignal))) break targets
    }
  }
  if (clientSignal.aborted) {
    meter.settle({ status: 499, outcome: 'client_abort', errorCode: 'client_closed', usage: null })
    throw new GatewayError(499, 'invalid_request_error', 'client_closed', 'The client closed the connection.')
  }
  const failure = last ?? skip(new BadGateway('No upstream could serve this request.'))
  meter.settle({ status: failure.error.status, outcome: failure.outcome, errorCode: failure.error.code, usage: null })
  throw failure.error
}

/** One try at one target: the answer with its viapi block, why it failed, or null when the client left. */
async function once(pending: Promise<Response>, target: Target, timeout: AbortSignal, clientSignal: AbortSignal, meter: RequestMeter, call: JsonCall): Promise<Response | Failure | null> {
  try {
    const res = await pending
    if (!res.ok) return await rejected(res)
    const text = await res.text()
    const bill = call.bill(JSON.parse(text) as Record<string, unknown>, target)
    const block = meter.settle({ status: 200, outcome: 'ok', ...bill })
    return new Response(`${text.slice(0, text.lastIndexOf('}'))},"viapi":${JSON.stringify(block)}}`, { headers: { 'content-type': 'application/json' } })
  } catch {
    if (clientSignal.aborted) return null
    if (timeout.aborted) return { retryable: true, sameTarget: false, upstreamFault: true, outcome: 'timeout', error: new GatewayTimeout() }
    return { retryable: true, sameTarget: true, upstreamFault: true, outcome: 'upstream_error', error: new BadGateway('The upstream returned an invalid response or could not be reached.', 'upstream_unreachable') }
  }
}
