import { describe, expect, test } from 'bun:test'
import { usdToNano } from '../shared/money.ts'
import { applyMarkup, imageUnitPrice, mostBilled, tokenCost, type ImageUnitPrices, type TokenPrices } from './pricing.ts'

const gpt4oMini: TokenPrices = { inputPerMtok: usdToNano('0.15'), cachedInputPerMtok: usdToNano('0.075'), outputPerMtok: usdToNano('0.60') }
const gpt4o: TokenPrices = { inputPerMtok: usdToNano('2.50'), cachedInputPerMtok: usdToNano('1.25'), outputPerMtok: usdToNano('10') }
const noCache: TokenPrices = { inputPerMtok: usdToNano('0.50'), cachedInputPerMtok: null, outputPerMtok: usdToNano('1.50') }

describe('tokenCost', () => {
  test.each([
    // 12 × 150 + 18 × 600 = 12,600 nano-dollars
    ['gpt-4o-mini small', gpt4oMini, { promptTokens: 12, cachedTokens: 0, completionTokens: 18 }, 12_600n],
    // 12 × 2,500 + 18 × 10,000 = 210,000
    ['gpt-4o small', gpt4o, { promptTokens: 12, cachedTokens: 0, completionTokens: 18 }, 210_000n],
    // 1000 cached of 1500: 500 × 2,500 + 1000 × 1,250 + 100 × 10,000 = 3,500,000
    ['gpt-4o cached', gpt4o, { promptTokens: 1500, cachedTokens: 1000, completionTokens: 100 }, 3_500_000n],
    // cached price missing: cached tokens pay the input price
    ['no cache price', noCache, { promptTokens: 10, cachedTokens: 4, completionTokens: 2 }, 8_000n],
    ['zero', gpt4o, { promptTokens: 0, cachedTokens: 0, completionTokens: 0 }, 0n],
    // 0.075 $/M = 75 nano/token: 3 cached tokens = 225 nano exactly
    ['sub-nano rounding', { ...gpt4oMini, inputPerMtok: 1n, outputPerMtok: 1n }, { promptTokens: 500_000, cachedTokens: 0, completionTokens: 0 }, 1n],
    ['rounds once, half up', { inputPerMtok: 1n, cachedInputPerMtok: null, outputPerMtok: 1n }, { promptTokens: 499_999, cachedTokens: 0, completionTokens: 1 }, 1n],
    ['below half rounds down', { inputPerMtok: 1n, cachedInputPerMtok: null, outputPerMtok: 1n }, { promptTokens: 499_999, cachedTokens: 0, completionTokens: 0 }, 0n],
  ])('%s', (_name, prices, usage, expected) => {
    expect(tokenCost(prices, usage)).toBe(expected)
  })

  test('Anthropic-style usage: cache reads and writes at their own prices', () => {
    // claude-sonnet-4: $3 input, $0.30 cache read, $3.75 cache write, $15 output per million
    const sonnet: TokenPrices = { inputPerMtok: usdToNano('3'), cachedInputPerMtok: usdToNano('0.30'), cacheWritePerMtok: usdToNano('3.75'), outputPerMtok: usdToNano('15') }
    // prompt 2,100 = 100 input + 1,500 read + 500 written; 40 output
    // 100 × 3,000 + 1,500 × 300 + 500 × 3,750 + 40 × 15,000 = 300,000 + 450,000 + 1,875,000 + 600,000
    expect(tokenCost(sonnet, { promptTokens: 2100, cachedTokens: 1500, cacheWriteTokens: 500, completionTokens: 40 })).toBe(3_225_000n)
  })

  test('a million requests sum exactly', () => {
    let total = 0n
    for (let i = 0; i < 1_000_000; i++) total += tokenCost(gpt4oMini, { promptTokens: 12, cachedTokens: 0, completionTokens: 18 })
    expect(total).toBe(12_600_000_000n) // $12.60
  })
})

