/**
 * @module Circuit breakers per upstream target ("provider:model"): open after consecutive failures, skip the
 * target while open, let one probe through when the cool-down ends (half-open), close on its success. A replica
 * that opens or closes a breaker tells the others over the change bus (Redis pub/sub when configured).
 */

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  threshold: number
  /** How long it stays open before a probe, ms. */
  coolDownMs: number
  now?: () => number
}

interface State {
  failures: number
  openUntil: number
  probing: boolean
}

export type BreakerChange = { target: string; openUntil: number }

export class Breakers {
  private readonly states = new Map<string, State>()
  private readonly now: () => number

  constructor(
    private readonly o: BreakerOptions,
    /** Called when this replica opens or closes a breaker (to tell the others). */
    private readonly announce: (c: BreakerChange) => void = () => {},
  ) {
    this.now = o.now ?? Date.now
  }

  private state(target: string): State {
    let s = this.states.get(target)
    if (!s) {
      s = { failures: 0, openUntil: 0, probing: false }
      this.states.set(target, s)
    }
    return s
  }

  /** Whether a request may go to the target now; past the cool-down exactly one probe is let through. */
  allow(target: string): boolean {
    const s = this.states.get(target)
    if (!s || s.openUntil === 0) return true
    if (this.now() < s.openUntil) return false
    if (s.probing) return false
    s.probing = true
    return true
  }

  success(target: string): void {
    const s = this.states.get(target)
    if (!s) return
    const wasOpen = s.openUntil !== 0
    s.failures = 0
    s.openUntil = 0
    s.probing = false
    if (wasOpen) this.announce({ target, openUntil: 0 })
  }

  failure(target: string): void {
    const s = this.state(target)
    s.failures++
    if (s.probing || (s.openUntil === 0 && s.failures >= this.o.threshold)) {
      s.openUntil = this.now() + this.o.coolDownMs
      s.probing = false
      this.announce({ target, openUntil: s.openUntil })
    }
  }

  /** Another replica's news. */
  apply(c: BreakerChange): void {
    const s = this.state(c.target)
    s.openUntil = c.openUntil
    s.probing = false
    if (c.openUntil === 0) s.failures = 0
  }

  isOpen(target: string): boolean {
    const s = this.states.get(target)
    return Boolean(s && s.openUntil !== 0 && this.now() < s.openUntil)
  }
}

/** Delay before retry `attempt` (1-based): exponential with full jitter, at most `maxMs`. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.min(maxMs, Math.floor(random() * baseMs * 2 ** (attempt - 1)))
}

/** Retry-After in ms (seconds or an HTTP date), or null when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | null {
  if (!header) return null
  if (/^\d+(\.\d+)?$/.test(header.trim())) return Math.ceil(Number(header) * 1000)
  const at = Date.parse(header)
  return Number.isNaN(at) ? null : Math.max(0, at - now)
}
