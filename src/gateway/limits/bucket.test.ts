import { describe, expect, test } from 'bun:test'
import { msUntil, msUntilFull, refill, take, type Bucket } from './bucket.ts'

const rpm60 = 60 / 60_000 // one token a second

describe('token bucket', () => {
  test.each([
    ['no time passes', { tokens: 10, updatedAt: 1000 }, 1000, 10],
    ['refills by rate', { tokens: 10, updatedAt: 1000 }, 3000, 12],
    ['never above capacity', { tokens: 59, updatedAt: 0 }, 10_000, 60],
    ['clock going backwards refills nothing', { tokens: 5, updatedAt: 5000 }, 4000, 5],
    ['debt is paid back by refill', { tokens: -3, updatedAt: 0 }, 2000, -1],
  ] as [string, Bucket, number, number][])('%s', (_n, b, now, tokens) => {
    const before = { ...b }
    refill(b, 60, rpm60, now)
    expect(b.tokens).toBeCloseTo(tokens, 9)
    expect(b.updatedAt).toBe(Math.max(now, before.updatedAt))
  })

  test('a full minute bucket admits exactly its capacity at once, then one per second', () => {
    const b: Bucket = { tokens: 60, updatedAt: 0 }
    let admitted = 0
    for (let i = 0; i < 100; i++) if (take(b)) admitted++
    expect(admitted).toBe(60)
    expect(msUntil(b, rpm60)).toBe(1000)
    refill(b, 60, rpm60, 999)
    expect(take(b)).toBe(false)
    refill(b, 60, rpm60, 1000)
    expect(take(b)).toBe(true)
  })

  test('time to full', () => {
    expect(msUntilFull(30, 60, rpm60)).toBe(30_000)
    expect(msUntilFull(60, 60, rpm60)).toBe(0)
  })

  test('take refuses fractional shortfalls', () => {
    const b = { tokens: 0.999, updatedAt: 0 }
    expect(take(b)).toBe(false)
    expect(msUntil(b, rpm60)).toBe(1)
  })
})
