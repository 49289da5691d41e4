/**
 * @module Owns the credit_accounts table's settings and Stripe links: auto-reload, the Stripe Customer, the card on
 * file. Its running balance is moved only by the ledger (ledger.ts), in the transaction of each entry.
 */
import type { Sql } from '../shared/db.ts'

export interface CreditAccount {
  clientId: string
  balanceNano: bigint
  cardOnFile: boolean
  autoReload: { enabled: boolean; thresholdNano: bigint | null; amountNano: bigint | null }
}

interface Row {
  client_id: string
  balance_nano: bigint
  card_on_file: boolean
  auto_reload_enabled: boolean
  auto_reload_threshold_nano: bigint | null
  auto_reload_amount_nano: bigint | null
}

/** The client's account; a client that never had one has a zero balance and no auto-reload. */
export async function getCreditAccount(sql: Sql, clientId: string): Promise<CreditAccount> {
  const [r] = await sql<Row[]>`select * from credit_accounts where client_id = ${clientId}`
  return {
    clientId,
    balanceNano: r?.balance_nano ?? 0n,
    cardOnFile: r?.card_on_file ?? false,
    autoReload: { enabled: r?.auto_reload_enabled ?? false, thresholdNano: r?.auto_reload_threshold_nano ?? null, amountNano: r?.auto_reload_amount_nano ?? null },
  }
}

export async function setAutoReloadSettings(sql: Sql, a: { clientId: string; firmId: string; enabled: boolean; thresholdNano: bigint | null; amountNano: bigint | null }): Promise<CreditAccount> {
  await sql`
    insert into credit_accounts (client_id, firm_id, auto_reload_enabled, auto_reload_threshold_nano, auto_reload_amount_nano)
    values (${a.clientId}, ${a.firmId}, ${a.enabled}, ${a.thresholdNano}, ${a.amountNano})
    on conflict (client_id) do update set auto_reload_enabled = excluded.auto_reload_enabled,
      auto_reload_threshold_nano = excluded.auto_reload_threshold_nano, auto_reload_amount_nano = excluded.auto_reload_amount_nano, updated_at = now()`
  return getCreditAccount(sql, a.clientId)
}

/** The Stripe Customer of a client, if one was created. */
export async function stripeCustomerOf(sql: Sql, clientId: string): Promise<string | null> {
  const [r] = await sql<{ stripe_customer_id: string | null }[]>`select stripe_customer_id from credit_accounts where client_id = ${clientId}`
  return r?.stripe_customer_id ?? null
}

export async function linkStripeCustomer(sql: Sql, a: { clientId: string; firmId: string; customerId: string }): Promise<void> {
  await sql`
    insert into credit_accounts (client_id, firm_id, stripe_customer_id) values (${a.clientId}, ${a.firmId}, ${a.customerId})
    on conflict (client_id) do update set stripe_customer_id = coalesce(credit_accounts.stripe_customer_id, excluded.stripe_customer_id), updated_at = now()`
}

/** The client behind a Stripe Customer (a webhook without our metadata falls back to it). */
export async function clientOfCustomer(sql: Sql, customerId: string): Promise<{ clientId: string; firmId: string } | null> {
  const [r] = await sql<{ client_id: string; firm_id: string }[]>`select client_id, firm_id from credit_accounts where stripe_customer_id = ${customerId}`
  return r ? { clientId: r.client_id, firmId: r.firm_id } : null
}

export async function storePaymentMethod(sql: Sql, clientId: string, paymentMethodId: string): Promise<void> {
  await sql`update credit_accounts set payment_method_id = ${paymentMethodId}, card_on_file = true, updated_at = now() where client_id = ${clientId}`
}
