/**
 * @module What the proxy endpoints share about a failed attempt: how an upstream's error status reads (retry here,
 * fail over, or hand the caller its own 4xx), how long to wait before the same target again, and the wait itself.
 */
import type { Outcome } from '../billing/meter.ts'
import { BadGateway, GatewayError, UpstreamRejected, type ErrorType } from '../shared/errors.ts'
import { redact } from '../shared/secrets.ts'
import { backoffMs, retryAfterMs } from './breaker.ts'

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

/** An upstream error status: 429 and 5xx may go to the next target; other 4xx are the caller's and pass through. */
export async function rejected(res: Response): Promise<Failure> {
  const text = (await res.text().catch(() => '')).slice(0, 64 * 1024)
  let message = `The upstream provider answered ${res.status}.`
  let type: ErrorType = res.status === 429 ? 'rate_limit_exceeded' : 'invalid_request_error'
  let code: string | null = null
  let param: string | null = null
  try {
    const e = (JSON.parse(text) as { error?: { message?: unknown; type?: unknown; code?: unknown; param?: unknown } }).error
    if (e && typeof e.message === 'string') message = redact(e.message)
    if (e && typeof e.type === 'string') type = e.type as ErrorType
    if (e && typeof e.code === 'string') code = e.code
    if (e && typeof e.param === 'string') param = e.param
  } catch {
    // not JSON: keep the generic message
  }
  if (res.status >= 500) return { retryable: true, sameTarget: true, upstreamFault: true, outcome: 'upstream_error', error: new BadGateway(`The upstream provider failed (${res.status}).`) }
  if (res.status === 429) {
    const after = retryAfterMs(res.headers.get('retry-after'))
    return { retryable: true, sameTarget: true, upstreamFault: true, ...(after !== null ? { retryAfterMs: after } : {}), outcome: 'upstream_rejected', error: new UpstreamRejected(res.status, message, type, code, param) }
  }
  return { retryable: false, sameTarget: false, outcome: 'upstream_rejected', error: new UpstreamRejected(res.status, message, type, code, param) }
}

export interface RetryPolicy {
  retryAttempts: number
  retryBaseMs: number
  retryMaxWaitMs: number
}

/**
 * How long to wait before trying the same target again after try number `tries`, or null to move on: out of tries,
 * not a same-target failure, or a wait (the upstream's Retry-After, else jittered backoff) past what is left of
 * the request's waiting budget.
 */
export function retryWait(failure: Failure, tries: number, waited: number, p: RetryPolicy): number | null {
  if (tries >= p.retryAttempts || !failure.sameTarget) return null
  const wait = failure.retryAfterMs ?? backoffMs(tries, p.retryBaseMs, p.retryMaxWaitMs)
  return wait > p.retryMaxWaitMs - waited ? null : wait
}

/** Waits `ms` unless the client goes away first; resolves whether it waited the whole time. */
export function pause(ms: number, signal: AbortSignal): Promise<boolean> {
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
