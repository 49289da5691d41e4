import { describe, expect, test } from 'bun:test'
import { RateLimiter, wanted, type LocalBucket, type RateSpec } from './rate.ts'

const bucket = (over: Partial<LocalBucket>): LocalBucket => ({
  id: 'b', capacity: 100_000, ratePerMs: 1, state: { tokens: 0, updatedAt: 0 }, lease: 0, pool: 100_000, admitted: 0, waiting: 0, leased: true, touchedAt: 0, ...over,
})

describe('the lease a bucket asks for', () => {
  test('twice the demand seen over an interval, plus those waiting, within 1 and the limit', () => {
    expect(wanted(bucket({ admitted: 10, waiting: 3 }))).toBe(24)
    expect(wanted(bucket({ admitted: 10 }), 4)).toBe(81)
    expect(wanted(bucket({}))).toBe(1)
    expect(wanted(bucket({ admitted: 10, capacity: 5 }))).toBe(5)
  })

  test('shrinks by at most half a round: a round right after another has seen almost no demand', () => {
    expect(wanted(bucket({ lease: 6000 }))).toBe(3000)
    expect(wanted(bucket({ lease: 3 }))).toBe(2)
    expect(wanted(bucket({ lease: -29 }))).toBe(1)
  })
})

describe('a request whose lease ran dry', () => {
  const specs: RateSpec[] = [{ id: 'c:cli:RPM', window: 'RPM', limit: 1000 }]
  /** Sync rounds played by the test: each resolves at once and sets the bucket as `rounds[n]` says. */
  const limiterWith = (rounds: { lease: number; pool: number }[]) => {
    const asked: boolean[] = []
    const limiter: RateLimiter = new RateLimiter({
      leasing: () => true,
      share: () => 1,
      nextSync: async (soon) => {
        const r = rounds[asked.length] ?? { lease: 0, pool: 0 }
        asked.push(soon)
        Object.assign(limiter.buckets.get('c:cli:RPM')!, r)
      },
    })
    return { limiter, asked }
  }

  test('asks again while the shared bucket has tokens, when other requests used up what a round renewed', async () => {
    const { limiter, asked } = limiterWith([{ lease: 0, pool: 900 }, { lease: 0, pool: 880 }, { lease: 4, pool: 870 }])
    const d = await limiter.admit(specs, Date.now())
    expect(d.ok).toBe(true)
    expect(asked).toEqual([true, true, true])
    expect(limiter.buckets.get('c:cli:RPM')!.lease).toBe(3)
  })

  test('is refused at once by a round that finds the shared bucket empty, and waits for the timer when it was already', async () => {
    const emptied = limiterWith([{ lease: 0, pool: 0 }])
    expect((await emptied.limiter.admit(specs, Date.now())).ok).toBe(false)
    expect(emptied.asked).toEqual([true])
    const full = limiterWith([{ lease: 0, pool: 0 }, { lease: 0, pool: 0 }])
    await full.limiter.admit(specs, Date.now())
    // The bucket now known empty: the next request's round is the timer's (soon false), and it is not asked again.
    const d = await full.limiter.admit(specs, Date.now())
    expect(d.ok).toBe(false)
    expect(d.refused?.spec.id).toBe('c:cli:RPM')
    expect(full.asked).toEqual([true, false])
  })

  test('gives up after a few rounds that leave it nothing, rather than wait without end', async () => {
    const { limiter, asked } = limiterWith(Array.from({ length: 20 }, () => ({ lease: 0, pool: 500 })))
    expect((await limiter.admit(specs, Date.now())).ok).toBe(false)
    expect(asked).toHaveLength(5)
  })
})
