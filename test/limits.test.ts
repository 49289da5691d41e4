/**
 * Limits and guardrails through the real gateway with the official openai client: rate-limit headers and 429s,
 * key and client allowlists, expiry, budget caps under 200 concurrent requests, spending-limit alerts, prepaid
 * credit, and — with Redis — two replicas holding one global limit, revocation reaching both, and Redis dying.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { RedisClient } from 'bun'
import OpenAI from 'openai'
import type { Database } from '../src/shared/db.ts'
import { bootstrap, type BootstrapResult } from '../src/tenancy/bootstrap.ts'
import { ok } from './helpers/admin.ts'
import { readyDb, startGateway, testDb, until, type GatewayProcess, type TestDb } from './helpers/gateway.ts'
import { MockUpstream } from './helpers/mock-upstream.ts'
import type { Budget } from '../src/gateway/limits/budget.ts'
import { LimitSync } from '../src/gateway/limits/sync.ts'
import { freePort, PrivateRedis } from './helpers/redis.ts'

const upstream = new MockUpstream()
let db: TestDb
let conn: Database
let fx: BootstrapResult

beforeAll(async () => {
  upstream.start()
  db = await testDb('postgres')
  conn = await readyDb(db)
  fx = await bootstrap(conn.sql, { firmName: 'Limits', email: 'limits@x.test', demo: true, demoTarget: 'openai:gpt-4o-mini' })
})
afterAll(async () => {
  await conn?.close()
  await upstream.stop()
  await db?.drop()
})

const baseEnv = () => ({ ...db.env, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.baseUrl, VIAPI_USAGE_FLUSH_MS: '50' })
const sdk = (gw: GatewayProcess, key: string, maxRetries = 0) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1/proxy`, maxRetries })
const ask = (gw: GatewayProcess, key: string, extra: Record<string, unknown> = {}) =>
  fetch(`${gw.url}/v1/proxy/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'default', messages: [{ role: 'user', content: 'hi' }], ...extra }),
  })

async function newClient(gw: GatewayProcess, slug: string, setup: string[] = []): Promise<{ id: string; key: string }> {
  const c = await ok<{ createClient: { id: string } }>(gw.url, fx.admin_token, `mutation { createClient(input: {name: "${slug}", slug: "${slug}"}) { id } }`)
  const id = c.createClient.id
  await ok(gw.url, fx.admin_token, `mutation($c: ID!) { createRoute(input: {clientId: $c, alias: "default", target: "openai:gpt-4o-mini"}) { id } }`, { c: id })
  for (const m of setup) await ok(gw.url, fx.admin_token, m, { c: id })
  const k = await ok<{ mintGuardrailedKey: { secret: string } }>(gw.url, fx.admin_token, `mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c}) { secret } }`, { c: id })
  return { id, key: k.mintGuardrailedKey.secret }
}

describe('one gateway, no Redis', () => {
  let gw: GatewayProcess

  beforeAll(async () => {
    gw = await startGateway(baseEnv())
  })
  afterAll(async () => {
    await gw?.stop()
  })

  test('every response carries X-RateLimit-* for RPM and RPD; defaults are 60 and 10,000', async () => {
    const res = await ask(gw, fx.api_key!)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-ratelimit-limit-rpm')).toBe('60')
    expect(res.headers.get('x-ratelimit-remaining-rpm')).toBe('59')
    expect(res.headers.get('x-ratelimit-limit-rpd')).toBe('10000')
    expect(res.headers.get('x-ratelimit-remaining-rpd')).toBe('9999')
    expect(Number(res.headers.get('x-ratelimit-reset-rpm'))).toBeGreaterThan(0)
  })

  test('past the limit: 429 rate_limit_exceeded with Retry-After, remaining counts down to zero', async () => {
    const c = await newClient(gw, 'rpm5', ['mutation($c: ID!) { setClientRateLimits(input: {clientId: $c, rpm: 5}) { rpm } }'])
    const remaining: string[] = []
    for (let i = 0; i < 5; i++) {
      const r = await ask(gw, c.key)
      expect(r.status).toBe(200)
      remaining.push(r.headers.get('x-ratelimit-remaining-rpm')!)
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0'])
    const refused = await ask(gw, c.key)
    expect(refused.status).toBe(429)
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(12)
    expect(refused.headers.get('x-ratelimit-remaining-rpm')).toBe('0')
    expect(((await refused.json()) as { error: { type: string; message: string } }).error).toMatchObject({ type: 'rate_limit_exceeded' })
    const err = await sdk(gw, c.key).chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    // refused requests are not metered
    await Bun.sleep(150)
    const [n] = await conn.sql<{ n: bigint }[]>`select count(*)::bigint as n from usage_events where client_id = ${c.id}`
    expect(n!.n).toBe(5n)
  })

  test('the SDK waits for Retry-After and its retry gets through', async () => {
    const c = await newClient(gw, 'rpm60', ['mutation($c: ID!) { setClientRateLimits(input: {clientId: $c, rpm: 60}) { rpm } }'])
    for (let i = 0; i < 60; i++) await ask(gw, c.key)
    expect((await ask(gw, c.key)).status).toBe(429)
    const started = Date.now()
    const r = await sdk(gw, c.key, 2).chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }] })
    expect(r.choices.length).toBe(1)
    expect(Date.now() - started).toBeGreaterThanOrEqual(500)
  })

  test('a key limit tighter than its client’s wins, and the message says which', async () => {
    const c = await newClient(gw, 'keyrpm')
    const k = await ok<{ mintGuardrailedKey: { secret: string } }>(gw.url, fx.admin_token, `mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c, rpm: 2}) { secret } }`, { c: c.id })
    const key = k.mintGuardrailedKey.secret
    expect((await ask(gw, key)).status).toBe(200)
    const second = await ask(gw, key)
    expect(second.headers.get('x-ratelimit-limit-rpm')).toBe('2')
    expect(second.headers.get('x-ratelimit-remaining-rpm')).toBe('0')
    const third = await ask(gw, key)
    expect(third.status).toBe(429)
    expect(((await third.json()) as { error: { message: string } }).error.message).toContain('this key')
    expect((await ask(gw, c.key)).status).toBe(200) // the client's other key is unaffected
  })

  test('a limit changed while traffic runs takes effect at once', async () => {
    const c = await newClient(gw, 'live', ['mutation($c: ID!) { setClientRateLimits(input: {clientId: $c, rpm: 2}) { rpm } }'])
    await ask(gw, c.key)
    await ask(gw, c.key)
    expect((await ask(gw, c.key)).status).toBe(429)
    await ok(gw.url, fx.admin_token, 'mutation($c: ID!) { setClientRateLimits(input: {clientId: $c, rpm: 1000}) { rpm } }', { c: c.id })
    const after = await ask(gw, c.key)
    expect(after.status).toBe(200)
    expect(after.headers.get('x-ratelimit-limit-rpm')).toBe('1000')
  })

  test('allowlists: key and client lists are both enforced (403 model_not_allowed) and /models shows only what is allowed', async () => {
    const c = await newClient(gw, 'allow')
    const k = await ok<{ mintGuardrailedKey: { secret: string } }>(gw.url, fx.admin_token, `mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c, allowedModels: ["gpt-4o"]}) { secret } }`, { c: c.id })
    const key = k.mintGuardrailedKey.secret
    const err = await sdk(gw, key).chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect((err as InstanceType<typeof OpenAI.PermissionDeniedError>).code).toBe('model_not_allowed')
    expect((await sdk(gw, key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })).choices.length).toBe(1)
    const models = (await sdk(gw, key).models.list()).data.map((m) => m.id)
    expect(models).toEqual(['gpt-4o'])
    await ok(gw.url, fx.admin_token, 'mutation($c: ID!) { updateClient(id: $c, input: {allowedModels: ["gpt-4o-mini"]}) { id } }', { c: c.id })
    expect((await ask(gw, key, { model: 'gpt-4o' })).status).toBe(403)
    expect((await ask(gw, c.key)).status).toBe(200) // default -> gpt-4o-mini is in the client's list
    expect((await ask(gw, c.key, { model: 'gpt-4o' })).status).toBe(403)
  })

  test('a key past expires_at is refused with key_expired, without a restart', async () => {
    const c = await newClient(gw, 'expiry')
    const expiresAt = new Date(Date.now() + 1500).toISOString()
    const k = await ok<{ mintGuardrailedKey: { secret: string } }>(gw.url, fx.admin_token, `mutation($c: ID!, $e: DateTime) { mintGuardrailedKey(input: {clientId: $c, expiresAt: $e}) { secret } }`, { c: c.id, e: expiresAt })
    expect((await ask(gw, k.mintGuardrailedKey.secret)).status).toBe(200)
    const res = await until(async () => {
      const r = await ask(gw, k.mintGuardrailedKey.secret)
      return r.status === 401 ? r : null
    }, 5_000, 'expiry')
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('key_expired')
  })

  test('200 concurrent requests against a hard cap: billed never exceeds cap + one request’s worst case, none lost from usage', async () => {
    const c = await newClient(gw, 'cap', ['mutation($c: ID!) { setClientRateLimits(input: {clientId: $c, rpm: 100000}) { rpm } }'])
    const capUsd = 0.00063 // 50 × 12,600 nano-dollars
    const k = await ok<{ mintGuardrailedKey: { secret: string; key: { id: string } } }>(gw.url, fx.admin_token, `mutation($c: ID!, $cap: Float) { mintGuardrailedKey(input: {clientId: $c, monthlyCapUsd: $cap}) { secret key { id } } }`, { c: c.id, cap: capUsd })
    const body = { max_tokens: 18 }
    const results = await Promise.all(Array.from({ length: 200 }, () => ask(gw, k.mintGuardrailedKey.secret, body)))
    const admitted = results.filter((r) => r.status === 200)
    const refused = results.filter((r) => r.status === 429)
    expect(admitted.length + refused.length).toBe(200)
    expect(admitted.length).toBeGreaterThan(0)
    const refusal = (await refused[0]!.json()) as { error: { type: string; code: string; message: string } }
    expect(refusal.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' })
    expect(refusal.error.message).toContain("this key's monthly budget cap")
    expect(refused[0]!.headers.get('retry-after')).toBeNull()
    expect(refused[0]!.headers.get('x-should-retry')).toBe('false')
    // Then one at a time until the cap refuses: about 50 in all.
    let sequential = 0
    while ((await ask(gw, k.mintGuardrailedKey.secret, body)).status === 200) sequential++
    const total = admitted.length + sequential
    expect(total).toBeGreaterThanOrEqual(45)
    expect(total).toBeLessThanOrEqual(51)
    await until(async () => (await conn.sql`select 1 from usage_events where key_id = ${k.mintGuardrailedKey.key.id}`).length === total, 5_000, 'usage events')
    const ids = admitted.map((r) => r.headers.get('x-viapi-request-id')!)
    const [burst] = await conn.sql<{ n: bigint }[]>`select count(*)::bigint as n from usage_events where id in ${conn.sql(ids)} and outcome = 'ok'`
    expect(burst!.n).toBe(BigInt(admitted.length))
    const [sum] = await conn.sql<{ billed: bigint }[]>`select sum(billed_nano)::bigint as billed from usage_events where key_id = ${k.mintGuardrailedKey.key.id}`
    const bodyBytes = JSON.stringify({ model: 'default', messages: [{ role: 'user', content: 'hi' }], ...body }).length
    const worstCase = BigInt(bodyBytes) * 150n + 18n * 600n
    expect(sum!.billed).toBeLessThanOrEqual(630_000n + worstCase)
  })

  test('the OpenAI SDK does not retry insufficient_quota', async () => {
    const c = await newClient(gw, 'noretry', ['mutation($c: ID!) { setSpendingLimit(input: {clientId: $c, monthlyLimitUsd: 0.00001}) { clientId } }'])
    await ask(gw, c.key)
    const before = (gw.output().match(/"code":"insufficient_quota"/g) ?? []).length
    const err = await sdk(gw, c.key, 3).chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('insufficient_quota')
    await Bun.sleep(100)
    expect((gw.output().match(/"code":"insufficient_quota"/g) ?? []).length).toBe(before + 1)
  })

  test('soft key cap: requests go on, and the cap-reached alert is recorded once', async () => {
    const c = await newClient(gw, 'softcap')
    const k = await ok<{ mintGuardrailedKey: { secret: string; key: { id: string } } }>(gw.url, fx.admin_token, `mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c, monthlyCapUsd: 0.00002, enforcement: SOFT}) { secret key { id } } }`, { c: c.id })
    for (let i = 0; i < 4; i++) expect((await ask(gw, k.mintGuardrailedKey.secret)).status).toBe(200)
    const alerts = await until(async () => {
      const rows = await conn.sql<{ type: string; key_id: string }[]>`select type, key_id from alerts where client_id = ${c.id}`
      return rows.length > 0 ? rows : null
    }, 5_000, 'alert')
    expect([...alerts]).toEqual([{ type: 'key.cap_reached', key_id: k.mintGuardrailedKey.key.id }])
  })

  test('client spending limit: each threshold alert once per month, then hard refusal naming the limit', async () => {
    // 12,600 nano a request; limit 50,000 nano: 50 % after 2 requests, 100 % after 4
    const c = await newClient(gw, 'spend', ['mutation($c: ID!) { setSpendingLimit(input: {clientId: $c, monthlyLimitUsd: 0.00005, alertThresholds: [50, 100]}) { clientId } }'])
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await ask(gw, c.key, { max_tokens: 18 })).status)
    expect(statuses.slice(0, 2)).toEqual([200, 200])
    expect(statuses.at(-1)).toBe(429)
    const rows = await until(async () => {
      const r = await conn.sql<{ type: string; threshold: number; period: string }[]>`select type, threshold, period from alerts where client_id = ${c.id} order by threshold`
      return r.length === 2 ? r : null
    }, 5_000, 'two threshold alerts')
    const now = new Date()
    const period = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`
    expect([...rows]).toEqual([
      { type: 'spending_limit.threshold_crossed', threshold: 50, period },
      { type: 'spending_limit.threshold_crossed', threshold: 100, period },
    ])
    const last = await ask(gw, c.key)
    expect(((await last.json()) as { error: { message: string } }).error.message).toContain("client's monthly spending limit")
  })

  test('prepaid credit: each request debits the balance; at zero a hard-enforced client is refused', async () => {
    const c = await newClient(gw, 'prepaid', ['mutation($c: ID!) { updateClient(id: $c, input: {billingMode: PREPAID}) { id } }'])
    expect((await ask(gw, c.key)).status).toBe(429) // no credit yet
    await conn.sql`insert into credit_accounts (client_id, firm_id, balance_nano) values (${c.id}, ${fx.firm_id}, 40000)`
    // a fresh key loads the balance on first use
    const k = await ok<{ mintGuardrailedKey: { secret: string } }>(gw.url, fx.admin_token, `mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c}) { secret } }`, { c: c.id })
    await gw.stop()
    gw = await startGateway(baseEnv())
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await ask(gw, k.mintGuardrailedKey.secret, { max_tokens: 18 })).status)
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2)
    expect(statuses.at(-1)).toBe(429)
    const refusal = (await (await ask(gw, k.mintGuardrailedKey.secret)).json()) as { error: { message: string } }
    expect(refusal.error.message).toContain('prepaid credit balance')
    const admittedCount = statuses.filter((s) => s === 200).length
    await until(async () => (await conn.sql`select 1 from usage_events where client_id = ${c.id}`).length === admittedCount, 5_000, 'usage')
    const [{ billed }] = (await conn.sql<{ billed: bigint }[]>`select sum(billed_nano)::bigint as billed from usage_events where client_id = ${c.id}`) as unknown as [{ billed: bigint }]
    const [acct] = await conn.sql<{ balance_nano: bigint }[]>`select balance_nano from credit_accounts where client_id = ${c.id}`
    expect(acct!.balance_nano).toBe(40_000n - billed)
  })
})

describe('two replicas sharing Redis', () => {
  const prefix = `viapi-test-${Date.now().toString(36)}:`
  let a: GatewayProcess
  let b: GatewayProcess

  beforeAll(async () => {
    const env = { ...baseEnv(), REDIS_URL: 'redis://127.0.0.1:6379', VIAPI_REDIS_PREFIX: prefix }
    ;[a, b] = await Promise.all([startGateway(env), startGateway(env)])
    await until(async () => {
      const r = (await (await fetch(`${a.url}/readyz`)).json()) as { replicas?: number }
      return r.replicas === 2
    }, 10_000, 'both replicas to see each other')
  })
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
  })

  test('hammering one key through both holds the global limit (within 5 %)', async () => {
    const c = await newClient(a, 'shared', ['mutation($c: ID!) { setClientRateLimits(input: {clientId: $c, rpm: 120}) { rpm } }'])
    const started = Date.now()
    const durationMs = 3000
    let admitted = 0
    let refused = 0
    const worker = async (gw: GatewayProcess) => {
      while (Date.now() - started < durationMs) {
        const r = await ask(gw, c.key)
        await r.arrayBuffer()
        if (r.status === 200) admitted++
        else if (r.status === 429) refused++
        else throw new Error(`unexpected ${r.status}`)
      }
    }
    await Promise.all([...Array.from({ length: 8 }, () => worker(a)), ...Array.from({ length: 8 }, () => worker(b))])
    const elapsed = Date.now() - started
    const allowed = 120 + (120 * elapsed) / 60_000
    expect(refused).toBeGreaterThan(0)
    expect(admitted).toBeLessThanOrEqual(allowed * 1.05 + 2)
    expect(admitted).toBeGreaterThanOrEqual(allowed * 0.95)
  })

  test('a burst on a fresh key whose limit has room is never refused while its lease catches up', async () => {
    const c = await newClient(a, 'burst', ['mutation($c: ID!) { setClientRateLimits(input: {clientId: $c, rpm: 10000000, rpd: 100000000}) { rpm } }'])
    const started = Date.now()
    const statuses: number[] = []
    const worker = async () => {
      while (Date.now() - started < 1500) {
        const r = await ask(a, c.key)
        await r.arrayBuffer()
        statuses.push(r.status)
      }
    }
    await Promise.all(Array.from({ length: 32 }, worker))
    expect(statuses.length).toBeGreaterThan(300)
    expect(statuses.filter((s) => s !== 200)).toEqual([])
  })

  test('a key revoked through one replica is refused by the other within seconds', async () => {
    const c = await newClient(a, 'revoke2')
    const k = await ok<{ mintGuardrailedKey: { secret: string; key: { id: string } } }>(a.url, fx.admin_token, `mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c}) { secret key { id } } }`, { c: c.id })
    expect((await ask(a, k.mintGuardrailedKey.secret)).status).toBe(200)
    expect((await ask(b, k.mintGuardrailedKey.secret)).status).toBe(200) // cached on b now
    await ok(a.url, fx.admin_token, 'mutation($id: ID!) { revokeKey(id: $id, confirm: true) { status } }', { id: k.mintGuardrailedKey.key.id })
    const t0 = Date.now()
    await until(async () => (await ask(b, k.mintGuardrailedKey.secret)).status === 401, 3_000, 'revocation on the other replica')
    expect(Date.now() - t0).toBeLessThan(3000)
  })
})

describe('Redis going away and coming back', () => {
  test('requests keep being served on local shares, /readyz says degraded (200), and it resyncs by itself', async () => {
    const redis = await new PrivateRedis(await freePort()).start()
    const gw = await startGateway({ ...baseEnv(), REDIS_URL: redis.url, VIAPI_REDIS_PREFIX: 'viapi-fault:' })
    try {
      const c = await newClient(gw, 'fault', ['mutation($c: ID!) { setClientRateLimits(input: {clientId: $c, rpm: 100000}) { rpm } }'])
      expect((await ask(gw, c.key)).status).toBe(200)
      expect(((await (await fetch(`${gw.url}/readyz`)).json()) as { redis: string }).redis).toBe('ok')
      await redis.kill()
      await until(async () => ((await (await fetch(`${gw.url}/readyz`)).json()) as { redis: string }).redis === 'degraded', 5_000, 'degraded')
      const ready = await fetch(`${gw.url}/readyz`)
      expect(ready.status).toBe(200)
      for (let i = 0; i < 10; i++) expect((await ask(gw, c.key)).status).toBe(200)
      expect(gw.output()).toContain('redis unreachable')
      await redis.start()
      await until(async () => ((await (await fetch(`${gw.url}/readyz`)).json()) as { redis: string }).redis === 'ok', 15_000, 'resync')
      expect(gw.output()).toContain('redis is back')
      expect((await ask(gw, c.key)).status).toBe(200)
    } finally {
      await gw.stop()
      await redis.kill()
    }
  })
})

describe('the limit sync at shutdown', () => {
  test('stopping while a round is under way waits for it, then pushes what was spent meanwhile', async () => {
    const prefix = `viapi-stop-${Date.now()}:`
    const budget: Budget = { id: 'sp:k:key_stop:2026-11', kind: 'spend', global: 0n, unsynced: 100n, sending: 0n, reserved: 0n, seed: 1_000n, touchedAt: Date.now() }
    const sync = new LimitSync({ url: 'redis://127.0.0.1:6379', prefix, intervalMs: 60_000 }, { buckets: () => [], budgets: () => [budget] })
    // The log's sink is stdout: catch what the sync says while it stops.
    const said: string[] = []
    const write = process.stdout.write
    process.stdout.write = ((chunk: string | Uint8Array) => said.push(String(chunk)) > 0) as typeof process.stdout.write
    try {
      const first = sync.tick()
      // Spent while that round is on its way to Redis: only a later round can carry it.
      budget.unsynced += 50n
      await sync.stop()
      await first
      expect(budget.unsynced).toBe(0n)
      expect(budget.sending).toBe(0n)
      expect(sync.status).toBe('ok')
      process.stdout.write = write
      expect(said.filter((m) => m.includes('redis unreachable'))).toEqual([])
      const redis = new RedisClient('redis://127.0.0.1:6379')
      expect(await redis.get(`${prefix}b:${budget.id}`)).toBe('1150')
      redis.close()
    } finally {
      process.stdout.write = write
    }
  })
})

/** A rate limiter leasing through a LimitSync on the local Redis, started, its first round done; rounds() counts them. */
async function countedSync(name: string, intervalMs: number) {
  const { RateLimiter } = await import('../src/gateway/limits/rate.ts')
  let sync: LimitSync | null = null
  const limiter = new RateLimiter({ leasing: () => sync!.leasing(), share: () => sync!.share(), nextSync: (soon) => sync!.nextSync(soon) })
  sync = new LimitSync({ url: 'redis://127.0.0.1:6379', prefix: `viapi-${name}-${Date.now()}:`, intervalMs }, { buckets: (now) => limiter.active(now, 60_000), budgets: () => [] })
  let n = 0
  const tick = sync.tick.bind(sync)
  sync.tick = (now?: number) => (n++, tick(now))
  sync.start()
  await until(() => n >= 1 && sync!.leasing(), 5_000, 'first round')
  return { limiter, sync, rounds: () => n }
}

