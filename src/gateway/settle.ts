/** @module Settling one request: usage to cost, markup and billed, one usage event, one log line, the viapi block. */
import { applyMarkup, tokenCost, type Charge } from '../billing/pricing.ts'
import type { Outcome, UsageMeter } from '../billing/meter.ts'
import { log } from '../shared/log.ts'
import { nanoToUsd } from '../shared/money.ts'
import type { KeyContext } from '../tenancy/keys.ts'
import type { Target } from './resolve.ts'
import type { UpstreamUsage } from './sse-tap.ts'

export interface ViapiBlock {
  request_id: string
  client_id: string
  provider: string | null
  model_used: string | null
  cost_usd: number
  markup_usd: number
  billed_usd: number
  [k: string]: unknown
}

export interface Settlement {
  status: number
  outcome: Outcome
  errorCode?: string | null
  usage: UpstreamUsage | null
  /** A unit-priced provider cost (images) billed instead of tokens. */
  costNano?: bigint
  /** Token counts to bill when the upstream sent no usage (counted from what was streamed). */
  estimate?: () => { promptTokens: number; completionTokens: number }
}

/** A token count from an upstream's usage: a non-negative integer, at most what the usage columns (int4) hold. */
function count(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.min(Math.floor(n), 2 ** 31 - 1) : 0
}

/** Per-request settlement state: the first settle() wins, later calls return the same block. */
export class RequestMeter {
  private block: ViapiBlock | null = null
  target: Target | null = null

  constructor(
    private readonly meter: UsageMeter,
    private readonly key: KeyContext,
    readonly requestId: string,
    private readonly modelRequested: string,
    private readonly stream: boolean,
    private readonly startedAt: number,
    /** Books the billed amount against the request's budgets (releasing its reservation). */
    private readonly onSettled: (billedNano: bigint) => void = () => {},
    private readonly endpoint = 'chat.completions',
  ) {}

  get settled(): boolean {
    return this.block !== null
  }

  /** A failed attempt that another attempt follows: its own usage event (`<request id>-a<n>`), nothing billed. */
  attempt(n: number, target: Target, status: number, outcome: Outcome, errorCode: string | null): void {
    this.meter.record({
      id: `${this.requestId}-a${n}`,
      firmId: this.key.firmId,
      clientId: this.key.clientId,
      keyId: this.key.keyId,
      endpoint: this.endpoint,
      modelRequested: this.modelRequested,
      modelUsed: target.modelId,
      provider: target.provider,
      promptTokens: 0,
      completionTokens: 0,
      cachedTokens: 0,
      costNano: 0n,
      markupNano: 0n,
      billedNano: 0n,
      status,
      outcome,
      errorCode,
      usageEstimated: false,
      stream: this.stream,
      latencyMs: Math.round(performance.now() - this.startedAt),
      createdAt: new Date(),
      prepaid: false,
      attempt: n,
    })
  }

  settle(s: Settlement): ViapiBlock {
    if (this.block) return this.block
    const t = this.target
    const estimated = s.usage === null && s.estimate !== undefined
    const guess = s.usage === null ? s.estimate?.() : undefined
    const promptTokens = s.usage ? count(s.usage.prompt_tokens) : (guess?.promptTokens ?? 0)
    const completionTokens = s.usage ? count(s.usage.completion_tokens) : (guess?.completionTokens ?? 0)
    const cachedTokens = s.usage ? count(s.usage.prompt_tokens_details?.cached_tokens) : 0
    const cacheWriteTokens = s.usage ? count(s.usage.prompt_tokens_details?.cache_creation_tokens) : 0
    const charge: Charge =
      s.costNano !== undefined
        ? applyMarkup(s.costNano, this.key.markupBps)
        : t && (promptTokens > 0 || completionTokens > 0)
        ? applyMarkup(tokenCost(t.model.prices, { promptTokens, cachedTokens, cacheWriteTokens, completionTokens }), this.key.markupBps)
        : { costNano: 0n, markupNano: 0n, billedNano: 0n }
    this.onSettled(charge.billedNano)
    const latencyMs = Math.round(performance.now() - this.startedAt)
    this.meter.record({
      id: this.requestId,
      firmId: this.key.firmId,
      clientId: this.key.clientId,
      keyId: this.key.keyId,
      endpoint: this.endpoint,
      modelRequested: this.modelRequested,
      modelUsed: t?.modelId ?? null,
      provider: t?.provider ?? null,
      promptTokens,
      completionTokens,
      cachedTokens,
      costNano: charge.costNano,
      markupNano: charge.markupNano,
      billedNano: charge.billedNano,
      status: s.status,
      outcome: s.outcome,
      errorCode: s.errorCode ?? null,
      usageEstimated: estimated,
      stream: this.stream,
      latencyMs,
      createdAt: new Date(),
      prepaid: this.key.billingMode === 'prepaid',
    })
    if (log.enabled('info')) {
      log.info('request', {
        request_id: this.requestId,
        client_id: this.key.clientId,
        key: this.key.keyPrefix,
        model: this.modelRequested,
        model_used: t?.modelId ?? null,
        provider: t?.provider ?? null,
        status: s.status,
        outcome: s.outcome,
        stream: this.stream,
        latency_ms: latencyMs,
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        usage_estimated: estimated,
      })
    }
    this.block = {
      request_id: this.requestId,
      client_id: this.key.clientId,
      provider: t?.provider ?? null,
      model_used: t?.upstreamModel ?? null,
      cost_usd: nanoToUsd(charge.costNano),
      markup_usd: nanoToUsd(charge.markupNano),
      billed_usd: nanoToUsd(charge.billedNano),
    }
    return this.block
  }
}
