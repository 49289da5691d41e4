/**
 * @module Auto-reload: when a prepaid client's balance falls below its threshold, charge the saved card
 * off-session for the configured amount. One replica at a time claims a client (row lock plus a pending
 * window), and the PaymentIntent's idempotency key `viapi-reload-<clientId>-<cycle>` makes concurrent replicas
 * and retries charge once. The credit itself arrives with payment_intent.succeeded, like any payment; a failure is
 * recorded, alerted, and retried with backoff a bounded number of times.
 */
import type Stripe from 'stripe'
import type { Pool, Sql } from '../shared/db.ts'
import { describeError, log } from '../shared/log.ts'
import { recordAlert } from './alerts.ts'
import type { StripeSetup } from './stripe.ts'

export const MAX_RELOAD_FAILURES = 3
/** How long a successful charge waits for its webhook before another reload may be tried. */
const PENDING_MS = 10 * 60_000

interface Claim {
  clientId: string
  firmId: string
  cycle: number
  amountCents: number
  customerId: string
  paymentMethodId: string
}

export interface ReloadOptions {
  sql: Pool
  stripe: StripeSetup | null
  /** Backoff after the first failure, ms (doubles each time). */
  retryBaseMs: number
}

/** Claims the client for a reload if it needs one and nobody else is on it. */
async function claim(sql: Pool, clientId: string): Promise<Claim | null> {
  return sql.begin(async (tx) => {
    const [a] = await tx<
      {
        firm_id: string
        balance_nano: bigint
        auto_reload_enabled: boolean
        auto_reload_threshold_nano: bigint | null
        auto_reload_amount_nano: bigint | null
        stripe_customer_id: string | null
        payment_method_id: string | null
        reload_cycle: number
        reload_failures: number
        reload_pending_until: Date | null
      }[]
    >`select * from credit_accounts where client_id = ${clientId} for update`
    if (!a || !a.auto_reload_enabled || a.auto_reload_threshold_nano === null || a.auto_reload_amount_nano === null) return null
    if (a.balance_nano >= a.auto_reload_threshold_nano) return null
    // A reload under way (or given up on) is not news; a fresh dip below the threshold is, once per cycle.
    if (a.reload_failures >= MAX_RELOAD_FAILURES) return null
    if (a.reload_pending_until && a.reload_pending_until.getTime() > Date.now()) return null
    await recordAlert(tx, { firmId: a.firm_id, clientId, keyId: null, type: 'credits.low_balance', period: `cycle-${a.reload_cycle}`, data: { balance_cents: Number(a.balance_nano) / 1e7, threshold_cents: Number(a.auto_reload_threshold_nano) / 1e7 } })
    if (!a.stripe_customer_id || !a.payment_method_id) return null
    await tx`update credit_accounts set reload_pending_until = ${new Date(Date.now() + PENDING_MS)} where client_id = ${clientId}`
    return {
      clientId,
      firmId: a.firm_id,
      cycle: a.reload_cycle,
      amountCents: Number(a.auto_reload_amount_nano / 10_000_000n),
      customerId: a.stripe_customer_id,
      paymentMethodId: a.payment_method_id,
    }
  })
}

/** Charges once for a claimed cycle; never throws. */
async function charge(o: ReloadOptions, c: Claim): Promise<void> {
  let pi: Stripe.PaymentIntent | null = null
  let error: string | null = null
  try {
    pi = await o.stripe!.stripe.paymentIntents.create(
      {
        amount: c.amountCents,
        currency: 'usd',
        customer: c.customerId,
        payment_method: c.paymentMethodId,
        off_session: true,
        confirm: true,
        metadata: { client_id: c.clientId, kind: 'auto_reload', cycle: String(c.cycle) },
      },
      { idempotencyKey: `viapi-reload-${c.clientId}-${c.cycle}` },
    )
    if (pi.status !== 'succeeded' && pi.status !== 'processing') error = `payment ${pi.status}`
  } catch (err) {
    error = describeError(err)
  }
  if (!error) {
    // Next cycle; the pending window stays until the payment's webhook credits the balance.
    await o.sql`update credit_accounts set reload_cycle = reload_cycle + 1, reload_failures = 0 where client_id = ${c.clientId} and reload_cycle = ${c.cycle}`
    await recordAlert(o.sql, { firmId: c.firmId, clientId: c.clientId, keyId: null, type: 'auto_reload.succeeded', period: `cycle-${c.cycle}`, data: { amount_cents: c.amountCents, payment_intent: pi?.id ?? null } })
    log.info('auto-reload charged', { client_id: c.clientId, cycle: c.cycle, amount_cents: c.amountCents })
    return
  }
  const [r] = await o.sql<{ reload_failures: number }[]>`
    update credit_accounts set reload_cycle = reload_cycle + 1, reload_failures = reload_failures + 1
    where client_id = ${c.clientId} and reload_cycle = ${c.cycle} returning reload_failures`
  const failures = r?.reload_failures ?? MAX_RELOAD_FAILURES
  const retryAt = failures < MAX_RELOAD_FAILURES ? new Date(Date.now() + o.retryBaseMs * 2 ** (failures - 1)) : null
  await o.sql`update credit_accounts set reload_pending_until = ${retryAt} where client_id = ${c.clientId}`
  await recordAlert(o.sql, { firmId: c.firmId, clientId: c.clientId, keyId: null, type: 'auto_reload.failed', period: `cycle-${c.cycle}`, data: { amount_cents: c.amountCents, error, attempt: failures, will_retry: retryAt !== null } })
  log.warn('auto-reload failed', { client_id: c.clientId, cycle: c.cycle, attempt: failures, error })
}

