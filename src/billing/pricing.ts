/** @module Pure pricing: token usage and a model's prices to nano-dollar cost, markup and billed amount. */
import { divRound } from '../shared/money.ts'

/** Nano-dollars per million tokens; null where the model has no such price. */
export interface TokenPrices {
  inputPerMtok: bigint
  cachedInputPerMtok: bigint | null
  outputPerMtok: bigint
  /** Writing to the provider's prompt cache (Anthropic); null where it costs the input price. */
  cacheWritePerMtok?: bigint | null
}

export interface TokenUsage {
  /** All input tokens, cached ones included (OpenAI's prompt_tokens). */
  promptTokens: number
  /** The part of promptTokens read from the provider's cache. */
  cachedTokens: number
  /** The part of promptTokens written to the provider's cache. */
  cacheWriteTokens?: number
  completionTokens: number
}

export interface Charge {
  costNano: bigint
  markupNano: bigint
  billedNano: bigint
}

const MTOK = 1_000_000n
const BPS = 10_000n
const EXACT_BIG = 2n ** 53n

/** Below this every integer is a double exactly. */
const EXACT = 2 ** 53

/** num / den rounded half up, for integers 0 ≤ num < 2^53: the remainder and the quotient are both exact. */
function divRoundExact(num: number, den: number): number {
  const r = num % den
  const q = (num - r) / den
  return r * 2 >= den ? q + 1 : q
}

/** Provider cost in nano-dollars, rounded once (half up) over the whole request. Cached tokens without a cached price pay the input price. */
export function tokenCost(prices: TokenPrices, usage: TokenUsage): bigint {
  const prompt = usage.promptTokens
  const cachedN = Math.min(usage.cachedTokens, prompt)
  const writtenN = Math.min(usage.cacheWriteTokens ?? 0, prompt - cachedN)
  const input = prices.inputPerMtok
  const cachedPrice = prices.cachedInputPerMtok ?? input
  const writePrice = prices.cacheWritePerMtok ?? input
  const output = prices.outputPerMtok
  if (input >= 0n && cachedPrice >= 0n && writePrice >= 0n && output >= 0n && prompt >= 0 && cachedN >= 0 && writtenN >= 0 && usage.completionTokens >= 0) {
    // In doubles when that is exact, as it is for nearly every request: products and sum of non-negative integers
    // are exact while the sum stays below 2^53, and a product that is not would push the sum past it.
    const total = (prompt - cachedN - writtenN) * Number(input) + cachedN * Number(cachedPrice) + writtenN * Number(writePrice) + usage.completionTokens * Number(output)
    if (total < EXACT && Number.isInteger(total) && total >= 0) return BigInt(divRoundExact(total, 1_000_000))
  }
  const cached = BigInt(cachedN)
  const written = BigInt(writtenN)
  const uncached = BigInt(prompt) - cached - written
  const total = uncached * input + cached * cachedPrice + written * writePrice + BigInt(usage.completionTokens) * output
  return divRound(total, MTOK)
}

/** Adds the markup (basis points of cost, rounded half up) to a provider cost. */
export function applyMarkup(costNano: bigint, markupBps: number): Charge {
  if (costNano >= 0n && costNano < EXACT_BIG && markupBps >= 0 && Number.isInteger(markupBps)) {
    const product = Number(costNano) * markupBps
    if (product < EXACT) {
      const markupNano = BigInt(divRoundExact(product, 10_000))
      return { costNano, markupNano, billedNano: costNano + markupNano }
    }
  }
  const markupNano = divRound(costNano * BigInt(markupBps), BPS)
  return { costNano, markupNano, billedNano: costNano + markupNano }
}

/** Most a chat request can cost: its whole prompt estimate plus max output at the output price. */
export function worstCaseCost(prices: TokenPrices, promptTokens: number, maxOutputTokens: number): bigint {
  return tokenCost(prices, { promptTokens, cachedTokens: 0, completionTokens: maxOutputTokens })
}

/** Per-image price rules: the request's size and quality, or the model's defaults for missing or "auto" ones. */
export interface ImageUnitPrices {
  size: string
  quality: string
  /** Nano-dollars per image by "size/quality", "size" or "*". */
  prices: ReadonlyMap<string, bigint>
}

/** The price of one image, or null when the model has no such size and quality. */
export function imageUnitPrice(p: ImageUnitPrices, size: unknown, quality: unknown): bigint | null {
  const s = typeof size === 'string' && size !== 'auto' ? size : p.size
  const q = typeof quality === 'string' && quality !== 'auto' ? quality : p.quality
  return p.prices.get(`${s}/${q}`) ?? p.prices.get(s) ?? p.prices.get('*') ?? null
}

/** The most a request can bill across the targets it may run on: the priciest provider cost, with markup. */
export function mostBilled<T>(targets: readonly T[], markupBps: number, costOf: (t: T) => bigint): bigint {
  let worst = 0n
  for (const t of targets) {
    const billed = applyMarkup(costOf(t), markupBps).billedNano
    if (billed > worst) worst = billed
  }
  return worst
}
