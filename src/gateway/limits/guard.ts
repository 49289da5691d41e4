/**
 * @module Admission for the proxy: request-rate buckets and money guardrails (key cap, client spending limit,
 * prepaid credit) checked in memory, with the worst-case cost reserved; settling books the real amount and
 * raises alerts. The only awaits are the first use of a key in a month (one Postgres read) — never per request.
 */
import { recordAlert, type AlertInput } from '../../billing/alerts.ts'
import { getCreditAccount } from '../../billing/credits.ts'
import { openHolds } from '../../billing/jobs.ts'
import { spendSince } from '../../billing/usage.ts'
import type { Pool } from '../../shared/db.ts'
import { GatewayError, ServiceUnavailable } from '../../shared/errors.ts'
import { describeError, log } from '../../shared/log.ts'
import { nanoToUsd } from '../../shared/money.ts'
import type { KeyContext } from '../../tenancy/keys.ts'
import { crossed, reserve, settle, type Budget, type MoneyCheck, type Reservation } from './budget.ts'
import { MonthClock, type Month } from './month.ts'
import { RateLimiter, rateSpecs, type RateDecision, type RateMode, type RateSpec } from './rate.ts'

export class RateLimited extends GatewayError {
  constructor(d: RateDecision) {
    const r = d.refused!
    const seconds = Math.max(1, Math.ceil(r.retryAfterMs / 1000))
    const scope = r.spec.id.startsWith('k:') ? 'this key' : 'this client'
    super(
      429,
      'rate_limit_exceeded',
      'rate_limit_exceeded',
      `Rate limit reached for ${scope}: ${r.spec.limit} requests per ${r.spec.window === 'RPM' ? 'minute' : 'day'} (${r.spec.window}). Try again in ${seconds}s.`,
      null,
      { ...d.headers, 'retry-after': String(seconds) },
    )
  }
}

export class QuotaExceeded extends GatewayError {
  constructor(check: MoneyCheck, headers: Record<string, string>, costNano: bigint | null = null) {
    const cost = costNano === null ? '' : ` cannot cover this request ($${nanoToUsd(costNano)})`
    const what =
      check.budget.kind === 'credit'
        ? `The ${check.name}${cost || ' is used up'}; add credits to continue.`
        : `The ${check.name} of $${nanoToUsd(check.limit).toFixed(2)}${cost ? `${cost} this month` : ' is reached for this month'}.`
    // No Retry-After: waiting does not help. x-should-retry stops the OpenAI SDKs from retrying it.
    super(429, 'insufficient_quota', 'insufficient_quota', what, null, { ...headers, 'x-should-retry': 'false' })
  }
}

export interface Admission {
  /** X-RateLimit-* headers for the response. */
  headers: Record<string, string>
  reservation: Reservation
  month: Month
}

export interface GuardOptions {
  sql: Pool
  /** How rate buckets are held (alone, or leased through Redis) and this replica's share of money limits. */
  mode: RateMode
  /** Idle budgets are dropped after this long (they reload from Redis or Postgres). */
  idleMs?: number
}

export class Guardrails {
  readonly rates: RateLimiter
  private readonly budgets = new Map<string, Budget>()
  private readonly loading = new Map<string, Promise<void>>()
  private readonly months = new MonthClock()
  private readonly checkIds = new WeakMap<KeyContext, { month: string; key: string; client: string; credit: string }>()

  constructor(private readonly opts: GuardOptions) {
    this.rates = new RateLimiter(opts.mode)
  }

  /**
   * Admits or throws RateLimited / QuotaExceeded. `worstCase` is the most the request can bill, nano-dollars;
   * `mustCover`: the cost is known up front (images, video), so what is left must cover all of it. Synchronous
   * unless it must wait (a key's first request in a month, an empty lease): the proxy then skips a promise per request.
   */
  admit(ctx: KeyContext, worstCase: bigint, now: number, mustCover = false): Admission | Promise<Admission> {
    const month = this.months.at(ctx.timezone, now)
    const checks = this.checks(ctx, month)
    for (const c of checks) if (c.budget.seed < 0n) return this.load(ctx, month).then(() => this.admitLoaded(ctx, worstCase, now, mustCover))
    const specs = rateSpecs(ctx)
    const decision = this.rates.admit(specs, now)
    if (decision instanceof Promise) return decision.then((d) => this.decide(checks, specs, d, worstCase, now, month, mustCover))
    return this.decide(checks, specs, decision, worstCase, now, month, mustCover)
  }

