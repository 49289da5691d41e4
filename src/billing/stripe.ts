/**
 * @module Stripe: the client from STRIPE_SECRET_KEY (STRIPE_API_BASE points it elsewhere, e.g. a local fake),
 * one Customer per client created lazily, and Checkout sessions for adding a card (setup) and buying credits.
 */
import type Stripe from 'stripe'
import type { Pool } from '../shared/db.ts'
import { GatewayError } from '../shared/errors.ts'
import { linkStripeCustomer, stripeCustomerOf } from './credits.ts'

export class StripeNotConfigured extends GatewayError {
  constructor() {
    super(503, 'service_unavailable', 'stripe_not_configured', 'Stripe is not configured on this gateway (set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET).')
  }
}

export interface StripeSetup {
  stripe: Stripe
  webhookSecret: string | null
  /** Where Checkout sends the client back. */
  returnUrl: string
}

/** The Stripe client when STRIPE_SECRET_KEY is set; the SDK (a few hundred modules) is loaded only then. */
export async function stripeFromEnv(env: Record<string, string | undefined>): Promise<StripeSetup | null> {
  if (!env.STRIPE_SECRET_KEY) return null
  const { default: Stripe } = await import('stripe')
  const base = env.STRIPE_API_BASE ? new URL(env.STRIPE_API_BASE) : null
  const stripe = new Stripe(env.STRIPE_SECRET_KEY, {
    maxNetworkRetries: 2,
    timeout: 20_000,
    ...(base ? { host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), protocol: base.protocol.replace(':', '') as 'http' | 'https' } : {}),
  })
  return { stripe, webhookSecret: env.STRIPE_WEBHOOK_SECRET || null, returnUrl: `${(env.VIAPI_PUBLIC_URL || 'http://127.0.0.1:8787').replace(/\/+$/, '')}/v1/billing/return` }
}

export function requireStripe(s: StripeSetup | null): StripeSetup {
  if (!s) throw new StripeNotConfigured()
  return s
}

/** The client's Stripe Customer, created on first need (idempotently, so two replicas make one). */
export async function ensureCustomer(sql: Pool, s: StripeSetup, c: { clientId: string; firmId: string; name: string; email: string | null }): Promise<string> {
  const existing = await stripeCustomerOf(sql, c.clientId)
  if (existing) return existing
  const customer = await s.stripe.customers.create(
    { name: c.name, ...(c.email ? { email: c.email } : {}), metadata: { client_id: c.clientId, firm_id: c.firmId } },
    { idempotencyKey: `viapi-customer-${c.clientId}` },
  )
  await linkStripeCustomer(sql, { clientId: c.clientId, firmId: c.firmId, customerId: customer.id })
  return (await stripeCustomerOf(sql, c.clientId)) ?? customer.id
}

const DAY_S = 86_400

/** A one-time Checkout URL in setup mode, so the client can add a card; it expires after 24 hours. */
export async function setupSession(s: StripeSetup, customerId: string, clientId: string): Promise<{ url: string; expiresAt: Date }> {
  const expires = Math.floor(Date.now() / 1000) + DAY_S
  const session = await s.stripe.checkout.sessions.create({
    mode: 'setup',
    customer: customerId,
    currency: 'usd',
    expires_at: expires,
    success_url: `${s.returnUrl}?status=card-added`,
    cancel_url: `${s.returnUrl}?status=cancelled`,
    metadata: { client_id: clientId, purpose: 'card_setup' },
    setup_intent_data: { metadata: { client_id: clientId } },
  })
  return { url: session.url!, expiresAt: new Date((session.expires_at ?? expires) * 1000) }
}

/** A one-time Checkout URL to buy credits; the card is kept for auto-reload. Credited on payment_intent.succeeded. */
export async function topUpSession(s: StripeSetup, customerId: string, clientId: string, amountCents: number): Promise<{ url: string; expiresAt: Date }> {
  const expires = Math.floor(Date.now() / 1000) + DAY_S
  const session = await s.stripe.checkout.sessions.create({
    mode: 'payment',
    customer: customerId,
    expires_at: expires,
    line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: amountCents, product_data: { name: 'Viapi credits' } } }],
    payment_intent_data: { setup_future_usage: 'off_session', metadata: { client_id: clientId, kind: 'topup' } },
    success_url: `${s.returnUrl}?status=paid`,
    cancel_url: `${s.returnUrl}?status=cancelled`,
    metadata: { client_id: clientId, purpose: 'topup' },
  })
  return { url: session.url!, expiresAt: new Date((session.expires_at ?? expires) * 1000) }
}
