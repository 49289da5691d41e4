/** @module Calendar months in a firm's timezone: the label spend counters are keyed by, and when it changes. */

export interface Month {
  /** YYYY-MM in the timezone. */
  label: string
  /** First instant of the month and of the next one, ms. */
  startsAt: number
  endsAt: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function parts(timezone: string, at: number): { y: number; m: number } {
  let f = formatters.get(timezone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, year: 'numeric', month: '2-digit' })
    formatters.set(timezone, f)
  }
  const p = f.formatToParts(at)
  return { y: Number(p.find((x) => x.type === 'year')!.value), m: Number(p.find((x) => x.type === 'month')!.value) }
}

/** The month containing `at` in `timezone`. The end is found by search, so any IANA zone (DST included) works. */
export function monthOf(timezone: string, at: number): Month {
  const { y, m } = parts(timezone, at)
  const label = `${y}-${String(m).padStart(2, '0')}`
  const same = (t: number) => {
    const q = parts(timezone, t)
    return q.y === y && q.m === m
  }
  return { label, startsAt: edge(at - 32 * 86_400_000, at, (t) => !same(t)), endsAt: edge(at, at + 32 * 86_400_000, same) }
}

/** The first whole second in (lo, hi] where `before` stops holding, by binary search (zone offsets are whole seconds). */
function edge(lo: number, hi: number, before: (t: number) => boolean): number {
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2)
    if (before(mid)) lo = mid
    else hi = mid
  }
  // before(lo) holds and the edge is within a second after it: the next whole second.
  return Math.floor(lo / 1000) * 1000 + 1000
}

/** Caches the current month per timezone; recomputed only when a month ends. */
export class MonthClock {
  private readonly current = new Map<string, Month>()

  at(timezone: string, now: number): Month {
    const m = this.current.get(timezone)
    if (m && now < m.endsAt && now >= m.endsAt - 32 * 86_400_000) return m
    const fresh = monthOf(timezone, now)
    this.current.set(timezone, fresh)
    return fresh
  }
}
