/**
 * @module Request-rate limits (RPM, RPD) as in-memory token buckets. With several replicas each holds a share of
 * every bucket (1/N of its tokens and refill); the sync loop (sync.ts) pushes what was taken and resets the share
 * from the global bucket in Redis, so the hot path never waits on the network.
 */
import { DAY, MINUTE, msUntil, msUntilFull, refill, take, type Bucket } from './bucket.ts'

export const DEFAULT_RPM = 60
export const DEFAULT_RPD = 10_000

export type Window = 'RPM' | 'RPD'

/** One limit that applies to a request: e.g. the client's RPM, or the key's RPD. */
export interface RateSpec {
  /** Stable id of the bucket, e.g. "c:cli_…:RPM". */
  id: string
  window: Window
  limit: number
}

export interface LocalBucket {
  id: string
  capacity: number
  ratePerMs: number
  /** This replica's share of the bucket, in whole-bucket tokens scaled by the share. */
  state: Bucket
  /** Tokens taken since the last sync snapshot, and those in a sync still under way. */
  taken: number
  sending: number
  touchedAt: number
}

export interface RateDecision {
  ok: boolean
  headers: Record<string, string>
  /** When refused: which limit, and how long until a token frees up. */
  refused?: { spec: RateSpec; retryAfterMs: number }
}

const windowMs = (w: Window) => (w === 'RPM' ? MINUTE : DAY)

/** The specs for a key: client limits (defaults when unset) and the key's own where set; both must admit. */
export function rateSpecs(l: { clientId: string; keyId: string; clientRpm: number | null; clientRpd: number | null; keyRpm: number | null; keyRpd: number | null }): RateSpec[] {
  const specs: RateSpec[] = [
    { id: `c:${l.clientId}:RPM`, window: 'RPM', limit: l.clientRpm ?? DEFAULT_RPM },
    { id: `c:${l.clientId}:RPD`, window: 'RPD', limit: l.clientRpd ?? DEFAULT_RPD },
  ]
  if (l.keyRpm !== null) specs.push({ id: `k:${l.keyId}:RPM`, window: 'RPM', limit: l.keyRpm })
  if (l.keyRpd !== null) specs.push({ id: `k:${l.keyId}:RPD`, window: 'RPD', limit: l.keyRpd })
  return specs
}

export class RateLimiter {
  readonly buckets = new Map<string, LocalBucket>()

  /** @param share this replica's fraction of every limit (1 / live replicas). */
  constructor(private readonly share: () => number) {}

  private bucket(spec: RateSpec, now: number): LocalBucket {
    const share = this.share()
    const capacity = spec.limit
    const ratePerMs = spec.limit / windowMs(spec.window)
    let b = this.buckets.get(spec.id)
    if (!b) {
      // First sight: assume our share of a full bucket; the next sync corrects it.
      b = { id: spec.id, capacity, ratePerMs, state: { tokens: capacity * share, updatedAt: now }, taken: 0, sending: 0, touchedAt: now }
      this.buckets.set(spec.id, b)
    } else if (b.capacity !== capacity) {
      // The limit changed: keep what is used, rescale to the new size.
      b.state.tokens = Math.min(b.state.tokens + (capacity - b.capacity) * share, capacity * share)
      b.capacity = capacity
      b.ratePerMs = ratePerMs
    }
    b.state = refill(b.state, capacity * share, ratePerMs * share, now)
    b.touchedAt = now
    return b
  }

  /** Takes a token from every bucket, or from none when one is empty. */
  admit(specs: RateSpec[], now: number): RateDecision {
    const share = this.share()
    const buckets = specs.map((s) => this.bucket(s, now))
    let refused: RateDecision['refused']
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i]!
      if (b.state.tokens < 1) {
        const wait = msUntil(b.state, b.ratePerMs * share)
        if (!refused || wait > refused.retryAfterMs) refused = { spec: specs[i]!, retryAfterMs: wait }
      }
    }
    if (!refused) {
      for (const b of buckets) {
        take(b.state)
        b.taken++
      }
    }
    return { ok: !refused, headers: this.headers(specs, buckets, share), ...(refused ? { refused } : {}) }
  }

  /** Returns the token admit() took from each bucket. */
  refund(specs: RateSpec[]): void {
    for (const s of specs) {
      const b = this.buckets.get(s.id)
      if (!b) continue
      b.state.tokens += 1
      if (b.taken > 0) b.taken--
    }
  }

  /** X-RateLimit-* for the binding (least remaining) bucket of each window. */
  private headers(specs: RateSpec[], buckets: LocalBucket[], share: number): Record<string, string> {
    const out: Record<string, string> = {}
    for (const w of ['RPM', 'RPD'] as const) {
      let best: { limit: number; remaining: number; resetMs: number } | null = null
      for (let i = 0; i < specs.length; i++) {
        if (specs[i]!.window !== w) continue
        const b = buckets[i]!
        const remaining = Math.max(0, Math.min(b.capacity, Math.floor(b.state.tokens / share + 1e-9)))
        if (!best || remaining < best.remaining) best = { limit: b.capacity, remaining, resetMs: msUntilFull({ tokens: b.state.tokens / share, updatedAt: 0 }, b.capacity, b.ratePerMs) }
      }
      if (!best) continue
      out[`x-ratelimit-limit-${w.toLowerCase()}`] = String(best.limit)
      out[`x-ratelimit-remaining-${w.toLowerCase()}`] = String(best.remaining)
      out[`x-ratelimit-reset-${w.toLowerCase()}`] = String(Math.ceil(best.resetMs / 1000))
    }
    return out
  }

  /** Buckets used recently, for the sync loop. */
  active(now: number, idleMs: number): LocalBucket[] {
    const out: LocalBucket[] = []
    for (const [id, b] of this.buckets) {
      if (now - b.touchedAt > idleMs && b.taken === 0 && b.sending === 0) this.buckets.delete(id)
      else out.push(b)
    }
    return out
  }
}