  private async admitLoaded(ctx: KeyContext, worstCase: bigint, now: number, mustCover: boolean): Promise<Admission> {
    const month = this.months.at(ctx.timezone, now)
    const specs = rateSpecs(ctx)
    return this.decide(this.checks(ctx, month), specs, await this.rates.admit(specs, now), worstCase, now, month, mustCover)
  }

  /** The rate decision taken: refuse, or reserve the request's worst case against every money check. */
  private decide(checks: MoneyCheck[], specs: RateSpec[], decision: RateDecision, worstCase: bigint, now: number, month: Month, mustCover: boolean): Admission {
    if (!decision.ok) throw new RateLimited(decision)
    const r = reserve(checks, worstCase, this.opts.mode.share(), mustCover)
    if ('refused' in r) {
      // Refused for money: the request should not also use up rate tokens.
      this.rates.refund(specs)
      throw new QuotaExceeded(r.refused, decision.headers, mustCover ? worstCase : null)
    }
    for (const c of checks) c.budget.touchedAt = now
    return { headers: decision.headers, reservation: r, month }
  }

  /** Books the billed amount; raises threshold and cap alerts off the request path. */
  settle(ctx: KeyContext, a: Admission, billedNano: bigint, now: number): void {
    settle(a.reservation, billedNano, now)
    for (const c of a.reservation.checks) {
      if (c.budget.kind !== 'spend' || billedNano === 0n) continue
      const is = spent(c.budget)
      const was = is - billedNano
      const base = { firmId: ctx.firmId, clientId: ctx.clientId, period: a.month.label }
      if (c.name === CLIENT_LIMIT) {
        for (const t of crossed(ctx.alertThresholds, c.limit, was, is)) {
          this.alert({ ...base, keyId: null, type: 'spending_limit.threshold_crossed', threshold: t, data: { limit_usd: nanoToUsd(c.limit), spent_usd: nanoToUsd(is), enforcement: c.enforcement } })
        }
      } else if (crossed([100], c.limit, was, is).length > 0) {
        this.alert({ ...base, keyId: ctx.keyId, type: 'key.cap_reached', data: { cap_usd: nanoToUsd(c.limit), spent_usd: nanoToUsd(is), enforcement: c.enforcement } })
      }
    }
  }

  private alert(a: AlertInput): void {
    recordAlert(this.opts.sql, a).catch((err: unknown) => log.error('alert not recorded', { type: a.type, error: describeError(err) }))
  }

  private checks(ctx: KeyContext, month: Month): MoneyCheck[] {
    // The budget ids are built once per key context and month; the budgets themselves are looked up each time
    // (an idle one may have been dropped and reloaded since).
    let ids = this.checkIds.get(ctx)
    if (!ids || ids.month !== month.label) {
      ids = {
        month: month.label,
        key: `sp:k:${ctx.keyId}:${month.label}`,
        client: `sp:c:${ctx.clientId}:${month.label}`,
        credit: `cr:${ctx.clientId}`,
      }
      this.checkIds.set(ctx, ids)
    }
    const out: MoneyCheck[] = []
    if (ctx.keyCapNano !== null) out.push({ budget: this.budget(ids.key, 'spend'), limit: ctx.keyCapNano, enforcement: ctx.keyEnforcement, name: KEY_CAP })
    if (ctx.clientLimitNano !== null) out.push({ budget: this.budget(ids.client, 'spend'), limit: ctx.clientLimitNano, enforcement: ctx.clientEnforcement, name: CLIENT_LIMIT })
    if (ctx.billingMode === 'prepaid') out.push({ budget: this.budget(ids.credit, 'credit'), limit: 0n, enforcement: ctx.clientEnforcement, name: 'prepaid credit balance' })
    return out
  }

