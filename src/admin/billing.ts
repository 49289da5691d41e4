/** @module Prepaid credit as firm admins manage it: the ledger, manual adjustments, auto-reload, Stripe checkout links. */
import { getCreditAccount, setAutoReloadSettings, type CreditAccount } from '../billing/credits.ts'
import { appendEntry, listLedger, type LedgerEntry } from '../billing/ledger.ts'
import { ensureCustomer, requireStripe, setupSession, topUpSession } from '../billing/stripe.ts'
import { NANO_PER_CENT } from '../billing/webhooks.ts'
import { InvalidRequest } from '../shared/errors.ts'
import { getClient } from '../tenancy/clients.ts'
import { found, scopeOf, type Actor } from './actor.ts'
import { audit } from './audit.ts'
import type { AdminDeps, Page } from './context.ts'
import { listJobs, type VideoJob } from '../billing/jobs.ts'
import { text } from './validate.ts'

const cents = (v: number, field: string, opts: { allowNegative?: boolean; max?: number } = {}): bigint => {
  if (!Number.isInteger(v) || (!opts.allowNegative && v <= 0) || v === 0) throw new InvalidRequest(`${field}: must be a whole number of cents${opts.allowNegative ? ' other than zero' : ' greater than zero'}`, field, 'validation_failed')
  if (Math.abs(v) > (opts.max ?? 100_000_000)) throw new InvalidRequest(`${field}: at most ${(opts.max ?? 100_000_000).toLocaleString('en-US')} cents`, field, 'validation_failed')
  return BigInt(v) * NANO_PER_CENT
}

async function ownClient(deps: AdminDeps, actor: Actor, clientId: string) {
  return found(await getClient(deps.sql, scopeOf(actor), clientId), 'client')
}

export async function creditLedger(deps: AdminDeps, actor: Actor, clientId: string, page: Page): Promise<LedgerEntry[]> {
  await ownClient(deps, actor, clientId)
  return listLedger(deps.sql, clientId, page)
}

/** A client's video jobs, newest first. */
export async function videoJobs(deps: AdminDeps, actor: Actor, clientId: string, page: Page): Promise<VideoJob[]> {
  await ownClient(deps, actor, clientId)
  return listJobs(deps.sql, clientId, page)
}

/** A manual credit or debit with a reason; refused if it would take a prepaid client below zero. */
export async function adjustCredits(deps: AdminDeps, actor: Actor, input: { clientId: string; amountCents: number; reason: string }): Promise<LedgerEntry> {
  const amount = cents(input.amountCents, 'amountCents', { allowNegative: true })
  const reason = text(input.reason, 'reason', 500)
  const entry = await deps.sql.begin(async (tx) => {
    const client = found(await getClient(tx, scopeOf(actor), input.clientId), 'client')
    const before = await getCreditAccount(tx, client.id)
    if (client.billingMode === 'prepaid' && before.balanceNano + amount < 0n) {
      throw new InvalidRequest('amountCents: this would take a prepaid client’s balance below zero', 'amountCents', 'validation_failed')
    }
    const e = (await appendEntry(tx, { clientId: client.id, firmId: client.firmId, kind: 'adjustment', amountNano: amount, reason, actor: actor.email }))!
    await audit(tx, actor, { firmId: client.firmId, action: 'adjustCredits', objectType: 'credit_ledger', objectId: e.id, before: { balanceNano: before.balanceNano }, after: e })
    return e
  })
  deps.onCreditChange(input.clientId, amount)
  return entry
}

export async function setAutoReload(deps: AdminDeps, actor: Actor, input: { clientId: string; enabled: boolean; thresholdCents?: number | null; amountCents?: number | null }): Promise<CreditAccount> {
  const threshold = input.thresholdCents == null ? null : cents(input.thresholdCents, 'thresholdCents')
  const amount = input.amountCents == null ? null : cents(input.amountCents, 'amountCents')
  if (input.enabled && (threshold === null || amount === null)) throw new InvalidRequest('thresholdCents and amountCents are required to enable auto-reload', input.thresholdCents == null ? 'thresholdCents' : 'amountCents', 'validation_failed')
  return deps.sql.begin(async (tx) => {
    const client = found(await getClient(tx, scopeOf(actor), input.clientId), 'client')
    const before = await getCreditAccount(tx, client.id)
    const after = await setAutoReloadSettings(tx, { clientId: client.id, firmId: client.firmId, enabled: input.enabled, thresholdNano: threshold, amountNano: amount })
    await audit(tx, actor, { firmId: client.firmId, action: 'setAutoReload', objectType: 'credit_account', objectId: client.id, before: before.autoReload, after: after.autoReload })
    return after
  })
}

/** A one-time Stripe Checkout URL (setup mode) for the client's card; expires in 24 h. */
export async function createBillingPortalUrl(deps: AdminDeps, actor: Actor, clientId: string): Promise<{ url: string; expiresAt: Date }> {
  const s = requireStripe(deps.stripe)
  const client = await ownClient(deps, actor, clientId)
  const customer = await ensureCustomer(deps.sql, s, { clientId: client.id, firmId: client.firmId, name: client.name, email: client.email })
  const link = await setupSession(s, customer, client.id)
  await audit(deps.sql, actor, { firmId: client.firmId, action: 'createBillingPortalUrl', objectType: 'client', objectId: client.id, after: { expiresAt: link.expiresAt } })
  return link
}

export async function createTopUpCheckoutUrl(deps: AdminDeps, actor: Actor, input: { clientId: string; amountCents: number }): Promise<{ url: string; expiresAt: Date }> {
  const s = requireStripe(deps.stripe)
  if (!Number.isInteger(input.amountCents) || input.amountCents < 50 || input.amountCents > 10_000_000) throw new InvalidRequest('amountCents: from 50 to 10,000,000', 'amountCents', 'validation_failed')
  const client = await ownClient(deps, actor, input.clientId)
  const customer = await ensureCustomer(deps.sql, s, { clientId: client.id, firmId: client.firmId, name: client.name, email: client.email })
  const link = await topUpSession(s, customer, client.id, input.amountCents)
  await audit(deps.sql, actor, { firmId: client.firmId, action: 'createTopUpCheckoutUrl', objectType: 'client', objectId: client.id, after: { amountCents: input.amountCents, expiresAt: link.expiresAt } })
  return link
}
