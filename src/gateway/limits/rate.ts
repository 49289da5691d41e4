/**
 * @module Request-rate limits (RPM, RPD) as token buckets held in memory.
 *
 * Alone (no Redis, or Redis unreachable) a replica runs each bucket itself, at its share of the limit
 * (1 / live replicas, last known). With Redis the bucket lives there and replicas lease tokens from it: each
 * sync (sync.ts) hands back what a replica did not use and leases what its recent demand needs, so every token
 * is spent at most once across replicas and an idle replica parks at most one. A request that finds its lease
 * empty waits for the next sync (tens of ms) instead of being refused on a stale view; a request with tokens
 * at hand never waits.
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
  /** Alone: this replica's bucket at its share of the limit. */
  state: Bucket
  /** Leasing: tokens leased from Redis and not yet used. */
  lease: number
  /** Tokens in the global pool at the last sync (for headers and Retry-After). */
  pool: number
  /** Requests admitted and requests waiting since the last sync: the demand the next lease is sized to. */
  admitted: number
  waiting: number
  leased: boolean
  touchedAt: number
}

export interface RateDecision {
  ok: boolean
  headers: Record<string, string>
  /** When refused: which limit, and how long until a token frees up. */
  refused?: { spec: RateSpec; retryAfterMs: number }
}

export interface RateMode {
  /** True while Redis answers: buckets are leased. */
  leasing(): boolean
  /** This replica's fraction of a limit when alone. */
  share(): number
  /**
   * Resolves after a sync round that carries the caller's demand: started at once when `soon` (the shared bucket
   * had tokens when last seen: only this replica's lease ran dry), else the timer's next.
   */
  nextSync(soon: boolean): Promise<void>
}

export const windowMs = (w: Window) => (w === 'RPM' ? MINUTE : DAY)

/** Sync rounds a request whose lease ran dry waits for while the shared bucket has tokens, before it is refused. */
const LEASE_ROUNDS = 5

const WINDOWS = ['RPM', 'RPD'] as const
const HEADER_NAMES = {
  RPM: { limit: 'x-ratelimit-limit-rpm', remaining: 'x-ratelimit-remaining-rpm', reset: 'x-ratelimit-reset-rpm' },
  RPD: { limit: 'x-ratelimit-limit-rpd', remaining: 'x-ratelimit-remaining-rpd', reset: 'x-ratelimit-reset-rpd' },
} as const

type RateLimits = { clientId: string; keyId: string; clientRpm: number | null; clientRpd: number | null; keyRpm: number | null; keyRpd: number | null }

// Built once per key context (a reload brings a new one): the ids would otherwise be new strings per request.
const specsOf = new WeakMap<RateLimits, RateSpec[]>()

/** The specs for a key: client limits (defaults when unset) and the key's own where set; all must admit. */
export function rateSpecs(l: RateLimits): RateSpec[] {
  let specs = specsOf.get(l)
  if (!specs) specsOf.set(l, (specs = buildSpecs(l)))
  return specs
}

