/**
 * @module Money is integer nano-dollars (1e-9 USD) held in bigint; USD numbers and cents exist only at the API edge.
 * Prices are nano-dollars per million tokens, so every list price is an exact integer.
 */

export const NANO_PER_USD = 1_000_000_000n
export const NANO_PER_CENT = 10_000_000n

/** Exact conversion of a decimal USD amount ("2.5", 0.15) to nano-dollars; rejects more than 9 decimals. */
export function usdToNano(usd: string | number): bigint {
  const text = typeof usd === 'number' ? usdNumberText(usd) : usd.trim()
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?$/.exec(text)
  if (!m) throw new RangeError(`not a USD amount with at most 9 decimals: ${text}`)
  const whole = BigInt(m[2]!) * NANO_PER_USD
  const frac = BigInt((m[3] ?? '').padEnd(9, '0'))
  const n = whole + frac
  return m[1] ? -n : n
}

function usdNumberText(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite USD amount: ${n}`)
  // toFixed(9) rounds the binary float to the nearest nano-dollar, which is the intent of a decimal literal.
  return n.toFixed(9).replace(/\.?0+$/, '')
}

/** USD as a JSON number for display; never summed. */
export function nanoToUsd(nano: bigint): number {
  return Number(nano) / 1e9
}

/** Cents as a decimal JSON number for display (not rounded). */
export function nanoToCents(nano: bigint): number {
  return Number(nano) / 1e7
}

/** Integer division rounding half away from zero. */
export function divRound(num: bigint, den: bigint): bigint {
  const q = num / den
  const r = num % den
  if (r === 0n) return q
  const twice = (r < 0n ? -r : r) * 2n
  if (twice >= (den < 0n ? -den : den)) return num < 0n !== den < 0n ? q - 1n : q + 1n
  return q
}
