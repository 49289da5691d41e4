/**
 * Billing end to end: the real gateway, a fake Stripe API, signed webhooks posted to the real endpoint, the credit
 * ledger, manual adjustments, and credit reaching the proxy's admission at once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Stripe from 'stripe'
import { ledgerMismatches, rebuildBalance } from '../src/billing/ledger.ts'
import type { Database } from '../src/shared/db.ts'
import { bootstrap, type BootstrapResult } from '../src/tenancy/bootstrap.ts'
import { failCode, ok } from './helpers/admin.ts'
import { readyDb, startGateway, testDb, until, type GatewayProcess, type TestDb } from './helpers/gateway.ts'
import { FakeStripe } from './helpers/fake-stripe.ts'
import { MockUpstream } from './helpers/mock-upstream.ts'

const SECRET = 'whsec_test_secret_0123456789'
const stripeLib = new Stripe('sk_test_unused')
const upstream = new MockUpstream()
const fake = new FakeStripe()
let db: TestDb
let conn: Database
let gw: GatewayProcess
let fx: BootstrapResult

beforeAll(async () => {
  upstream.start()
  fake.start()
  db = await testDb('postgres')
  conn = await readyDb(db)
  fx = await bootstrap(conn.sql, { firmName: 'Billing', email: 'bill@x.test', demo: true, demoTarget: 'openai:gpt-4o-mini' })
  gw = await startGateway({
    ...db.env,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: upstream.baseUrl,
    STRIPE_SECRET_KEY: 'sk_test_fake',
    STRIPE_WEBHOOK_SECRET: SECRET,
    STRIPE_API_BASE: fake.base,
    VIAPI_USAGE_FLUSH_MS: '50',
    VIAPI_ALLOW_PRIVATE_URLS: 'true',
    VIAPI_WEBHOOK_RETRY_BASE_MS: '300',
    VIAPI_SECRET_KEY: '33'.repeat(32),
  })
})
afterAll(async () => {
  await gw?.stop()
  await conn?.close()
  await fake.stop()
  await upstream.stop()
  await db?.drop()
})

let seq = 0
async function deliver(type: string, object: Record<string, unknown>, opts: { id?: string; secret?: string; timestamp?: number; noSignature?: boolean } = {}) {
  const payload = JSON.stringify({ id: opts.id ?? `evt_test_${Date.now()}_${++seq}`, object: 'event', type, api_version: '2025-01-01', created: Math.floor(Date.now() / 1000), data: { object } })
  const header = await stripeLib.webhooks.generateTestHeaderStringAsync({ payload, secret: opts.secret ?? SECRET, ...(opts.timestamp ? { timestamp: opts.timestamp } : {}) })
  return fetch(`${gw.url}/v1/billing/stripe/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', ...(opts.noSignature ? {} : { 'stripe-signature': header }) }, body: payload })
}

const balance = async (clientId: string) =>
  (await ok<{ creditBalance: { balanceCents: number; cardOnFile: boolean } }>(gw.url, fx.admin_token, 'query($c: ID!) { creditBalance(clientId: $c) { balanceCents cardOnFile } }', { c: clientId })).creditBalance

describe('Stripe checkout links', () => {
  test('card setup URL: setup mode, one customer per client, expires in 24 h', async () => {
    const q = 'mutation($c: ID!) { createBillingPortalUrl(clientId: $c) { url expiresAt } }'
    const a = await ok<{ createBillingPortalUrl: { url: string; expiresAt: string } }>(gw.url, fx.admin_token, q, { c: fx.client_id })
    await ok(gw.url, fx.admin_token, q, { c: fx.client_id })
    expect(a.createBillingPortalUrl.url).toMatch(/^https:\/\/checkout\.stripe\.test\//)
    expect(Math.abs(Date.parse(a.createBillingPortalUrl.expiresAt) - (Date.now() + 86_400_000))).toBeLessThan(60_000)
    const sessions = fake.created('/v1/checkout/sessions')
    expect(sessions[0]!.params.get('mode')).toBe('setup')
    expect(sessions[0]!.params.get('metadata[client_id]')).toBe(fx.client_id!)
    expect(new Set(fake.created('/v1/customers').map((c) => c.idempotencyKey)).size).toBe(1)
    const [acct] = await conn.sql<{ stripe_customer_id: string }[]>`select stripe_customer_id from credit_accounts where client_id = ${fx.client_id!}`
    expect(acct!.stripe_customer_id).toMatch(/^cus_/)
  })

  test('top-up URL: payment mode for the chosen amount; bad amounts name the field', async () => {
    const r = await ok<{ createTopUpCheckoutUrl: { url: string } }>(gw.url, fx.admin_token, 'mutation($c: ID!) { createTopUpCheckoutUrl(input: {clientId: $c, amountCents: 2500}) { url expiresAt } }', { c: fx.client_id })
    expect(r.createTopUpCheckoutUrl.url).toContain('checkout.stripe.test')
    const last = fake.created('/v1/checkout/sessions').at(-1)!
    expect(last.params.get('mode')).toBe('payment')
    expect(last.params.get('line_items[0][price_data][unit_amount]')).toBe('2500')
    expect(last.params.get('payment_intent_data[metadata][client_id]')).toBe(fx.client_id!)
    expect(await failCode(gw.url, fx.admin_token, 'mutation($c: ID!) { createTopUpCheckoutUrl(input: {clientId: $c, amountCents: 10}) { url } }', { c: fx.client_id })).toMatchObject({ field: 'amountCents' })
  })
})

describe('webhooks', () => {
  test('a top-up is credited exactly once under duplicate delivery and replay', async () => {
    const pi = { id: 'pi_topup_1', object: 'payment_intent', amount: 5000, amount_received: 5000, currency: 'usd', metadata: { client_id: fx.client_id, kind: 'topup' }, customer: null }
    const first = await deliver('payment_intent.succeeded', pi, { id: 'evt_dup_1' })
    expect(first.status).toBe(200)
    expect(((await first.json()) as { applied: boolean }).applied).toBe(true)
    const again = await deliver('payment_intent.succeeded', pi, { id: 'evt_dup_1' })
    expect(again.status).toBe(200)
    expect(((await again.json()) as { applied: boolean }).applied).toBe(false)
    const replay = await deliver('payment_intent.succeeded', pi, { id: 'evt_other_id' })
    expect(replay.status).toBe(200)
    expect((await balance(fx.client_id!)).balanceCents).toBe(5000)
    const ledger = await ok<{ creditLedger: { edges: { node: { kind: string; amountCents: number; balanceAfterCents: number; stripeRef: string } }[] } }>(
      gw.url,
      fx.admin_token,
      'query($c: ID!) { creditLedger(clientId: $c) { edges { node { kind amountCents balanceAfterCents stripeRef reason actor } } } }',
      { c: fx.client_id },
    )
    expect(ledger.creditLedger.edges.map((e) => e.node)).toEqual([expect.objectContaining({ kind: 'topup', amountCents: 5000, balanceAfterCents: 5000, stripeRef: 'pi_topup_1' })])
  })

  test('out of order: a refund arriving before its payment still nets out', async () => {
    const c = await ok<{ createClient: { id: string } }>(gw.url, fx.admin_token, 'mutation { createClient(input: {name: "Order", slug: "order"}) { id } }')
    const id = c.createClient.id
    await deliver('charge.refunded', { id: 'ch_1', object: 'charge', payment_intent: 'pi_order', amount_refunded: 1000, metadata: { client_id: id }, customer: null, refunds: { data: [{ id: 're_1', amount: 1000 }] } })
    await deliver('payment_intent.succeeded', { id: 'pi_order', object: 'payment_intent', amount: 3000, amount_received: 3000, metadata: { client_id: id }, customer: null })
    await deliver('charge.refunded', { id: 'ch_1', object: 'charge', payment_intent: 'pi_order', amount_refunded: 1000, metadata: { client_id: id }, customer: null, refunds: { data: [{ id: 're_1', amount: 1000 }] } }, { id: 'evt_refund_again' })
    expect((await balance(id)).balanceCents).toBe(2000)
  })

  test('forged, stale or unsigned deliveries get 400 and change nothing', async () => {
    const pi = { id: 'pi_forged', object: 'payment_intent', amount: 999_999, amount_received: 999_999, metadata: { client_id: fx.client_id }, customer: null }
    const before = (await balance(fx.client_id!)).balanceCents
    expect((await deliver('payment_intent.succeeded', pi, { secret: 'whsec_wrong' })).status).toBe(400)
    expect((await deliver('payment_intent.succeeded', pi, { timestamp: Math.floor(Date.now() / 1000) - 600 })).status).toBe(400)
    const unsigned = await deliver('payment_intent.succeeded', pi, { noSignature: true })
    expect(unsigned.status).toBe(400)
    expect(((await unsigned.json()) as { error: { code: string } }).error.code).toBe('signature_missing')
    expect((await balance(fx.client_id!)).balanceCents).toBe(before)
  })

  test('card setup completion stores the card; a failed payment raises an alert', async () => {
    const [acct] = await conn.sql<{ stripe_customer_id: string }[]>`select stripe_customer_id from credit_accounts where client_id = ${fx.client_id!}`
    await deliver('checkout.session.completed', { id: 'cs_done', object: 'checkout.session', mode: 'setup', setup_intent: 'seti_1', customer: acct!.stripe_customer_id, metadata: { client_id: fx.client_id } })
    expect((await balance(fx.client_id!)).cardOnFile).toBe(true)
    await deliver('payment_intent.payment_failed', { id: 'pi_failed', object: 'payment_intent', amount: 500, metadata: { client_id: fx.client_id, kind: 'auto_reload' }, customer: null, last_payment_error: { message: 'card declined' } })
    const [alert] = await conn.sql<{ type: string }[]>`select type from alerts where client_id = ${fx.client_id!} and type = 'auto_reload.failed'`
    expect(alert!.type).toBe('auto_reload.failed')
  })
})

describe('ledger', () => {
  test('manual adjustment: audited with actor and reason; a prepaid balance cannot go negative', async () => {
    const c = await ok<{ createClient: { id: string } }>(gw.url, fx.admin_token, 'mutation { createClient(input: {name: "Adj", slug: "adj"}) { id } }')
    const id = c.createClient.id
    await ok(gw.url, fx.admin_token, 'mutation($c: ID!) { updateClient(id: $c, input: {billingMode: PREPAID}) { id } }', { c: id })
    const e = await ok<{ adjustCredits: { kind: string; amountCents: number; actor: string; reason: string } }>(gw.url, fx.admin_token, 'mutation($c: ID!) { adjustCredits(input: {clientId: $c, amountCents: 700, reason: "goodwill"}) { kind amountCents actor reason } }', { c: id })
    expect(e.adjustCredits).toEqual({ kind: 'adjustment', amountCents: 700, actor: 'bill@x.test', reason: 'goodwill' })
    expect(await failCode(gw.url, fx.admin_token, 'mutation($c: ID!) { adjustCredits(input: {clientId: $c, amountCents: -701, reason: "too much"}) { id } }', { c: id })).toMatchObject({ field: 'amountCents' })
    expect(await failCode(gw.url, fx.admin_token, 'mutation($c: ID!) { adjustCredits(input: {clientId: $c, amountCents: 5, reason: " "}) { id } }', { c: id })).toMatchObject({ field: 'reason' })
    const audit = await ok<{ auditLog: { edges: { node: { action: string; objectType: string } }[] } }>(gw.url, fx.admin_token, '{ auditLog(first: 5) { edges { node { action objectType } } } }')
    expect(audit.auditLog.edges.map((x) => x.node.action)).toContain('adjustCredits')
  })

  test('credit added while a prepaid client is refused lets its next request through; usage debits the ledger', async () => {
    const c = await ok<{ createClient: { id: string } }>(gw.url, fx.admin_token, 'mutation { createClient(input: {name: "Pre", slug: "pre"}) { id } }')
    const id = c.createClient.id
    await ok(gw.url, fx.admin_token, 'mutation($c: ID!) { updateClient(id: $c, input: {billingMode: PREPAID}) { id } }', { c: id })
    await ok(gw.url, fx.admin_token, 'mutation($c: ID!) { createRoute(input: {clientId: $c, alias: "default", target: "openai:gpt-4o-mini"}) { id } }', { c: id })
    const k = await ok<{ mintGuardrailedKey: { secret: string } }>(gw.url, fx.admin_token, 'mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c}) { secret } }', { c: id })
    const ask = () => fetch(`${gw.url}/v1/proxy/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${k.mintGuardrailedKey.secret}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'default', max_tokens: 18, messages: [{ role: 'user', content: 'x' }] }) })
    expect((await ask()).status).toBe(429)
    await deliver('payment_intent.succeeded', { id: 'pi_unblock', object: 'payment_intent', amount: 100, amount_received: 100, metadata: { client_id: id }, customer: null })
    expect((await ask()).status).toBe(200)
    await until(async () => (await conn.sql`select 1 from credit_ledger where client_id = ${id} and kind = 'usage'`).length > 0, 5_000, 'usage debit')
    const [usage] = await conn.sql<{ billed: bigint }[]>`select sum(billed_nano)::bigint as billed from usage_events where client_id = ${id}`
    expect((await balance(id)).balanceCents).toBe(100 - Number(usage!.billed) / 1e7)
  })

  test('every running balance equals the sum of its ledger, and a rebuild changes nothing', async () => {
    expect(await ledgerMismatches(conn.sql)).toEqual([])
    const [before] = await conn.sql<{ balance_nano: bigint }[]>`select balance_nano from credit_accounts where client_id = ${fx.client_id!}`
    expect(await rebuildBalance(conn.sql, fx.client_id!)).toBe(before!.balance_nano)
  })
})

describe('without Stripe configured', () => {
  test('billing mutations that need Stripe say so; everything else works', async () => {
    const plain = await startGateway({ ...db.env })
    try {
      const r = await failCode(plain.url, fx.admin_token, 'mutation($c: ID!) { createBillingPortalUrl(clientId: $c) { url } }', { c: fx.client_id })
      expect(r.message).toContain('Stripe is not configured')
      const hook = await fetch(`${plain.url}/v1/billing/stripe/webhook`, { method: 'POST', body: '{}' })
      expect(hook.status).toBe(503)
      expect((await ok<{ creditBalance: { balanceCents: number } }>(plain.url, fx.admin_token, 'query($c: ID!) { creditBalance(clientId: $c) { balanceCents } }', { c: fx.client_id })).creditBalance.balanceCents).toBeGreaterThan(0)
    } finally {
      await plain.stop()
    }
  })
})

describe('auto-reload', () => {
  async function prepaidClient(slug: string, balanceCents: number, thresholdCents: number) {
    const c = await ok<{ createClient: { id: string } }>(gw.url, fx.admin_token, `mutation { createClient(input: {name: "${slug}", slug: "${slug}"}) { id } }`)
    const id = c.createClient.id
    await ok(gw.url, fx.admin_token, 'mutation($c: ID!) { updateClient(id: $c, input: {billingMode: PREPAID}) { id } }', { c: id })
    await ok(gw.url, fx.admin_token, 'mutation($c: ID!) { createRoute(input: {clientId: $c, alias: "default", target: "openai:gpt-4o-mini"}) { id } }', { c: id })
    await ok(gw.url, fx.admin_token, 'mutation($c: ID!, $a: Int!) { adjustCredits(input: {clientId: $c, amountCents: $a, reason: "seed"}) { id } }', { c: id, a: balanceCents })
    await ok(gw.url, fx.admin_token, 'mutation($c: ID!) { createBillingPortalUrl(clientId: $c) { url } }', { c: id })
    await conn.sql`update credit_accounts set payment_method_id = 'pm_card_visa', card_on_file = true where client_id = ${id}`
    await ok(gw.url, fx.admin_token, 'mutation($c: ID!, $t: Int!) { setAutoReload(input: {clientId: $c, enabled: true, thresholdCents: $t, amountCents: 1000}) { autoReload { enabled } } }', { c: id, t: thresholdCents })
    const k = await ok<{ mintGuardrailedKey: { secret: string } }>(gw.url, fx.admin_token, 'mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c}) { secret } }', { c: id })
    return { id, key: k.mintGuardrailedKey.secret }
  }
  const askVia = (g: GatewayProcess, key: string) =>
    fetch(`${g.url}/v1/proxy/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'default', max_tokens: 18, messages: [{ role: 'user', content: 'x' }] }) })
  const reloadCalls = (clientId: string) => fake.created('/v1/payment_intents').filter((c) => c.params.get('metadata[client_id]') === clientId)

  test('two gateway processes crossing the threshold together charge the card once', async () => {
    const env = { ...db.env, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.baseUrl, STRIPE_SECRET_KEY: 'sk_test_fake', STRIPE_WEBHOOK_SECRET: SECRET, STRIPE_API_BASE: fake.base, VIAPI_USAGE_FLUSH_MS: '20' }
    const [g1, g2] = await Promise.all([startGateway(env), startGateway(env)])
    try {
      const c = await prepaidClient('reload2', 5, 5)
      const results = await Promise.all([askVia(g1, c.key), askVia(g2, c.key), askVia(g1, c.key), askVia(g2, c.key)])
      expect(results.every((r) => r.status === 200)).toBe(true)
      await until(() => reloadCalls(c.id).length > 0, 5_000, 'a reload charge')
      await Bun.sleep(500)
      const calls = reloadCalls(c.id)
      expect(new Set(calls.map((x) => x.idempotencyKey))).toEqual(new Set([`viapi-reload-${c.id}-0`]))
      expect(calls[0]!.params.get('amount')).toBe('1000')
      expect(calls[0]!.params.get('off_session')).toBe('true')
      // Credited only by the webhook, once.
      const before = (await balance(c.id)).balanceCents
      await deliver('payment_intent.succeeded', { id: 'pi_reload_ok', object: 'payment_intent', amount: 1000, amount_received: 1000, metadata: { client_id: c.id, kind: 'auto_reload' }, customer: null })
      expect((await balance(c.id)).balanceCents).toBeCloseTo(before + 1000, 6)
      const kinds = await conn.sql<{ type: string }[]>`select type from alerts where client_id = ${c.id} order by type`
      expect(kinds.map((k) => k.type)).toEqual(['auto_reload.succeeded', 'credits.low_balance'])
    } finally {
      await Promise.all([g1.stop(), g2.stop()])
    }
  })

  test('a client already below its threshold, with no request to debit it, is reloaded by the sweep, once', async () => {
    const env = { ...db.env, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.baseUrl, STRIPE_SECRET_KEY: 'sk_test_fake', STRIPE_WEBHOOK_SECRET: SECRET, STRIPE_API_BASE: fake.base, VIAPI_RELOAD_SWEEP_MS: '100' }
    const g = await startGateway(env)
    try {
      // Auto-reload switched on while the balance (5 cents) is already under the threshold (10): no debit follows.
      const c = await prepaidClient('swept', 5, 10)
      await until(() => reloadCalls(c.id).length > 0, 5_000, 'the sweep to charge')
      await Bun.sleep(500)
      expect(reloadCalls(c.id).map((x) => x.idempotencyKey)).toEqual([`viapi-reload-${c.id}-0`])
    } finally {
      await g.stop()
    }
  })

  test('a declined card is alerted and retried with backoff a bounded number of times, each with a new cycle key', async () => {
    const env = { ...db.env, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.baseUrl, STRIPE_SECRET_KEY: 'sk_test_fake', STRIPE_WEBHOOK_SECRET: SECRET, STRIPE_API_BASE: fake.base, VIAPI_USAGE_FLUSH_MS: '20', VIAPI_WEBHOOK_RETRY_BASE_MS: '100' }
    const g = await startGateway(env)
    fake.declineCards = true
    try {
      const c = await prepaidClient('declined', 5, 5)
      expect((await askVia(g, c.key)).status).toBe(200)
      await until(() => reloadCalls(c.id).length >= 3, 5_000, 'three attempts')
      await Bun.sleep(600)
      expect(reloadCalls(c.id).map((x) => x.idempotencyKey)).toEqual([0, 1, 2].map((n) => `viapi-reload-${c.id}-${n}`))
      const failed = await conn.sql<{ data: { attempt: number; will_retry: boolean } }[]>`select data from alerts where client_id = ${c.id} and type = 'auto_reload.failed' order by created_at`
      expect(failed.map((f) => [f.data.attempt, f.data.will_retry])).toEqual([
        [1, true],
        [2, true],
        [3, false],
      ])
    } finally {
      fake.declineCards = false
      await g.stop()
    }
  })
})

describe('firm alert webhooks', () => {
  test('private addresses are refused as webhook targets unless allowed', async () => {
    const strict = await startGateway({ ...db.env })
    try {
      expect(await failCode(strict.url, fx.admin_token, 'mutation { setFirmWebhook(input: {url: "http://127.0.0.1:9/hook"}) { secret } }')).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' })
      expect(await failCode(strict.url, fx.admin_token, 'mutation { setFirmWebhook(input: {url: "https://169.254.169.254/latest"}) { secret } }')).toMatchObject({ field: 'url' })
    } finally {
      await strict.stop()
    }
  })

  test('alerts reach the firm webhook signed, are retried after a 500 with the same id, and show as delivered', async () => {
    const received: { id: string; body: string; sig: string }[] = []
    let failFirst = true
    const receiver = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(req) {
        const body = await req.text()
        received.push({ id: req.headers.get('x-viapi-event-id')!, body, sig: req.headers.get('x-viapi-signature')! })
        if (failFirst) {
          failFirst = false
          return new Response('boom', { status: 500 })
        }
        return new Response('ok')
      },
    })
    const g = gw
    try {
      const hook = await ok<{ setFirmWebhook: { url: string; secret: string } }>(g.url, fx.admin_token, 'mutation($u: String) { setFirmWebhook(input: {url: $u}) { url secret } }', { u: `http://127.0.0.1:${receiver.port}/hooks/viapi` })
      const secret = hook.setFirmWebhook.secret
      expect(secret).toMatch(/^whsec_/)
      // At rest it is sealed under VIAPI_SECRET_KEY, never the secret itself.
      const [stored] = await conn.sql<{ webhook_secret: string }[]>`select webhook_secret from firms where id = ${fx.firm_id}`
      expect(stored!.webhook_secret).toStartWith('v1:')
      expect(stored!.webhook_secret).not.toContain(secret.slice(6))
      const payload = JSON.stringify({ id: 'evt_alert_1', object: 'event', type: 'payment_intent.payment_failed', created: 1, data: { object: { id: 'pi_alerting', object: 'payment_intent', amount: 700, metadata: { client_id: fx.client_id }, customer: null, last_payment_error: { message: 'insufficient funds' } } } })
      const header = await stripeLib.webhooks.generateTestHeaderStringAsync({ payload, secret: SECRET })
      expect((await fetch(`${g.url}/v1/billing/stripe/webhook`, { method: 'POST', headers: { 'stripe-signature': header }, body: payload })).status).toBe(200)
      await until(() => received.length >= 2, 10_000, 'delivery and one retry')
      const [first, second] = received
      expect(first!.id).toBe(second!.id)
      expect(first!.body).toBe(second!.body)
      const body = JSON.parse(second!.body) as { id: string; type: string; created: number; firm_id: string; client_id: string; data: { amount_cents: number } }
      expect(body).toMatchObject({ id: second!.id, type: 'payment.failed', firm_id: fx.firm_id, client_id: fx.client_id, data: { amount_cents: 700 } })
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(second!.sig)!
      const expected = new Bun.CryptoHasher('sha256', secret).update(`${m[1]}.${second!.body}`).digest('hex')
      expect(m[2]).toBe(expected)
      const listed = await until(async () => {
        const r = await ok<{ alerts: { edges: { node: { id: string; deliveredAt: string | null; deliveryAttempts: number } }[] } }>(g.url, fx.admin_token, '{ alerts(first: 50) { edges { node { id type deliveredAt deliveryAttempts } } } }')
        const n = r.alerts.edges.find((e) => e.node.id === body.id)?.node
        return n?.deliveredAt ? n : null
      }, 5_000, 'delivered state')
      expect(listed.deliveryAttempts).toBe(2)
    } finally {
      receiver.stop(true)
    }
  })
})
