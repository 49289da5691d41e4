import { describe, expect, test } from 'bun:test'
import { backoffMs, Breakers, retryAfterMs, type BreakerChange } from './breaker.ts'

describe('Breakers', () => {
  test('open after consecutive failures, one probe after the cool-down, closed on success', () => {
    let now = 0
    const news: BreakerChange[] = []
    const b = new Breakers({ threshold: 3, coolDownMs: 1000, now: () => now }, (c) => news.push(c))
    b.failure('t')
    b.failure('t')
    expect(b.allow('t')).toBe(true)
    b.failure('t')
    expect(b.allow('t')).toBe(false)
    expect(news).toEqual([{ target: 't', openUntil: 1000 }])
    now = 1000
    expect(b.allow('t')).toBe(true) // the probe
    expect(b.allow('t')).toBe(false) // only one
    b.success('t')
    expect(b.allow('t')).toBe(true)
    expect(news.at(-1)).toEqual({ target: 't', openUntil: 0 })
  })

  test('a failed probe reopens at once; a success resets the count', () => {
    let now = 0
    const b = new Breakers({ threshold: 2, coolDownMs: 500, now: () => now })
    b.failure('t')
    b.success('t')
    b.failure('t')
    expect(b.allow('t')).toBe(true)
    b.failure('t')
    now = 600
    expect(b.allow('t')).toBe(true)
    b.failure('t')
    expect(b.allow('t')).toBe(false)
    expect(b.isOpen('t')).toBe(true)
  })

  test('news from another replica opens and closes', () => {
    const b = new Breakers({ threshold: 5, coolDownMs: 1000, now: () => 0 })
    b.apply({ target: 't', openUntil: 100 })
    expect(b.allow('t')).toBe(false)
    b.apply({ target: 't', openUntil: 0 })
    expect(b.allow('t')).toBe(true)
  })
})

test.each([
  [1, 0.5, 100],
  [2, 0.5, 200],
  [3, 0.999, 799],
  [10, 1, 5000],
])('backoff attempt %p with random %p = %p ms', (attempt, r, ms) => {
  expect(backoffMs(attempt, 200, 5000, () => r)).toBe(ms)
})

test.each([
  ['2', 2000],
  ['0.5', 500],
  ['Thu, 01 Jan 2026 00:00:10 GMT', 10_000],
  [null, null],
  ['soon', null],
])('Retry-After %p = %p ms', (h, ms) => {
  expect(retryAfterMs(h, Date.parse('2026-01-01T00:00:00Z'))).toBe(ms)
})