describe('an idle replica', () => {
  test('calls Redis about once a second (its heartbeat), and every interval again as soon as requests come', async () => {
    const { limiter, sync, rounds } = await countedSync('idle', 25)
    try {
      const specs = [{ id: 'c:cli_idle:RPM', window: 'RPM' as const, limit: 1_000_000 }]
      // A key that was used, then left alone: its lease is still held, but nothing happens.
      for (let i = 0; i < 10; i++) expect((await limiter.admit(specs, Date.now())).ok).toBe(true)
      await Bun.sleep(200)
      const quiet = rounds()
      await Bun.sleep(2_100)
      expect(rounds() - quiet).toBeGreaterThanOrEqual(2)
      expect(rounds() - quiet).toBeLessThanOrEqual(3)
      expect(sync.liveReplicas).toBe(1)
      // Requests again: a round every interval (25 ms) while they come.
      const busy = rounds()
      const until_ = Date.now() + 500
      while (Date.now() < until_) {
        await limiter.admit(specs, Date.now())
        await Bun.sleep(5)
      }
      expect(rounds() - busy).toBeGreaterThan(10)
    } finally {
      await sync.stop()
    }
  })
})

describe('a lease that runs dry', () => {
  test('is refilled within a round trip when Redis has tokens, and a key at its limit waits for the timer instead', async () => {
    // The timer's round comes only every 2 s here: anything faster is a round asked for at once.
    const { limiter, sync, rounds } = await countedSync('dry', 2_000)
    try {
      const specs = [{ id: 'c:cli_dry:RPM', window: 'RPM' as const, limit: 3 }]
      // A new key: no lease yet, the shared bucket full. Five requests at once: three admitted within one round trip.
      const started = performance.now()
      const decisions = await Promise.all(Array.from({ length: 5 }, () => limiter.admit(specs, Date.now())))
      const first = performance.now() - started
      expect(first).toBeLessThan(1_000)
      expect(decisions.filter((d) => d.ok)).toHaveLength(3)
      // Now at its limit (the shared bucket empty when last seen): a request waits for the timer's round, asking nothing sooner.
      const before = rounds()
      const late = performance.now()
      const refused = await limiter.admit(specs, Date.now())
      expect(refused.ok).toBe(false)
      expect(rounds() - before).toBe(1)
      expect(performance.now() - late).toBeGreaterThan(500)
    } finally {
      await sync.stop()
    }
  })
})
