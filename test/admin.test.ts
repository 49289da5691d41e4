/**
 * The admin plane end to end on a real Postgres: GraphQL as firm and platform admins, cross-tenant refusals,
 * clamps, revocation reaching the proxy at once, PATs and dashboard JWTs, usage REST and CSV export reconciling
 * with real proxied calls, query limits, and the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import OpenAI from 'openai'
import type { Database } from '../src/shared/db.ts'
import { bootstrap, type BootstrapResult } from '../src/tenancy/bootstrap.ts'
import { mintAccessToken } from '../src/tenancy/tokens.ts'
import { createUser } from '../src/tenancy/users.ts'
import { failCode, gql, hsJwt, ok } from './helpers/admin.ts'
import { startGateway, testDb, until, type GatewayProcess, type TestDb } from './helpers/gateway.ts'
import { MockUpstream } from './helpers/mock-upstream.ts'

const SECRET = 'test-jwt-secret-0123456789abcdef'
const upstream = new MockUpstream()
let db: TestDb
let gw: GatewayProcess
let conn: Database
let a: BootstrapResult
let b: BootstrapResult
let platform: string
let url: string

const CLIENT_FIELDS = 'id name slug email billingMode rpm rpd markupPercent firm { id }'
const KEY_FIELDS = 'id prefix label status monthlyCapUsd capClamped enforcement rpm rpd allowedModels expiresAt'

const chat = (key: string, model = 'default') =>
  new OpenAI({ apiKey: key, baseURL: `${url}/v1/proxy`, maxRetries: 0 }).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })

beforeAll(async () => {
  upstream.start()
  db = await testDb('postgres')
  gw = await startGateway({ ...db.env, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.baseUrl, VIAPI_JWT_SECRET: SECRET, VIAPI_USAGE_FLUSH_MS: '50' })
  url = gw.url
  conn = await db.connect()
  a = await bootstrap(conn.sql, { firmName: 'Acme', email: 'dawn.le@rennlabs.com', demo: true, demoTarget: 'openai:gpt-4o-mini' })
  b = await bootstrap(conn.sql, { firmName: 'Beta', email: 'ops@beta.test', demo: true, demoTarget: 'openai:gpt-4o-mini' })
  const root = await createUser(conn.sql, { email: 'root@viapi.test', role: 'platform_admin', firmId: null })
  platform = (await mintAccessToken(conn.sql, { userId: root.id, label: 'test' })).token
})

afterAll(async () => {
  await conn?.close()
  await gw?.stop()
  await upstream.stop()
  await db?.drop()
})

describe('who is calling', () => {
  test('me, as firm admin and as platform admin', async () => {
    expect(await ok(url, a.admin_token, '{ me { email role firm { id name } } }')).toEqual({ me: { email: 'dawn.le@rennlabs.com', role: 'FIRM_ADMIN', firm: { id: a.firm_id, name: 'Acme' } } })
    expect(await ok(url, platform, '{ me { email role firm { id } } }')).toEqual({ me: { email: 'root@viapi.test', role: 'PLATFORM_ADMIN', firm: null } })
  })

  test('no credentials: UNAUTHENTICATED; a client key: 401', async () => {
    expect((await failCode(url, null, '{ me { id } }')).code).toBe('UNAUTHENTICATED')
    const r = await gql(url, a.api_key!, '{ me { id } }')
    expect(r.status).toBe(401)
    expect(r.errors?.[0]?.message).toContain('Client API keys')
  })

  test('dashboard JWTs: good, expired, wrong signature, wrong audience, unknown email', async () => {
    const good = await hsJwt(SECRET, { email: 'dawn.le@rennlabs.com', sub: 'u1' })
    expect(await ok(url, good, '{ me { email } }')).toEqual({ me: { email: 'dawn.le@rennlabs.com' } })
    const expired = await hsJwt(SECRET, { email: 'dawn.le@rennlabs.com' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 })
    const wrongSig = await hsJwt('another-secret-entirely-0123456789', { email: 'dawn.le@rennlabs.com' })
    const wrongAud = await hsJwt(SECRET, { email: 'dawn.le@rennlabs.com' }, { audience: 'someone-else' })
    const stranger = await hsJwt(SECRET, { email: 'nobody@nowhere.test' })
    for (const [token, words] of [
      [expired, 'expired'],
      [wrongSig, 'could not be verified'],
      [wrongAud, '"aud"'],
      [stranger, 'No Viapi admin account'],
    ] as const) {
      const r = await gql(url, token, '{ me { id } }')
      expect(r.status).toBe(401)
      expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
      expect(r.errors?.[0]?.message).toContain(words)
    }
  })

  test('PATs: minted with a JWT (201), used, listed, revoked; a PAT cannot mint another', async () => {
    const jwt = await hsJwt(SECRET, { email: 'dawn.le@rennlabs.com' })
    const res = await fetch(`${url}/v1/auth/tokens`, { method: 'POST', headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' }, body: JSON.stringify({ label: 'claude-code-mcp' }) })
    expect(res.status).toBe(201)
    const minted = (await res.json()) as { id: string; token: string; label: string; created_at: string }
    expect(Object.keys(minted).sort()).toEqual(['created_at', 'id', 'label', 'token'])
    expect(minted.token).toMatch(/^vi_pat_/)
    expect(minted.label).toBe('claude-code-mcp')
    expect(await ok(url, minted.token, '{ me { email } }')).toEqual({ me: { email: 'dawn.le@rennlabs.com' } })
    const list = (await (await fetch(`${url}/v1/auth/tokens`, { headers: { authorization: `Bearer ${minted.token}` } })).json()) as { data: { id: string; prefix: string }[] }
    expect(list.data.map((t) => t.id)).toContain(minted.id)
    expect(JSON.stringify(list)).not.toContain(minted.token)
    const byPat = await fetch(`${url}/v1/auth/tokens`, { method: 'POST', headers: { authorization: `Bearer ${minted.token}`, 'content-type': 'application/json' }, body: '{"label":"x"}' })
    expect(byPat.status).toBe(403)
    expect((await fetch(`${url}/v1/auth/tokens/${minted.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${jwt}` } })).status).toBe(200)
    expect((await gql(url, minted.token, '{ me { id } }')).status).toBe(401)
  })

  test('JWKS (RS256) verification with a key served by a local JWKS endpoint', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256')
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }
    const jwks = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => Response.json({ keys: [jwk] }) })
    const other = await startGateway({ ...db.env, VIAPI_JWKS_URL: `http://127.0.0.1:${jwks.port}/.well-known/jwks.json`, VIAPI_JWT_ISSUER: 'https://auth.test' })
    try {
      const sign = (iss: string) => new SignJWT({ email: 'ops@beta.test' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(iss).setAudience('authenticated').setExpirationTime('5m').sign(privateKey)
      expect(await ok(other.url, await sign('https://auth.test'), '{ me { email } }')).toEqual({ me: { email: 'ops@beta.test' } })
      expect((await gql(other.url, await sign('https://evil.test'), '{ me { id } }')).status).toBe(401)
      expect((await gql(other.url, await hsJwt(SECRET, { email: 'ops@beta.test' }), '{ me { id } }')).status).toBe(401)
    } finally {
      await other.stop()
      jwks.stop(true)
    }
  })
})

describe('clients, keys, routes, limits', () => {
  let clientId: string

  test('createClient returns the Client; slug clashes and bad fields name the field', async () => {
    const r = await ok<{ createClient: { id: string; name: string; slug: string; email: string; billingMode: string } }>(
      url,
      a.admin_token,
      `mutation($i: CreateClientInput!) { createClient(input: $i) { ${CLIENT_FIELDS} } }`,
      { i: { name: 'Acme Corp', slug: 'acme-corp', email: 'ops@acme.com' } },
    )
    expect(r.createClient).toMatchObject({ name: 'Acme Corp', slug: 'acme-corp', email: 'ops@acme.com', billingMode: 'POSTPAID', rpm: null, firm: { id: a.firm_id } })
    expect(r.createClient.id).toMatch(/^cli_/)
    clientId = r.createClient.id
    expect(await failCode(url, a.admin_token, 'mutation { createClient(input: {name: "X", slug: "acme-corp"}) { id } }')).toMatchObject({ code: 'BAD_USER_INPUT', field: 'slug' })
    expect(await failCode(url, a.admin_token, 'mutation { createClient(input: {name: "X", slug: "Bad Slug"}) { id } }')).toMatchObject({ code: 'BAD_USER_INPUT', field: 'slug' })
    expect(await failCode(url, a.admin_token, 'mutation { createClient(input: {name: "X", slug: "x1", email: "nope"}) { id } }')).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' })
    expect(await failCode(url, a.admin_token, 'mutation { createClient(input: {name: " ", slug: "x2"}) { id } }')).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' })
  })

  test('updateClient and setClientRateLimits; out-of-range rates refused', async () => {
    const u = await ok<{ updateClient: { name: string; billingMode: string } }>(url, a.admin_token, `mutation($id: ID!) { updateClient(id: $id, input: {name: "Acme Corporation", billingMode: PREPAID}) { name billingMode } }`, { id: clientId })
    expect(u.updateClient).toEqual({ name: 'Acme Corporation', billingMode: 'PREPAID' })
    const r = await ok<{ setClientRateLimits: { rpm: number; rpd: number } }>(url, a.admin_token, `mutation($id: ID!) { setClientRateLimits(input: {clientId: $id, rpm: 10000000, rpd: 1000000000}) { rpm rpd } }`, { id: clientId })
    expect(r.setClientRateLimits).toEqual({ rpm: 10_000_000, rpd: 1_000_000_000 })
    for (const [rpm, field] of [[0, 'rpm'], [-5, 'rpm'], [10_000_001, 'rpm']] as const) {
      expect(await failCode(url, a.admin_token, `mutation($id: ID!, $rpm: Int) { setClientRateLimits(input: {clientId: $id, rpm: $rpm}) { rpm } }`, { id: clientId, rpm })).toMatchObject({ code: 'BAD_USER_INPUT', field })
    }
    expect(await failCode(url, a.admin_token, `mutation($id: ID!) { setClientRateLimits(input: {clientId: $id, rpd: 1000000001}) { rpd } }`, { id: clientId })).toMatchObject({ field: 'rpd' })
  })

  test('mintGuardrailedKey: secret once, caps clamped at $500 and reported, defaults, validation', async () => {
    const r = await ok<{ mintGuardrailedKey: { secret: string; key: Record<string, unknown> } }>(
      url,
      a.admin_token,
      `mutation($i: MintGuardrailedKeyInput!) { mintGuardrailedKey(input: $i) { secret key { ${KEY_FIELDS} } } }`,
      { i: { clientId: a.client_id, label: 'prod', monthlyCapUsd: 1000, enforcement: 'SOFT', allowedModels: ['gpt-4o-mini', 'dall-e-3'], rpm: 100, expiresAt: '2099-01-01T00:00:00Z' } },
    )
    const { secret, key } = r.mintGuardrailedKey
    expect(secret).toMatch(/^vi_live_[A-Za-z0-9]{40}$/)
    expect(key).toMatchObject({ prefix: secret.slice(0, 12), label: 'prod', status: 'ACTIVE', monthlyCapUsd: 500, capClamped: true, enforcement: 'SOFT', rpm: 100, rpd: null, allowedModels: ['gpt-4o-mini', 'dall-e-3'], expiresAt: '2099-01-01T00:00:00.000Z' })
    const plain = await ok<{ mintGuardrailedKey: { key: Record<string, unknown> } }>(url, a.admin_token, `mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c}) { key { ${KEY_FIELDS} } } }`, { c: a.client_id })
    expect(plain.mintGuardrailedKey.key).toMatchObject({ monthlyCapUsd: null, capClamped: false, enforcement: 'HARD', allowedModels: null, expiresAt: null, status: 'ACTIVE' })
    const under = await ok<{ mintGuardrailedKey: { key: { monthlyCapUsd: number; capClamped: boolean } } }>(url, a.admin_token, `mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c, monthlyCapUsd: 100}) { key { monthlyCapUsd capClamped } } }`, { c: a.client_id })
    expect(under.mintGuardrailedKey.key).toEqual({ monthlyCapUsd: 100, capClamped: false })
    for (const [input, field] of [
      [{ monthlyCapUsd: 0 }, 'monthlyCapUsd'],
      [{ monthlyCapUsd: -10 }, 'monthlyCapUsd'],
      [{ rpm: 0 }, 'rpm'],
      [{ rpd: 2_000_000_000 }, 'rpd'],
      [{ expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
      [{ allowedModels: ['bad model!'] }, 'allowedModels'],
    ] as const) {
      expect(await failCode(url, a.admin_token, `mutation($i: MintGuardrailedKeyInput!) { mintGuardrailedKey(input: $i) { secret } }`, { i: { clientId: a.client_id, ...input } })).toMatchObject({ code: 'BAD_USER_INPUT', field })
    }
    // the secret never appears in lists or the audit log
    const keys = await ok(url, a.admin_token, `query($c: ID!) { keys(clientId: $c, first: 100) { edges { node { ${KEY_FIELDS} } } } }`, { c: a.client_id })
    const audit = await ok(url, a.admin_token, '{ auditLog(first: 100) { edges { node { action before after } } } }')
    expect(JSON.stringify(keys)).not.toContain(secret)
    expect(JSON.stringify(audit)).not.toContain(secret)
    const [row] = await conn.sql<{ key_hash: string }[]>`select key_hash from api_keys where prefix = ${secret.slice(0, 12)}`
    expect(row!.key_hash).not.toContain(secret.slice(8))
  })

  test('revokeKey refuses without confirm (no change), revokes with it, and the proxy refuses the key at once', async () => {
    const { mintGuardrailedKey: m } = await ok<{ mintGuardrailedKey: { secret: string; key: { id: string } } }>(url, a.admin_token, `mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c}) { secret key { id } } }`, { c: a.client_id })
    expect((await chat(m.secret)).choices[0]!.message.content).toBeTruthy() // now cached in the gateway
    expect(await failCode(url, a.admin_token, `mutation($id: ID!) { revokeKey(id: $id) { status } }`, { id: m.key.id })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'confirm' })
    expect(await failCode(url, a.admin_token, `mutation($id: ID!) { revokeKey(id: $id, confirm: false) { status } }`, { id: m.key.id })).toMatchObject({ field: 'confirm' })
    expect((await chat(m.secret)).choices.length).toBe(1)
    const r = await ok<{ revokeKey: { status: string } }>(url, a.admin_token, `mutation($id: ID!) { revokeKey(id: $id, confirm: true) { status } }`, { id: m.key.id })
    expect(r.revokeKey.status).toBe('REVOKED')
    const err = await chat(m.secret).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError)
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('key_revoked')
  })

  test('updateKey changes guardrails (clamped) and the proxy enforces the new allowlist at once', async () => {
    const { mintGuardrailedKey: m } = await ok<{ mintGuardrailedKey: { secret: string; key: { id: string } } }>(url, a.admin_token, `mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c}) { secret key { id } } }`, { c: a.client_id })
    await chat(m.secret)
    const r = await ok<{ updateKey: Record<string, unknown> }>(url, a.admin_token, `mutation($id: ID!) { updateKey(id: $id, input: {monthlyCapUsd: 750, allowedModels: ["gpt-4o"], label: "renamed"}) { ${KEY_FIELDS} } }`, { id: m.key.id })
    expect(r.updateKey).toMatchObject({ monthlyCapUsd: 500, capClamped: true, allowedModels: ['gpt-4o'], label: 'renamed' })
    const err = await chat(m.secret, 'default').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect((err as InstanceType<typeof OpenAI.PermissionDeniedError>).code).toBe('model_not_allowed')
    const cleared = await ok<{ updateKey: { allowedModels: string[] | null } }>(url, a.admin_token, `mutation($id: ID!) { updateKey(id: $id, input: {allowedModels: null}) { allowedModels } }`, { id: m.key.id })
    expect(cleared.updateKey.allowedModels).toBeNull()
  })

  test('routes: create (target validated), list, use through the proxy, delete', async () => {
    expect(await failCode(url, a.admin_token, `mutation($c: ID!) { createRoute(input: {clientId: $c, alias: "smart", target: "openai:gpt-99"}) { id } }`, { c: a.client_id })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'target' })
    expect(await failCode(url, a.admin_token, `mutation($c: ID!) { createRoute(input: {clientId: $c, alias: "smart", target: "openai:gpt-4o", fallbacks: ["nope"]}) { id } }`, { c: a.client_id })).toMatchObject({ field: 'fallbacks' })
    const r = await ok<{ createRoute: { id: string; alias: string; target: string; fallbacks: string[] } }>(
      url,
      a.admin_token,
      `mutation($c: ID!) { createRoute(input: {clientId: $c, alias: "smart", target: "openai:gpt-4o", fallbacks: ["mock:mock-1"]}) { id alias target fallbacks } }`,
      { c: a.client_id },
    )
    expect(r.createRoute).toMatchObject({ alias: 'smart', target: 'openai:gpt-4o', fallbacks: ['mock:mock-1'] })
    expect(await failCode(url, a.admin_token, `mutation($c: ID!) { createRoute(input: {clientId: $c, alias: "smart", target: "openai:gpt-4o"}) { id } }`, { c: a.client_id })).toMatchObject({ field: 'alias' })
    const used = await chat(a.api_key!, 'smart')
    expect((used as unknown as { viapi: { model_used: string } }).viapi.model_used).toBe('gpt-4o')
    const list = await ok<{ routes: { edges: { node: { alias: string } }[] } }>(url, a.admin_token, `query($c: ID!) { routes(clientId: $c) { edges { node { alias } } } }`, { c: a.client_id })
    expect(list.routes.edges.map((e) => e.node.alias).sort()).toEqual(['default', 'smart'])
    await ok(url, a.admin_token, `mutation($id: ID!) { deleteRoute(id: $id) { id } }`, { id: r.createRoute.id })
    const gone = await chat(a.api_key!, 'smart').catch((e: unknown) => e)
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError)
  })

  test('spending limit: clamped and reported, thresholds validated; spendingLimit reads it back', async () => {
    const none = await ok<{ spendingLimit: unknown }>(url, a.admin_token, `query($c: ID!) { spendingLimit(clientId: $c) { monthlyLimitUsd } }`, { c: clientId })
    expect(none.spendingLimit).toBeNull()
    const set = await ok<{ setSpendingLimit: Record<string, unknown> }>(
      url,
      a.admin_token,
      `mutation($c: ID!) { setSpendingLimit(input: {clientId: $c, monthlyLimitUsd: 900, alertThresholds: [80, 50, 100], enforcement: SOFT}) { clientId monthlyLimitUsd limitClamped alertThresholds enforcement } }`,
      { c: clientId },
    )
    expect(set.setSpendingLimit).toEqual({ clientId, monthlyLimitUsd: 500, limitClamped: true, alertThresholds: [50, 80, 100], enforcement: 'SOFT' })
    const read = await ok<{ spendingLimit: Record<string, unknown> }>(url, a.admin_token, `query($c: ID!) { spendingLimit(clientId: $c) { monthlyLimitUsd limitClamped } }`, { c: clientId })
    expect(read.spendingLimit).toEqual({ monthlyLimitUsd: 500, limitClamped: true })
    expect(await failCode(url, a.admin_token, `mutation($c: ID!) { setSpendingLimit(input: {clientId: $c, monthlyLimitUsd: 100, alertThresholds: [0]}) { clientId } }`, { c: clientId })).toMatchObject({ field: 'alertThresholds' })
    expect(await failCode(url, a.admin_token, `mutation($c: ID!) { setSpendingLimit(input: {clientId: $c, monthlyLimitUsd: -1}) { clientId } }`, { c: clientId })).toMatchObject({ field: 'monthlyLimitUsd' })
  })

  test('markup: a client override prices the next call; the firm default applies otherwise', async () => {
    const r = await ok<{ setMarkup: { percent: number; clientId: string } }>(url, a.admin_token, `mutation($c: ID!) { setMarkup(input: {clientId: $c, percent: 25}) { percent clientId } }`, { c: a.client_id })
    expect(r.setMarkup).toEqual({ percent: 25, clientId: a.client_id! })
    const v = ((await chat(a.api_key!)) as unknown as { viapi: { cost_usd: number; markup_usd: number } }).viapi
    expect(v).toMatchObject({ cost_usd: 0.0000126, markup_usd: 0.00000315 }) // 25 % of 12,600 nano
    const firm = await ok<{ setMarkup: { percent: number; clientId: null } }>(url, b.admin_token, 'mutation { setMarkup(input: {percent: 12.5}) { percent clientId } }')
    expect(firm.setMarkup).toEqual({ percent: 12.5, clientId: null })
    const vb = ((await chat(b.api_key!)) as unknown as { viapi: { markup_usd: number } }).viapi
    expect(vb.markup_usd).toBe(0.000001575)
    expect(await failCode(url, a.admin_token, 'mutation { setMarkup(input: {percent: 1.234}) { percent } }')).toMatchObject({ field: 'percent' })
  })

  test('models: context window, ZDR flag and prices; filter by zdr', async () => {
    const r = await ok<{ models: { id: string; provider: string; contextWindow: number; zdr: boolean; inputPerMillionUsd: number; cachedInputPerMillionUsd: number; outputPerMillionUsd: number }[] }>(
      url,
      a.admin_token,
      '{ models(zdr: true) { id provider contextWindow zdr inputPerMillionUsd cachedInputPerMillionUsd outputPerMillionUsd } }',
    )
    expect(r.models.find((m) => m.id === 'gpt-4o-mini')).toEqual({ id: 'gpt-4o-mini', provider: 'openai', contextWindow: 128000, zdr: true, inputPerMillionUsd: 0.15, cachedInputPerMillionUsd: 0.075, outputPerMillionUsd: 0.6 })
    expect(r.models.every((m) => m.zdr)).toBe(true)
  })

  test('creditBalance: zero and no auto-reload for a client that never bought credits', async () => {
    const r = await ok(url, a.admin_token, `query($c: ID!) { creditBalance(clientId: $c) { clientId balanceCents cardOnFile autoReload { enabled thresholdCents amountCents } } }`, { c: clientId })
    expect(r).toEqual({ creditBalance: { clientId, balanceCents: 0, cardOnFile: false, autoReload: { enabled: false, thresholdCents: null, amountCents: null } } })
  })

  test('auditLog: every mutation with actor, action, object and before/after; another firm sees none of it', async () => {
    const r = await ok<{ auditLog: { edges: { node: { action: string; actorEmail: string; objectId: string; before: unknown; after: unknown } }[] } }>(
      url,
      a.admin_token,
      '{ auditLog(first: 100) { edges { node { action actorEmail objectType objectId before after createdAt } } } }',
    )
    const actions = r.auditLog.edges.map((e) => e.node.action)
    for (const m of ['createClient', 'updateClient', 'setClientRateLimits', 'mintGuardrailedKey', 'revokeKey', 'updateKey', 'createRoute', 'deleteRoute', 'setSpendingLimit', 'setMarkup']) expect(actions).toContain(m)
    const update = r.auditLog.edges.find((e) => e.node.action === 'updateClient')!.node
    expect(update).toMatchObject({ actorEmail: 'dawn.le@rennlabs.com', objectId: clientId, before: { name: 'Acme Corp' }, after: { name: 'Acme Corporation' } })
    const theirs = await ok<{ auditLog: { edges: { node: { objectId: string } }[] } }>(url, b.admin_token, '{ auditLog(first: 100) { edges { node { objectId } } } }')
    expect(theirs.auditLog.edges.some((e) => e.node.objectId === clientId)).toBe(false)
  })

  test('lists are Relay connections with cursors', async () => {
    for (let i = 0; i < 3; i++) await ok(url, a.admin_token, `mutation { createClient(input: {name: "Page ${i}", slug: "page-${i}"}) { id } }`)
    const first = await ok<{ clients: { edges: { cursor: string; node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }>(url, a.admin_token, '{ clients(first: 2) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }')
    expect(first.clients.edges).toHaveLength(2)
    expect(first.clients.pageInfo.hasNextPage).toBe(true)
    const next = await ok<{ clients: { edges: { node: { id: string } }[] } }>(url, a.admin_token, `query($after: String) { clients(first: 100, after: $after) { edges { node { id } } } }`, { after: first.clients.pageInfo.endCursor })
    const all = [...first.clients.edges.map((e) => e.node.id), ...next.clients.edges.map((e) => e.node.id)]
    expect(new Set(all).size).toBe(all.length)
    expect(all.length).toBeGreaterThanOrEqual(5)
    expect(await failCode(url, a.admin_token, '{ clients(first: 101) { edges { node { id } } } }')).toMatchObject({ field: 'first' })
  })
})

describe('tenancy', () => {
  test('every id-taking operation refuses another firm’s ids with NOT_FOUND', async () => {
    const [bKey] = await conn.sql<{ id: string }[]>`select id from api_keys where client_id = ${b.client_id!}`
    const [bRoute] = await conn.sql<{ id: string }[]>`select id from routes where client_id = ${b.client_id!}`
    const vars = { c: b.client_id, k: bKey!.id, r: bRoute!.id }
    const ops = [
      'query($c: ID!) { client(id: $c) { id } }',
      'query($c: ID!) { keys(clientId: $c) { edges { node { id } } } }',
      'query($c: ID!) { routes(clientId: $c) { edges { node { id } } } }',
      'query($c: ID!) { spendingLimit(clientId: $c) { clientId } }',
      'query($c: ID!) { usage(clientId: $c) { requests } }',
      'query($c: ID!) { creditBalance(clientId: $c) { balanceCents } }',
      'mutation($c: ID!) { updateClient(id: $c, input: {name: "pwned"}) { id } }',
      'mutation($c: ID!) { setClientRateLimits(input: {clientId: $c, rpm: 1}) { id } }',
      'mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c}) { secret } }',
      'mutation($k: ID!) { updateKey(id: $k, input: {label: "pwned"}) { id } }',
      'mutation($k: ID!) { revokeKey(id: $k, confirm: true) { id } }',
      'mutation($k: ID!) { revokeKey(id: $k) { id } }',
      'mutation($c: ID!) { createRoute(input: {clientId: $c, alias: "x", target: "openai:gpt-4o"}) { id } }',
      'mutation($r: ID!) { deleteRoute(id: $r) { id } }',
      'mutation($c: ID!) { setSpendingLimit(input: {clientId: $c, monthlyLimitUsd: 1}) { clientId } }',
      'mutation($c: ID!) { setMarkup(input: {clientId: $c, percent: 99}) { percent } }',
      'query { firm(id: "' + b.firm_id + '") { id } }',
    ]
    for (const op of ops) {
      const used = Object.fromEntries(Object.entries(vars).filter(([k]) => op.includes(`$${k}`)))
      const r = await failCode(url, a.admin_token, op, used)
      expect({ op, code: r.code }).toEqual({ op, code: 'NOT_FOUND' })
      expect(r.message).not.toContain(b.client_id!)
    }
    // nothing changed on B's side
    const [key] = await conn.sql<{ status: string; label: string }[]>`select status, label from api_keys where id = ${bKey!.id}`
    expect(key).toEqual({ status: 'active', label: 'demo' })
    expect((await chat(b.api_key!)).choices.length).toBe(1)
  })

  test('platform admins see every firm and must name the firm they create in', async () => {
    const r = await ok<{ client: { id: string } }>(url, platform, `query($c: ID!) { client(id: $c) { id } }`, { c: b.client_id })
    expect(r.client.id).toBe(b.client_id!)
    const firms = await ok<{ firms: { edges: { node: { id: string } }[] } }>(url, platform, '{ firms(first: 100) { edges { node { id } } } }')
    expect(firms.firms.edges.map((e) => e.node.id)).toEqual(expect.arrayContaining([a.firm_id, b.firm_id]))
    expect(await failCode(url, platform, 'mutation { createClient(input: {name: "P", slug: "p"}) { id } }')).toMatchObject({ field: 'firmId' })
    const c = await ok<{ createClient: { firm: { id: string } } }>(url, platform, `mutation($f: ID!) { createClient(input: {name: "P", slug: "p", firmId: $f}) { firm { id } } }`, { f: b.firm_id })
    expect(c.createClient.firm.id).toBe(b.firm_id)
    const mine = await ok<{ firms: { edges: { node: { id: string } }[] } }>(url, a.admin_token, '{ firms { edges { node { id } } } }')
    expect(mine.firms.edges.map((e) => e.node.id)).toEqual([a.firm_id])
  })
})

describe('platform admin across firms', () => {
  test('reads and changes any firm’s objects', async () => {
    const c = a.client_id!
    const reads = [
      ['query($c: ID!) { keys(clientId: $c) { edges { node { id } } } }', (d: Record<string, unknown>) => (d.keys as { edges: unknown[] }).edges.length > 0],
      ['query($c: ID!) { routes(clientId: $c) { edges { node { alias } } } }', (d: Record<string, unknown>) => (d.routes as { edges: unknown[] }).edges.length > 0],
      ['query($c: ID!) { usage(clientId: $c) { requests } }', (d: Record<string, unknown>) => (d.usage as { requests: number }).requests > 0],
      ['query($c: ID!) { creditBalance(clientId: $c) { balanceCents } }', (d: Record<string, unknown>) => d.creditBalance !== null],
      ['query($c: ID!) { spendingLimit(clientId: $c) { clientId } }', () => true],
      ['mutation($c: ID!) { setSpendingLimit(input: {clientId: $c, monthlyLimitUsd: 50}) { monthlyLimitUsd } }', (d: Record<string, unknown>) => (d.setSpendingLimit as { monthlyLimitUsd: number }).monthlyLimitUsd === 50],
      ['mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c, label: "ops"}) { key { label } } }', (d: Record<string, unknown>) => (d.mintGuardrailedKey as { key: { label: string } }).key.label === 'ops'],
      ['mutation($c: ID!) { setClientRateLimits(input: {clientId: $c, rpm: 600}) { rpm } }', (d: Record<string, unknown>) => (d.setClientRateLimits as { rpm: number }).rpm === 600],
    ] as const
    for (const [op, check] of reads) {
      const d = await ok<Record<string, unknown>>(url, platform, op, { c })
      expect({ op, ok: check(d) }).toEqual({ op, ok: true })
    }
    const audit = await ok<{ auditLog: { edges: { node: { actorEmail: string; firmId: string } }[] } }>(url, platform, '{ auditLog(first: 100) { edges { node { actorEmail firmId } } } }')
    expect(audit.auditLog.edges.some((e) => e.node.actorEmail === 'root@viapi.test' && e.node.firmId === a.firm_id)).toBe(true)
    expect(new Set(audit.auditLog.edges.map((e) => e.node.firmId))).toEqual(new Set([a.firm_id, b.firm_id]))
  })
})

describe('query limits', () => {
  test('depth beyond 10 is rejected before anything runs', async () => {
    let sel = 'id'
    for (let i = 0; i < 11; i++) sel = `firm { ${sel} }`
    const r = await gql(url, a.admin_token, `{ me { ${sel} } }`)
    expect(r.data).toBeNull()
    expect(r.errors?.map((e) => e.message).join(' ')).toMatch(/depth limit of 10/i)
  })

  test('more than 30 aliases is rejected', async () => {
    const q = `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: me { id }`).join(' ')} }`
    const r = await gql(url, a.admin_token, q)
    expect(r.errors?.map((e) => e.message).join(' ')).toMatch(/aliases/i)
    const fine = await gql(url, a.admin_token, `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: me { id }`).join(' ')} }`)
    expect(fine.errors).toBeUndefined()
  })

  test('batches of more than 10 operations are refused; 10 are served', async () => {
    const post = (n: number) =>
      fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${a.admin_token}` },
        body: JSON.stringify(Array.from({ length: n }, () => ({ query: '{ me { id } }' }))),
      })
    const ten = await post(10)
    expect(ten.status).toBe(200)
    expect((await ten.json()) as unknown[]).toHaveLength(10)
    const eleven = await post(11)
    expect(eleven.status).toBeGreaterThanOrEqual(400)
    expect(JSON.stringify(await eleven.json())).toMatch(/[Bb]atch/)
  })

  test('unexpected errors are masked: no SQL, no stack', async () => {
    const r = await gql(url, a.admin_token, 'query($c: ID!) { client(id: $c) { id } }', { c: "x' or 1=1 --" })
    expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
    expect(JSON.stringify(r)).not.toMatch(/select|stack|postgres/i)
  })
})

describe('client REST and CSV export', () => {
  let fresh: { client: string; key: string }

  beforeAll(async () => {
    const c = await ok<{ createClient: { id: string } }>(url, a.admin_token, 'mutation { createClient(input: {name: "=HYPERLINK(\\"evil\\"), Inc.\\nLine", slug: "csv-client"}) { id } }')
    await ok(url, a.admin_token, `mutation($c: ID!) { createRoute(input: {clientId: $c, alias: "default", target: "openai:gpt-4o-mini"}) { id } }`, { c: c.createClient.id })
    const k = await ok<{ mintGuardrailedKey: { secret: string } }>(url, a.admin_token, `mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c}) { secret } }`, { c: c.createClient.id })
    fresh = { client: c.createClient.id, key: k.mintGuardrailedKey.secret }
    for (let i = 0; i < 3; i++) await chat(fresh.key)
    upstream.scenario = { kind: 'status', status: 500 }
    await chat(fresh.key).catch(() => null) // an upstream failure is still a usage event
    upstream.scenario = { kind: 'ok' }
    // 3 answered, 1 failed after a retry: its failed first attempt is an event of its own (nothing billed)
    await until(async () => (await conn.sql`select 1 from usage_events where client_id = ${fresh.client}`).length === 5, 5_000, 'usage events')
  })

  test('GET /v1/dashboard/client/me/usage: this month, reconciled with the events', async () => {
    const res = await fetch(`${url}/v1/dashboard/client/me/usage`, { headers: { 'x-viapi-key': fresh.key } })
    expect(res.status).toBe(200)
    const u = (await res.json()) as Record<string, unknown>
    const now = new Date()
    const month = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`
    expect(u).toMatchObject({ client_id: fresh.client, requests: 4, prompt_tokens: 36, completion_tokens: 54, total_tokens: 90, cost_usd: 0.0000378, markup_usd: 0, billed_usd: 0.0000378 })
    expect(String(u.from)).toBe(`${month}-01`)
    expect(u.by_model).toEqual([{ model: 'gpt-4o-mini', requests: 4, prompt_tokens: 36, completion_tokens: 54, total_tokens: 90, cost_usd: 0.0000378, markup_usd: 0, billed_usd: 0.0000378 }])
    expect((u.by_day as { date: string; requests: number }[]).map((d) => d.requests)).toEqual([4])
    const gqlUsage = await ok<{ usage: { requests: number; billedUsd: number; byKey: { keyPrefix: string; requests: number }[] } }>(url, a.admin_token, `query($c: ID!) { usage(clientId: $c) { requests billedUsd byKey { keyPrefix requests } } }`, { c: fresh.client })
    expect(gqlUsage.usage).toEqual({ requests: 4, billedUsd: 0.0000378, byKey: [{ keyPrefix: fresh.key.slice(0, 12), requests: 4 }] })
  })

  test('a window with no traffic is all zeros; bad dates are a clear 400', async () => {
    const empty = (await (await fetch(`${url}/v1/dashboard/client/me/usage?from=2020-01-01&to=2020-01-31`, { headers: { 'x-viapi-key': fresh.key } })).json()) as Record<string, unknown>
    expect(empty).toMatchObject({ from: '2020-01-01', to: '2020-01-31', requests: 0, billed_usd: 0, by_model: [], by_day: [] })
    const bad = await fetch(`${url}/v1/dashboard/client/me/usage?from=yesterday`, { headers: { 'x-viapi-key': fresh.key } })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('from')
    expect((await fetch(`${url}/v1/dashboard/client/me/usage`)).status).toBe(401)
  })

  test('CSV with the client key: its rows only, exact header, escaped, totals reconcile to the nano', async () => {
    const res = await fetch(`${url}/v1/export/usage`, { headers: { authorization: `Bearer ${fresh.key}` } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/csv')
    const text = await res.text()
    const lines = parseCsv(text)
    expect(lines[0]!.join(',')).toBe('time,request_id,client_id,client_name,key_prefix,model_requested,model_used,provider,prompt_tokens,completion_tokens,cached_tokens,cost_usd,markup_usd,billed_usd,status,stream')
    const rows = lines.slice(1)
    expect(rows).toHaveLength(5)
    expect(rows.every((r) => r[2] === fresh.client)).toBe(true)
    expect(rows[0]![3]).toBe(`'=HYPERLINK("evil"), Inc.\nLine`)
    expect(rows.map((r) => r[14]).sort()).toEqual(['200', '200', '200', '502', '502'])
    expect(rows.filter((r) => r[1]!.endsWith('-a1'))).toHaveLength(1)
    const sumNano = rows.reduce((s, r) => s + BigInt(r[13]!.replace('.', '')), 0n)
    const [db] = await conn.sql<{ billed: bigint }[]>`select sum(billed_nano)::bigint as billed from usage_events where client_id = ${fresh.client}`
    expect(sumNano).toBe(db!.billed)
  })

  test('CSV with a client key in X-Viapi-Key and an admin token as bearer: read as the proxy reads it, the client key wins', async () => {
    const res = await fetch(`${url}/v1/export/usage`, { headers: { 'x-viapi-key': fresh.key, authorization: `Bearer ${a.admin_token}` } })
    expect(res.status).toBe(200)
    const rows = parseCsv(await res.text()).slice(1)
    expect(rows).toHaveLength(5)
    expect(rows.every((r) => r[2] === fresh.client)).toBe(true)
  })

  test('CSV with an admin token: the firm’s clients, filterable; another firm’s client is not found', async () => {
    const all = parseCsv(await (await fetch(`${url}/v1/export/usage`, { headers: { authorization: `Bearer ${a.admin_token}` } })).text()).slice(1)
    expect(new Set(all.map((r) => r[2]))).toContain(fresh.client)
    const [count] = await conn.sql<{ n: bigint }[]>`select count(*)::bigint as n from usage_events where firm_id = ${a.firm_id}`
    expect(BigInt(all.length)).toBe(count!.n)
    const one = parseCsv(await (await fetch(`${url}/v1/export/usage?client_id=${fresh.client}`, { headers: { authorization: `Bearer ${a.admin_token}` } })).text()).slice(1)
    expect(one).toHaveLength(5)
    const cross = await fetch(`${url}/v1/export/usage?client_id=${fresh.client}`, { headers: { authorization: `Bearer ${b.admin_token}` } })
    expect(cross.status).toBe(404)
    const none = await fetch(`${url}/v1/export/usage`)
    expect(none.status).toBe(401)
  })

  test('the OpenAPI document covers every REST endpoint, and Swagger UI is served with its assets', async () => {
    const spec = (await (await fetch(`${url}/docs/json`)).json()) as { openapi: string; paths: Record<string, unknown> }
    expect(spec.openapi).toMatch(/^3\./)
    for (const p of ['/v1/proxy/chat/completions', '/v1/proxy/models', '/v1/dashboard/client/me/usage', '/v1/export/usage', '/v1/auth/tokens']) expect(Object.keys(spec.paths)).toContain(p)
    const ui = await fetch(`${url}/docs`)
    expect(ui.status).toBe(200)
    const html = await ui.text()
    expect(html).toContain('/docs/assets/swagger-ui-bundle.js')
    expect((await fetch(`${url}/docs/assets/swagger-ui-bundle.js`)).status).toBe(200)
    expect((await fetch(`${url}/docs/assets/..%2Fpackage.json`)).status).toBe(404)
  })
})

/** RFC 4180 parser for the assertions (quoted fields, doubled quotes, CRLF rows). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (ch === '"') quoted = false
      else cell += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      row.push(cell)
      cell = ''
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
      i++
    } else cell += ch
  }
  return rows
}
