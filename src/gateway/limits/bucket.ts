/**
 * @module Token-bucket arithmetic: a bucket holds up to `capacity` tokens and refills at `ratePerMs`; a request
 * takes one. Times are ms; token counts may be fractional, and negative after an overshoot.
 */

export interface Bucket {
  tokens: number
  updatedAt: number
}

/**
 * Brings the bucket to `now`, in place (refilled, never above capacity; a clock that went backwards refills nothing).
 * The rate limiter keeps one state per bucket rather than a new object per request.
 */
export function refill(b: Bucket, capacity: number, ratePerMs: number, now: number): void {
  const elapsed = Math.max(0, now - b.updatedAt)
  b.tokens = Math.min(capacity, b.tokens + elapsed * ratePerMs)
  b.updatedAt = Math.max(now, b.updatedAt)
}

/** Takes `n` tokens if there are that many; returns whether it did. Mutates the (already refilled) bucket. */
export function take(b: Bucket, n = 1): boolean {
  if (b.tokens < n) return false
  b.tokens -= n
  return true
}

/** ms until `n` tokens are available (0 if they are now). */
export function msUntil(b: Bucket, ratePerMs: number, n = 1): number {
  if (b.tokens >= n) return 0
  return ratePerMs > 0 ? ceilMs((n - b.tokens) / ratePerMs) : Number.POSITIVE_INFINITY
}

/** ms until a bucket holding `tokens` is full again. */
export function msUntilFull(tokens: number, capacity: number, ratePerMs: number): number {
  return tokens >= capacity ? 0 : ceilMs((capacity - tokens) / ratePerMs)
}

export const MINUTE = 60_000
export const DAY = 86_400_000

/** Rounds up, forgiving the float noise of rate arithmetic (1.0000000000000009 ms is 1 ms). */
function ceilMs(ms: number): number {
  return Math.ceil(ms - 1e-6)
}
