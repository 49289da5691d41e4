import { expect, test } from 'bun:test'
import { divRound, nanoToUsd, usdToNano } from './money.ts'

test.each([
  ['0.15', 150_000_000n],
  ['2.50', 2_500_000_000n],
  ['0.000000001', 1n],
  ['500', 500_000_000_000n],
  [0.075, 75_000_000n],
  [100, 100_000_000_000n],
  ['-1.5', -1_500_000_000n],
])('usdToNano(%p)', (usd, nano) => {
  expect(usdToNano(usd)).toBe(nano)
})

test.each(['abc', '1.0000000001', '', '1e5', 'NaN'])('usdToNano rejects %p', (bad) => {
  expect(() => usdToNano(bad)).toThrow(RangeError)
})

test.each([
  [5n, 2n, 3n],
  [4n, 2n, 2n],
  [7n, 3n, 2n],
  [-5n, 2n, -3n],
  [1n, 3n, 0n],
])('divRound(%p, %p) = %p', (n, d, q) => {
  expect(divRound(n, d)).toBe(q)
})

test('nanoToUsd', () => {
  expect(nanoToUsd(42_000n)).toBe(0.000042)
})