  private budget(id: string, kind: Budget['kind']): Budget {
    let b = this.budgets.get(id)
    if (!b) {
      // seed -1: not loaded yet (spend and balances are never negative when loaded).
      b = { id, kind, global: 0n, unsynced: 0n, sending: 0n, reserved: 0n, seed: -1n, touchedAt: Date.now() }
      this.budgets.set(id, b)
    }
    return b
  }

  /** First use of a key in a month: this month's spend and the credit balance from Postgres, once per key at a time. */
  private load(ctx: KeyContext, month: Month): Promise<void> {
    const id = `${ctx.keyId}:${month.label}`
    let p = this.loading.get(id)
    if (!p) {
      p = (async () => {
        const since = { keyId: ctx.keyId, clientId: ctx.clientId, from: new Date(month.startsAt) }
        const [used, held, credit] = await Promise.all([
          spendSince(this.opts.sql, since),
          openHolds(this.opts.sql, since),
          ctx.billingMode === 'prepaid' ? getCreditAccount(this.opts.sql, ctx.clientId) : null,
        ])
        const spend = { key: used.key + held.key, client: used.client + held.client }
        const seed = (bid: string, v: bigint) => {
          const b = this.budgets.get(bid)
          if (b && b.seed < 0n) {
            b.seed = v
            b.global = v
          }
        }
        seed(`sp:k:${ctx.keyId}:${month.label}`, spend.key)
        seed(`sp:c:${ctx.clientId}:${month.label}`, spend.client)
        if (credit) seed(`cr:${ctx.clientId}`, credit.balanceNano)
      })()
        .catch((err: unknown) => {
          log.error('could not load spend counters', { error: describeError(err) })
          throw new ServiceUnavailable('The gateway cannot check this key’s budget right now; retry shortly.', 'budget_unavailable')
        })
        .finally(() => this.loading.delete(id))
      this.loading.set(id, p)
    }
    return p
  }

  /**
   * Credit added or removed outside the proxy. With Redis the shared balance is moved once, there; alone, the
   * local copy is moved.
   */
  creditChanged(clientId: string, deltaNano: bigint, shared: ((budgetId: string, delta: bigint) => void) | null): void {
    const id = `cr:${clientId}`
    if (shared) shared(id, deltaNano)
    else {
      const b = this.budgets.get(id)
      if (b && b.seed >= 0n) b.global += deltaNano
    }
  }

  /**
   * A held job settled for less than its hold (video): the difference goes back to the key's and client's spend in
   * the job's month and, for prepaid, to the credit balance — in Redis when shared (where counters exist), else here.
   */
  refund(j: { keyId: string; clientId: string; period: string; prepaid: boolean }, amountNano: bigint, shared: ((budgetId: string, delta: bigint) => void) | null): void {
    if (amountNano <= 0n) return
    for (const id of [`sp:k:${j.keyId}:${j.period}`, `sp:c:${j.clientId}:${j.period}`]) {
      if (shared) shared(id, -amountNano)
      else {
        const b = this.budgets.get(id)
        if (b && b.seed >= 0n) b.global -= amountNano
      }
    }
    if (j.prepaid) this.creditChanged(j.clientId, amountNano, shared)
  }

  /** Drops cached budgets of a client (e.g. credit added elsewhere); they reload on next use. */
  forgetClient(clientId: string): void {
    for (const [id, b] of this.budgets) if (id.includes(clientId) && b.reserved === 0n && b.unsynced === 0n && b.sending === 0n) this.budgets.delete(id)
  }

  /** Budgets in use, for the sync loop; long-idle settled ones are dropped. */
  activeBudgets(now: number): Budget[] {
    const idle = this.opts.idleMs ?? 600_000
    const out: Budget[] = []
    for (const [id, b] of this.budgets) {
      if (b.seed < 0n) continue
      if (now - b.touchedAt > idle && b.reserved === 0n && b.unsynced === 0n && b.sending === 0n) this.budgets.delete(id)
      else out.push(b)
    }
    return out
  }
}

const KEY_CAP = "this key's monthly budget cap"
const CLIENT_LIMIT = "client's monthly spending limit"

function spent(b: Budget): bigint {
  return b.global + b.unsynced + b.sending
}