describe('the double-precision fast path', () => {
  // The plain bigint arithmetic both functions fall back to, as the reference.
  const div = (n: bigint, d: bigint) => {
    const q = n / d
    const r = n % d
    return r * 2n >= d ? q + 1n : q
  }
  const reference = (p: TokenPrices, u: { promptTokens: number; cachedTokens: number; cacheWriteTokens: number; completionTokens: number }) => {
    const cached = BigInt(Math.min(u.cachedTokens, u.promptTokens))
    const written = BigInt(Math.min(u.cacheWriteTokens, u.promptTokens - Number(cached)))
    const uncached = BigInt(u.promptTokens) - cached - written
    return div(uncached * p.inputPerMtok + cached * (p.cachedInputPerMtok ?? p.inputPerMtok) + written * (p.cacheWritePerMtok ?? p.inputPerMtok) + BigInt(u.completionTokens) * p.outputPerMtok, 1_000_000n)
  }

  test('gives exactly what bigint arithmetic gives, around 2^53 and far past it', () => {
    let seed = 42
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31)
    const int = (max: number) => Math.floor(rand() * max)
    const price = () => [0n, 1n, 75n, 150_000_000n, 15_000_000_000n, BigInt(int(2 ** 40)), 2n ** 52n + 1n, 2n ** 62n][int(8)]!
    const tokens = () => [0, 1, 499_999, int(2 ** 20), int(2 ** 31), 1e12, 2 ** 53 + 2][int(7)]!
    for (let i = 0; i < 50_000; i++) {
      const p: TokenPrices = { inputPerMtok: price(), cachedInputPerMtok: rand() < 0.3 ? null : price(), cacheWritePerMtok: rand() < 0.5 ? null : price(), outputPerMtok: price() }
      const u = { promptTokens: tokens(), cachedTokens: tokens(), cacheWriteTokens: tokens(), completionTokens: tokens() }
      const cost = tokenCost(p, u)
      expect(cost).toBe(reference(p, u))
      const bps = [0, 1, 2500, 3000, 10_000, 99_999, int(1_000_000)][int(7)]!
      expect(applyMarkup(cost, bps)).toEqual({ costNano: cost, markupNano: div(cost * BigInt(bps), 10_000n), billedNano: cost + div(cost * BigInt(bps), 10_000n) })
    }
  })
})

describe('applyMarkup', () => {
  test.each([
    [210_000n, 0, { costNano: 210_000n, markupNano: 0n, billedNano: 210_000n }],
    [210_000n, 3000, { costNano: 210_000n, markupNano: 63_000n, billedNano: 273_000n }],
    [1n, 5000, { costNano: 1n, markupNano: 1n, billedNano: 2n }],
    [1n, 4999, { costNano: 1n, markupNano: 0n, billedNano: 1n }],
    [42_000n, 1250, { costNano: 42_000n, markupNano: 5_250n, billedNano: 47_250n }],
  ])('%p at %p bps', (cost, bps, expected) => {
    expect(applyMarkup(cost, bps)).toEqual(expected)
  })
})

describe('imageUnitPrice', () => {
  const dalle3: ImageUnitPrices = {
    size: '1024x1024',
    quality: 'standard',
    prices: new Map([
      ['1024x1024/standard', usdToNano('0.04')],
      ['1024x1024/hd', usdToNano('0.08')],
      ['1792x1024/hd', usdToNano('0.12')],
    ]),
  }
  const flat: ImageUnitPrices = { size: '*', quality: '*', prices: new Map([['*', usdToNano('0.07')]]) }
  test.each([
    ['dall-e-3 defaults', dalle3, undefined, undefined, 40_000_000n],
    ['dall-e-3 hd', dalle3, '1024x1024', 'hd', 80_000_000n],
    ['auto means the default', dalle3, 'auto', 'auto', 40_000_000n],
    ['wide hd', dalle3, '1792x1024', 'hd', 120_000_000n],
    ['unknown size', dalle3, '512x512', 'hd', null],
    ['flat price ignores size', flat, '1024x1024', 'hd', 70_000_000n],
  ])('%s', (_name, p, size, quality, expected) => {
    expect(imageUnitPrice(p, size, quality)).toBe(expected)
  })
})

describe('mostBilled', () => {
  test('the priciest target, with markup; nothing for no targets', () => {
    // 30 % markup on the dearest of 100, 250 and 40 nano-dollars
    expect(mostBilled([100n, 250n, 40n], 3000, (c) => c)).toBe(325n)
    expect(mostBilled([], 3000, (c: bigint) => c)).toBe(0n)
  })
})
