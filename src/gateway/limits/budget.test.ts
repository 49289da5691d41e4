import { describe, expect, test } from 'bun:test'
import { allowance, crossed, reserve, settle, type Budget, type MoneyCheck, type Reservation } from './budget.ts'

const budget = (kind: Budget['kind'], global: bigint): Budget => ({ id: 'b', kind, global, unsynced: 0n, sending: 0n, reserved: 0n, seed: global, touchedAt: 0 })
const cap = (limit: bigint, spent = 0n, enforcement: 'hard' | 'soft' = 'hard'): MoneyCheck => ({ budget: budget('spend', spent), limit, enforcement, name: 'cap' })

describe('money guardrails', () => {
  test.each([
    ['spend under cap', cap(1000n, 400n), 1, 600n],
    ['spend over cap', cap(1000n, 1200n), 1, -200n],
    ['half share', cap(1000n, 400n), 0.5, 300n],
    ['credit balance', { budget: budget('credit', 250n), limit: 0n, enforcement: 'hard', name: 'credit' } as MoneyCheck, 1, 250n],
  ])('allowance: %s', (_n, check, share, left) => {
    expect(allowance(check, share)).toBe(left)
  })

  test('reservations are clamped to what is left, and a hard check with nothing left refuses', () => {
    const c = cap(1000n)
    const r1 = reserve([c], 700n, 1) as Reservation
    expect(r1.amount).toBe(700n)
    const r2 = reserve([c], 700n, 1) as Reservation
    expect(r2.amount).toBe(300n)
    expect(reserve([c], 700n, 1)).toEqual({ refused: c })
    settle(r1, 650n, 1)
    settle(r2, 640n, 1)
    // billed 1,290 against a cap of 1,000: overspend 290, under one request's worst case (700)
    expect(c.budget.unsynced).toBe(1290n)
    expect(c.budget.reserved).toBe(0n)
    expect(reserve([c], 1n, 1)).toEqual({ refused: c })
  })

  test('a known cost must be covered whole: refused when less is left, never clamped', () => {
    const c = cap(1000n)
    expect(reserve([c], 1001n, 1, true)).toEqual({ refused: c })
    expect(c.budget.reserved).toBe(0n)
    const r = reserve([c], 600n, 1, true) as Reservation
    expect(r.amount).toBe(600n)
    expect(reserve([c], 500n, 1, true)).toEqual({ refused: c })
    expect((reserve([c], 400n, 1, true) as Reservation).amount).toBe(400n)
  })

  test('a soft check never refuses but still tracks', () => {
    const c = cap(100n, 500n, 'soft')
    const r = reserve([c], 50n, 1) as Reservation
    expect(r.amount).toBe(50n)
    settle(r, 40n, 1)
    expect(c.budget.unsynced).toBe(40n)
  })

  test('credit is debited by settling', () => {
    const c: MoneyCheck = { budget: budget('credit', 1000n), limit: 0n, enforcement: 'hard', name: 'credit' }
    settle(reserve([c], 300n, 1) as Reservation, 120n, 1)
    expect(allowance(c, 1)).toBe(880n)
  })

  test('200 concurrent admissions against a cap that fits about 50: bounded overspend', () => {
    const c = cap(50n * 12_600n)
    const held: Reservation[] = []
    for (let i = 0; i < 200; i++) {
      const r = reserve([c], 13_000n, 1)
      if ('amount' in r) held.push(r)
    }
    for (const r of held) settle(r, 12_600n, 1)
    const billed = BigInt(held.length) * 12_600n
    expect(held.length).toBe(49)
    expect(billed).toBeLessThanOrEqual(c.limit + 13_000n)
  })

  test.each([
    [[50, 80, 100], 1000n, 400n, 550n, [50]],
    [[50, 80, 100], 1000n, 400n, 1000n, [50, 80, 100]],
    [[50, 80, 100], 1000n, 500n, 600n, []],
    [[50], 0n, 0n, 10n, []],
  ])('crossed(%p, limit %p, %p -> %p)', (t, limit, before, after, expected) => {
    expect(crossed(t, limit, before, after)).toEqual(expected)
  })
})