/** Clients that need a reload and can have one (a card on file, no reload pending, failures not exhausted). */
async function dueForReload(sql: Pool, limit: number): Promise<string[]> {
  const rows = await sql<{ client_id: string }[]>`
    select client_id from credit_accounts
    where auto_reload_enabled and balance_nano < auto_reload_threshold_nano and auto_reload_amount_nano is not null
      and stripe_customer_id is not null and payment_method_id is not null
      and reload_failures < ${MAX_RELOAD_FAILURES}
      and (reload_pending_until is null or reload_pending_until <= now())
    order by client_id
    limit ${limit}`
  return rows.map((r) => r.client_id)
}

export class AutoReloader {
  private readonly retryTimers = new Set<ReturnType<typeof setTimeout>>()
  private readonly running = new Set<Promise<void>>()
  private sweeper: ReturnType<typeof setInterval> | null = null
  private stopped = false

  constructor(private readonly o: ReloadOptions) {}

  /**
   * Also looks, every `sweepMs`, for clients below their threshold that no debit brought here: a check that failed,
   * a retry timer lost with its process, auto-reload switched on or credit taken off while already below.
   */
  start(sweepMs: number): void {
    if (!this.o.stripe) return
    this.sweeper ??= setInterval(() => void this.sweep(), sweepMs)
    this.sweeper.unref()
  }

  async sweep(): Promise<void> {
    try {
      const due = await dueForReload(this.o.sql, 100)
      if (due.length > 0) await this.check(due)
    } catch (err) {
      log.warn('auto-reload sweep failed', { error: describeError(err) })
    }
  }

  /** Checks clients whose balance just went down; charges those that need it. Never throws. */
  check(clientIds: Iterable<string>): Promise<void> {
    if (!this.o.stripe || this.stopped) return Promise.resolve()
    const p = this.checkEach(clientIds).finally(() => this.running.delete(p))
    this.running.add(p)
    return p
  }

  private async checkEach(clientIds: Iterable<string>): Promise<void> {
    for (const id of clientIds) {
      try {
        const c = await claim(this.o.sql, id)
        if (!c) continue
        await charge(this.o, c)
        const [a] = await this.o.sql<{ reload_pending_until: Date | null; reload_failures: number }[]>`select reload_pending_until, reload_failures from credit_accounts where client_id = ${id}`
        if (a?.reload_failures && a.reload_pending_until) this.retryLater(id, a.reload_pending_until.getTime() - Date.now())
      } catch (err) {
        log.warn('auto-reload check failed', { client_id: id, error: describeError(err) })
      }
    }
  }

  private retryLater(clientId: string, ms: number): void {
    const t = setTimeout(() => {
      this.retryTimers.delete(t)
      void this.check([clientId])
    }, Math.max(0, ms) + 10)
    t.unref()
    this.retryTimers.add(t)
  }

  /** Takes no new checks and resolves when those under way have finished (what is left, the sweep finds later). */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.sweeper) clearInterval(this.sweeper)
    this.sweeper = null
    for (const t of this.retryTimers) clearTimeout(t)
    this.retryTimers.clear()
    await Promise.all(this.running)
  }
}

/** The reload's payment was credited: another reload may run when the balance needs one. */
export async function reloadCredited(tx: Sql, clientId: string): Promise<void> {
  await tx`update credit_accounts set reload_pending_until = null, reload_failures = 0 where client_id = ${clientId}`
}
