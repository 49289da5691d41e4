/**
 * @module Owns the stripe_events table: Stripe webhooks verified (signature, 300 s tolerance) and applied exactly
 * once — the event id is recorded in the transaction of its effect, and credits are keyed by their PaymentIntent
 * (refunds by refund id) too, so duplicates, replays and out-of-order deliveries never double-count.
 */
import type Stripe from 'stripe'
import type { Pool, Sql } from '../shared/db.ts'
import { InvalidRequest } from '../shared/errors.ts'
import { log } from '../shared/log.ts'
import { recordAlert } from './alerts.ts'
import { clientOfCustomer, storePaymentMethod } from './credits.ts'
import { appendEntry } from './ledger.ts'
import { reloadCredited } from './reload.ts'
import { requireStripe, StripeNotConfigured, type StripeSetup } from './stripe.ts'

export const NANO_PER_CENT = 10_000_000n

export interface WebhookDeps {
  sql: Pool
  stripe: StripeSetup | null
  /** A client's credit moved by `deltaNano` (so in-memory budgets follow). */
  onCreditChange: (clientId: string, deltaNano: bigint) => void
}

type Owner = { clientId: string; firmId: string }

async function ownerOf(sql: Sql, metadata: Stripe.Metadata | null | undefined, customer: string | Stripe.Customer | Stripe.DeletedCustomer | null | undefined): Promise<Owner | null> {
  const customerId = typeof customer === 'string' ? customer : (customer?.id ?? null)
  const byCustomer = customerId ? await clientOfCustomer(sql, customerId) : null
  const clientId = metadata?.client_id
  if (clientId && byCustomer?.clientId === clientId) return byCustomer
  if (clientId) {
    const [r] = await sql<{ firm_id: string }[]>`select firm_id from clients where id = ${clientId}`
    return r ? { clientId, firmId: r.firm_id } : null
  }
  return byCustomer
}

/** Verifies and applies one delivery; returns whether it changed anything (false: duplicate or ignored). */
export async function handleStripeWebhook(deps: WebhookDeps, rawBody: string, signature: string | null): Promise<boolean> {
  const s = requireStripe(deps.stripe)
  if (!s.webhookSecret) throw new StripeNotConfigured()
  if (!signature) throw new InvalidRequest('Missing Stripe-Signature header.', null, 'signature_missing')
  let event: Stripe.Event
  try {
    event = await s.stripe.webhooks.constructEventAsync(rawBody, signature, s.webhookSecret, 300)
  } catch {
    throw new InvalidRequest('The Stripe signature is invalid or too old.', null, 'signature_invalid')
  }
  // Whatever needs Stripe's API is fetched before the transaction, which then only touches Postgres.
  let setupPaymentMethod: string | null = null
  if (event.type === 'checkout.session.completed' && event.data.object.mode === 'setup' && event.data.object.setup_intent) {
    const si = event.data.object.setup_intent
    const intent = typeof si === 'string' ? await s.stripe.setupIntents.retrieve(si) : si
    setupPaymentMethod = typeof intent.payment_method === 'string' ? intent.payment_method : (intent.payment_method?.id ?? null)
  }
  const changes: { clientId: string; delta: bigint }[] = []
  const applied = await deps.sql.begin(async (tx) => {
    const [fresh] = await tx`insert into stripe_events (id, type) values (${event.id}, ${event.type}) on conflict (id) do nothing returning id`
    if (!fresh) return false
    switch (event.type) {
      case 'checkout.session.completed': {
        const session = event.data.object
        const owner = await ownerOf(tx, session.metadata, session.customer)
        if (owner && setupPaymentMethod) await storePaymentMethod(tx, owner.clientId, setupPaymentMethod)
        return true
      }
      case 'setup_intent.succeeded': {
        const si = event.data.object
        const owner = await ownerOf(tx, si.metadata, si.customer)
        const pm = typeof si.payment_method === 'string' ? si.payment_method : (si.payment_method?.id ?? null)
        if (owner && pm) await storePaymentMethod(tx, owner.clientId, pm)
        return true
      }
      case 'payment_intent.succeeded': {
        const pi = event.data.object
        const owner = await ownerOf(tx, pi.metadata, pi.customer)
        if (!owner) {
          log.warn('payment for an unknown client ignored', { event: event.id })
          return true
        }
        const amount = BigInt(pi.amount_received || pi.amount) * NANO_PER_CENT
        const kind = pi.metadata?.kind === 'auto_reload' ? 'auto_reload' : 'topup'
        const entry = await appendEntry(tx, { ...owner, kind, amountNano: amount, reason: kind === 'auto_reload' ? 'auto-reload' : 'top-up', actor: 'stripe', stripeRef: pi.id })
        if (entry) changes.push({ clientId: owner.clientId, delta: amount })
        if (kind === 'auto_reload') await reloadCredited(tx, owner.clientId)
        const pm = typeof pi.payment_method === 'string' ? pi.payment_method : (pi.payment_method?.id ?? null)
        if (pm && pi.setup_future_usage) await storePaymentMethod(tx, owner.clientId, pm)
        return true
      }
      case 'payment_intent.payment_failed': {
        const pi = event.data.object
        const owner = await ownerOf(tx, pi.metadata, pi.customer)
        if (owner) {
          await recordAlert(tx, {
            firmId: owner.firmId,
            clientId: owner.clientId,
            keyId: null,
            type: pi.metadata?.kind === 'auto_reload' ? 'auto_reload.failed' : 'payment.failed',
            period: pi.id,
            data: { amount_cents: pi.amount, reason: pi.last_payment_error?.message ?? null },
          })
        }
        return true
      }
      case 'charge.refunded': {
        const charge = event.data.object
        const pi = typeof charge.payment_intent === 'string' ? charge.payment_intent : (charge.payment_intent?.id ?? null)
        const owner = await ownerOf(tx, charge.metadata, charge.customer)
        if (!owner) return true
        const refunds = charge.refunds?.data ?? []
        if (refunds.length === 0 && charge.amount_refunded > 0) refunds.push({ id: `${charge.id}:${charge.amount_refunded}`, amount: charge.amount_refunded } as Stripe.Refund)
        for (const r of refunds) {
          const amount = BigInt(r.amount) * NANO_PER_CENT
          const entry = await appendEntry(tx, { ...owner, kind: 'refund', amountNano: -amount, reason: pi ? `refund of ${pi}` : 'refund', actor: 'stripe', stripeRef: r.id })
          if (entry) changes.push({ clientId: owner.clientId, delta: -amount })
        }
        return true
      }
      default:
        return true
    }
  })
  for (const c of changes) deps.onCreditChange(c.clientId, c.delta)
  return applied
}