function buildSpecs(l: RateLimits): RateSpec[] {
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

  constructor(private readonly mode: RateMode) {}

  private bucket(spec: RateSpec, now: number, leasing: boolean, share: number): LocalBucket {
    const capacity = spec.limit
    const ratePerMs = spec.limit / windowMs(spec.window)
    let b = this.buckets.get(spec.id)
    if (!b) {
      b = { id: spec.id, capacity, ratePerMs, state: { tokens: capacity * share, updatedAt: now }, lease: 0, pool: capacity, admitted: 0, waiting: 0, leased: leasing, touchedAt: now }
      this.buckets.set(spec.id, b)
    } else if (b.capacity !== capacity) {
      // The limit changed: keep what is used, resize to the new limit.
      b.state.tokens = Math.min(b.state.tokens + (capacity - b.capacity) * share, capacity * share)
      b.pool = Math.min(b.pool + (capacity - b.capacity), capacity)
      b.capacity = capacity
      b.ratePerMs = ratePerMs
    }
    if (b.leased !== leasing) {
      // Redis back: start leasing from nothing (local tokens were never granted). Redis lost: what we hold plus
      // our share of the pool as last seen.
      if (leasing) b.lease = 0
      else b.state = { tokens: Math.min(capacity * share, b.lease + Math.max(0, b.pool) * share), updatedAt: now }
      b.leased = leasing
    }
    if (!leasing) refill(b.state, capacity * share, ratePerMs * share, now)
    b.touchedAt = now
    return b
  }

  /**
   * Takes a token from every bucket, or from none. With leases, waits for one sync when a lease is empty (the only
   * case that returns a promise): a lease runs dry when demand more than doubles within a sync interval, as when a
   * key starts being used.
   */
  admit(specs: RateSpec[], now: number): RateDecision | Promise<RateDecision> {
    const first = this.tryAdmit(specs, now, false)
    if (first.ok || !this.mode.leasing()) return first
    return this.awaitLease(specs)
  }

  /**
   * Waits for sync rounds until the request is admitted or refused by the shared bucket itself. Asking Redis at once
   * is worth it only when every dry lease has tokens behind it; a key at its limit waits for the timer's round, so
   * clients over their limit never add calls to Redis. A round can leave a waiter nothing though the shared bucket
   * has plenty (requests arriving while it was under way used the lease it renewed): then it asks again, a few times.
   */
  private async awaitLease(specs: RateSpec[]): Promise<RateDecision> {
    for (let round = 1; ; round++) {
      const soon = this.poolsHaveTokens(specs)
      for (const s of specs) {
        const b = this.buckets.get(s.id)
        if (b && b.lease < 1) b.waiting++
      }
      await this.mode.nextSync(soon)
      const d = this.tryAdmit(specs, Date.now(), true)
      if (d.ok || !soon || round === LEASE_ROUNDS || !this.mode.leasing() || !this.poolsHaveTokens(specs)) return d
    }
  }

  /** Every dry lease among the specs has tokens behind it in the shared bucket, as last seen. */
  private poolsHaveTokens(specs: RateSpec[]): boolean {
    for (const s of specs) {
      const b = this.buckets.get(s.id)
      if (b && b.lease < 1 && b.pool < 1) return false
    }
    return true
  }

  private tryAdmit(specs: RateSpec[], now: number, afterWait: boolean): RateDecision {
    const leasing = this.mode.leasing()
    const share = this.mode.share()
    const buckets = new Array<LocalBucket>(specs.length)
    let refused: RateDecision['refused']
    for (let i = 0; i < specs.length; i++) {
      const b = (buckets[i] = this.bucket(specs[i]!, now, leasing, share))
      if (afterWait && b.waiting > 0) b.waiting--
      const have = leasing ? b.lease : b.state.tokens
      if (have >= 1) continue
      const wait = leasing ? msUntil({ tokens: b.pool, updatedAt: 0 }, b.ratePerMs) : msUntil(b.state, b.ratePerMs * share)
      if (!refused || wait > refused.retryAfterMs) refused = { spec: specs[i]!, retryAfterMs: wait }
    }
    if (!refused) {
      for (const b of buckets) {
        if (leasing) b.lease -= 1
        else take(b.state)
        b.admitted++
      }
    }
    const headers = this.headers(specs, buckets, leasing, share)
    return refused ? { ok: false, headers, refused } : { ok: true, headers }
  }

  /** Returns the token admit() took from each bucket (the request was refused for another reason). */
  refund(specs: RateSpec[]): void {
    for (const s of specs) {
      const b = this.buckets.get(s.id)
      if (!b) continue
      if (b.leased) b.lease += 1
      else b.state.tokens += 1
      if (b.admitted > 0) b.admitted--
    }
  }

  /** X-RateLimit-* for the binding (least remaining) bucket of each window. Runs per request: no objects but the result. */
  private headers(specs: RateSpec[], buckets: LocalBucket[], leasing: boolean, share: number): Record<string, string> {
    const out: Record<string, string> = {}
    for (const w of WINDOWS) {
      let binding = -1
      let remaining = 0
      let level = 0
      for (let i = 0; i < specs.length; i++) {
        if (specs[i]!.window !== w) continue
        const b = buckets[i]!
        const l = leasing ? b.pool + b.lease : b.state.tokens / share
        const r = Math.max(0, Math.min(b.capacity, Math.floor(l + 1e-9)))
        if (binding === -1 || r < remaining) {
          binding = i
          remaining = r
          level = l
        }
      }
      if (binding === -1) continue
      const b = buckets[binding]!
      const names = HEADER_NAMES[w]
      out[names.limit] = String(b.capacity)
      out[names.remaining] = String(remaining)
      out[names.reset] = String(Math.ceil(msUntilFull(level, b.capacity, b.ratePerMs) / 1000))
    }
    return out
  }

  /** Buckets to sync: recently used, holding a lease, or awaited. Idle empty ones are dropped. */
  active(now: number, idleMs: number): LocalBucket[] {
    const out: LocalBucket[] = []
    for (const [id, b] of this.buckets) {
      if (now - b.touchedAt > idleMs && b.lease === 0 && b.waiting === 0 && b.admitted === 0) this.buckets.delete(id)
      else out.push(b)
    }
    return out
  }
}

/**
 * The lease a bucket asks for: twice its demand over a sync interval plus those waiting, at least one, at most the
 * limit. `scale`: the interval over the time since the last round (a round asked for early has seen a fraction of
 * an interval's demand, and its lease must last until the timer's). A lease shrinks by at most half a round: a
 * round that follows another within a millisecond or two has seen almost no demand, and sizing to that would leave
 * the requests arriving while it is under way a lease they have already used up.
 */
export function wanted(b: LocalBucket, scale = 1): number {
  return Math.max(1, Math.min(b.capacity, Math.max(Math.ceil(2 * b.admitted * scale) + b.waiting + 1, Math.ceil(b.lease / 2))))
}
