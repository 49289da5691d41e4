/**
 * @module Trying a request's targets in order, shared by every proxy endpoint: skip unconfigured providers and open
 * breakers, retry the same target on 5xx/429/connection trouble (Retry-After honoured, total waiting bounded), then
 * fail over; hand the caller its own 4xx; record each failed attempt that another follows as its own usage event,
 * and settle the request once when nothing answered.
 */
import type { Outcome } from '../billing/meter.ts'
import { BadGateway, GatewayError, ServiceUnavailable, UpstreamRejected, type ErrorType } from '../shared/errors.ts'
import { redact } from '../shared/secrets.ts'
import { backoffMs, retryAfterMs } from './breaker.ts'
import type { GatewayContext } from './context.ts'
import type { KeyEntry } from './key-cache.ts'
import type { ProviderAdapter } from './providers/types.ts'
import type { Target } from './resolve.ts'
import type { RequestMeter } from './settle.ts'
import { adapterOf } from './targets.ts'
import { errorJson, type UpstreamReply, type UpstreamTooLarge } from './upstream-body.ts'

/** A failed attempt: whether to try again (here or at the next target), and the error to show if none is left. */
export interface Failure {
  retryable: boolean
  /** Worth retrying on the same target (5xx, 429, connection trouble); else only the next target. */
  sameTarget: boolean
  /** The upstream's own Retry-After, ms. */
  retryAfterMs?: number
  /** Counts against the target's circuit breaker (the upstream misbehaved, not the request). */
  upstreamFault?: boolean
  error: GatewayError
  outcome: Extract<Outcome, 'upstream_error' | 'upstream_rejected' | 'timeout'>
}

/** An answer over VIAPI_UPSTREAM_BODY_LIMIT_BYTES: the upstream's fault; another target may answer within it. */
export function tooLarge(err: UpstreamTooLarge): Failure {
  return { retryable: true, sameTarget: false, upstreamFault: true, outcome: 'upstream_error', error: new BadGateway(`The upstream answer is larger than this gateway reads (${err.limit} bytes).`, 'upstream_response_too_large') }
}

/** An upstream error status: 429 and 5xx may go to the next target; other 4xx are the caller's and pass through. */
export async function rejected(res: UpstreamReply): Promise<Failure> {
  let message = `The upstream provider answered ${res.status}.`
  let type: ErrorType = res.status === 429 ? 'rate_limit_exceeded' : 'invalid_request_error'
  let code: string | null = null
  let param: string | null = null
  // Not JSON (null): keep the generic message.
  const e = ((await errorJson(res)) as { error?: { message?: unknown; type?: unknown; code?: unknown; param?: unknown } } | null)?.error
  if (e && typeof e.message === 'string') message = redact(e.message)
  if (e && typeof e.type === 'string') type = e.type as ErrorType
  if (e && typeof e.code === 'string') code = e.code
  if (e && typeof e.param === 'string') param = e.param
  if (res.status >= 500) return { retryable: true, sameTarget: true, upstreamFault: true, outcome: 'upstream_error', error: new BadGateway(`The upstream provider failed (${res.status}).`) }
  if (res.status === 429) {
    const after = retryAfterMs(res.headers.get('retry-after'))
    return { retryable: true, sameTarget: true, upstreamFault: true, ...(after !== null ? { retryAfterMs: after } : {}), outcome: 'upstream_rejected', error: new UpstreamRejected(res.status, message, type, code, param) }
  }
  return { retryable: false, sameTarget: false, outcome: 'upstream_rejected', error: new UpstreamRejected(res.status, message, type, code, param) }
}

interface RetryPolicy {
  retryAttempts: number
  retryBaseMs: number
  retryMaxWaitMs: number
}

/**
 * How long to wait before trying the same target again after try number `tries`, or null to move on: out of tries,
 * not a same-target failure, or a wait (the upstream's Retry-After, else jittered backoff) past what is left of
 * the request's waiting budget.
 */
function retryWait(failure: Failure, tries: number, waited: number, p: RetryPolicy): number | null {
  if (tries >= p.retryAttempts || !failure.sameTarget) return null
  const wait = failure.retryAfterMs ?? backoffMs(tries, p.retryBaseMs, p.retryMaxWaitMs)
  return wait > p.retryMaxWaitMs - waited ? null : wait
}

/** Waits `ms` unless the client goes away first; resolves whether it waited the whole time. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(!signal.aborted)
  return new Promise((resolve) => {
    const done = (full: boolean) => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      resolve(full)
    }
    const onAbort = () => done(false)
    const timer = setTimeout(() => done(true), ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** A target that is passed over without an attempt: the next one may serve. */
const passOver = (error: GatewayError): Failure => ({ retryable: true, sameTarget: false, outcome: 'upstream_error', error })

export interface TargetCall {
  /** Whether an adapter can serve this endpoint at all; a target whose adapter cannot is passed over. */
  supports(adapter: ProviderAdapter): boolean
  /** What the endpoint serves, for that error ("embeddings", "image generation"). */
  what: string
  /** One try at one target: the committed response, why it failed (before any byte reached the client), or null when the client left. */
  attempt(target: Target, adapter: ProviderAdapter): Promise<Response | Failure | null>
}

/** Tries `targets` in order until one answers; throws the last failure (settled) when none does. */
export async function dispatchTargets(gw: GatewayContext, entry: KeyEntry, targets: readonly Target[], meter: RequestMeter, clientSignal: AbortSignal, call: TargetCall): Promise<Response> {
  let last: Failure | null = null
  // The previous failure, recorded as its own event once another attempt follows it (the last one is settled).
  let previous: { target: Target; failure: Failure } | null = null
  let attempt = 0
  let waited = 0
  targets: for (const target of targets) {
    const key = target.key
    const adapter = adapterOf(gw, entry, target.provider)
    if (!adapter?.configured) {
      last = passOver(new ServiceUnavailable(`The provider "${target.provider}" is not configured on this gateway.`, 'provider_not_configured'))
      continue
    }
    if (!call.supports(adapter)) {
      last = passOver(new ServiceUnavailable(`The provider "${target.provider}" cannot serve ${call.what} here.`, 'provider_not_configured'))
      continue
    }
    for (let tries = 1; ; tries++) {
      if (clientSignal.aborted) break targets
      if (!gw.breakers.allow(key)) {
        last = passOver(new ServiceUnavailable(`The upstream ${key} is failing and temporarily skipped.`, 'circuit_open'))
        continue targets
      }
      if (previous) {
        attempt++
        meter.attempt(attempt, previous.target, previous.failure.error.status, previous.failure.outcome, previous.failure.error.code)
        previous = null
      }
      meter.target = target
      const r = await call.attempt(target, adapter)
      if (r instanceof Response) {
        gw.breakers.success(key)
        return r
      }
      if (r === null) break targets
      last = r
      if (r.upstreamFault) gw.breakers.failure(key)
      if (!r.retryable) break targets
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
  const failure = last ?? passOver(new BadGateway('No upstream could serve this request.'))
  meter.settle({ status: failure.error.status, outcome: failure.outcome, errorCode: failure.error.code, usage: null })
  throw failure.error
}
