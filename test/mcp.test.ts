/**
 * The MCP server with the official SDK client: tools over HTTP with a PAT, the full OAuth sign-in flow, refused
 * tokens and accounts, and the stdio server spawned as `viapi mcp`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { SignJWT } from 'jose'
import { join } from 'node:path'
import type { Database } from '../src/shared/db.ts'
import { bootstrap, type BootstrapResult } from '../src/tenancy/bootstrap.ts'
import { mintAccessToken } from '../src/tenancy/tokens.ts'
import { createUser, findUserByEmail, setPassword } from '../src/tenancy/users.ts'
import { readyDb, startGateway, testDb, type GatewayProcess, type TestDb } from './helpers/gateway.ts'

const PASSWORD = 'correct horse battery staple'
let db: TestDb
let conn: Database
let gw: GatewayProcess
let a: BootstrapResult
let b: BootstrapResult

beforeAll(async () => {
  db = await testDb('postgres')
  conn = await readyDb(db)
  a = await bootstrap(conn.sql, { firmName: 'Renn Labs', email: 'dawn.le@rennlabs.com', demo: true, demoTarget: 'mock:mock-1' })
  b = await bootstrap(conn.sql, { firmName: 'Other', email: 'ops@other.test', demo: true, demoTarget: 'mock:mock-1' })
  await setPassword(conn.sql, (await findUserByEmail(conn.sql, 'dawn.le@rennlabs.com'))!.id, PASSWORD)
  const root = await createUser(conn.sql, { email: 'root@viapi.test', role: 'platform_admin', firmId: null })
  await setPassword(conn.sql, root.id, PASSWORD)
  gw = await startGateway({ ...db.env })
})
afterAll(async () => {
  await gw?.stop()
  await conn?.close()
  await db?.drop()
})

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'test', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
  return client
}

type ToolResult = { isError?: boolean; structuredContent?: Record<string, unknown>; content: { type: string; text?: string }[] }
const call = async (c: Client, name: string, args: Record<string, unknown> = {}) => (await c.callTool({ name, arguments: args })) as ToolResult
const text = (r: ToolResult) => r.content.map((x) => x.text ?? '').join('\n')

describe('tools over HTTP with a personal access token', () => {
  let c: Client
  beforeAll(async () => {
    c = await connect(a.admin_token)
  })
  afterAll(async () => {
    await c?.close()
  })

  test('the tool list and its schemas (snapshot)', async () => {
    const { tools } = await c.listTools()
    const summary = tools
      .map((t) => ({ name: t.name, input: Object.keys((t.inputSchema as { properties?: object }).properties ?? {}).sort(), output: Object.keys((t.outputSchema as { properties?: object } | undefined)?.properties ?? {}).sort(), annotations: t.annotations }))
      .sort((x, y) => x.name.localeCompare(y.name))
    expect(summary.map((t) => t.name)).toEqual(
      ['create_billing_portal_url', 'create_client', 'create_route', 'get_client', 'get_credit_balance', 'get_spending_limit', 'get_usage', 'list_clients', 'list_keys', 'list_models', 'list_routes', 'list_video_jobs', 'mint_guardrailed_key', 'revoke_key', 'set_spending_limit', 'update_client', 'update_key'],
    )
    expect(summary.find((t) => t.name === 'revoke_key')!.annotations).toMatchObject({ destructiveHint: true })
    expect(tools.every((t) => (t.description ?? '').length > 40)).toBe(true)
    expect(summary).toMatchSnapshot()
  })

  test('create a client, mint a clamped key, list keys without secrets, revoke only with confirm', async () => {
    const created = await call(c, 'create_client', { name: 'Acme Corp', slug: 'acme-corp', email: 'ops@acme.com' })
    expect(created.isError).toBeFalsy()
    const clientId = String(created.structuredContent!.id)
    expect(created.structuredContent).toMatchObject({ name: 'Acme Corp', slug: 'acme-corp', billing_mode: 'postpaid' })
    const minted = await call(c, 'mint_guardrailed_key', { client_id: clientId, monthly_cap_usd: 1000, allowed_models: ['dall-e-3', 'gpt-4o-mini'] })
    const secret = String(minted.structuredContent!.secret)
    expect(secret).toMatch(/^vi_live_/)
    expect(minted.structuredContent!.key).toMatchObject({ monthly_cap_usd: 500, cap_clamped: true, allowed_models: ['dall-e-3', 'gpt-4o-mini'], status: 'active', client_id: clientId })
    expect(text(minted)).toContain('clamped')
    const keys = await call(c, 'list_keys', { client_id: clientId })
    expect(JSON.stringify(keys)).not.toContain(secret)
    const keyId = String((keys.structuredContent!.keys as { id: string }[])[0]!.id)
    const dry = await call(c, 'revoke_key', { key_id: keyId })
    expect(dry.structuredContent).toMatchObject({ revoked: false, would_revoke: { id: keyId, status: 'active' } })
    const [still] = await conn.sql<{ status: string }[]>`select status from api_keys where id = ${keyId}`
    expect(still!.status).toBe('active')
    const done = await call(c, 'revoke_key', { key_id: keyId, confirm: true })
    expect(done.structuredContent).toMatchObject({ revoked: true, key: { status: 'revoked' } })
  })

  test('update_key changes guardrails (clamped) and names a bad argument', async () => {
    const keys = await call(c, 'list_keys', { client_id: a.client_id })
    const keyId = String((keys.structuredContent!.keys as { id: string }[])[0]!.id)
    const r = await call(c, 'update_key', { key_id: keyId, monthly_cap_usd: 750, enforcement: 'soft', rpm: 120, label: 'ops' })
    expect(r.structuredContent).toMatchObject({ id: keyId, monthly_cap_usd: 500, cap_clamped: true, enforcement: 'soft', rpm: 120, label: 'ops' })
    const bad = await call(c, 'update_key', { key_id: keyId, expires_at: '2001-01-01T00:00:00Z' })
    expect(bad.isError).toBe(true)
    expect(text(bad)).toContain('expires_at')
    const got = await call(c, 'get_client', { client_id: a.client_id })
    expect(got.structuredContent).toMatchObject({ id: a.client_id, slug: 'demo' })
  })

  test('stateless: behind a round-robin balancer two replicas serve one client in turn; every request is its own caller', async () => {
    const other = await startGateway({ ...db.env })
    let n = 0
    const seen = new Set<string>()
    const balancer = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(req) {
        const target = n++ % 2 === 0 ? gw.url : other.url
        seen.add(target)
        const url = new URL(req.url)
        return fetch(target + url.pathname + url.search, { method: req.method, headers: req.headers, body: req.method === 'POST' ? await req.text() : undefined })
      },
    })
    try {
      const client = new Client({ name: 'balanced', version: '1.0.0' })
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${balancer.port}/mcp`), { requestInit: { headers: { authorization: `Bearer ${a.admin_token}` } } }))
      for (let i = 0; i < 3; i++) expect((await call(client, 'get_client', { client_id: a.client_id })).structuredContent).toMatchObject({ id: a.client_id })
      expect(seen.size).toBe(2)
      await client.close()
      // No session to borrow: another firm's token acts as that firm, whatever came before it.
      const res = await fetch(`${gw.url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${b.admin_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get_client', arguments: { client_id: a.client_id } } }),
      })
      const body = (await res.json()) as { result: ToolResult }
      expect(body.result.isError).toBe(true)
      expect((await fetch(`${gw.url}/mcp`, { headers: { authorization: `Bearer ${a.admin_token}` } })).status).toBe(405)
    } finally {
      balancer.stop(true)
      await other.stop()
    }
  })

  test('limits, routes, usage, credit and models', async () => {
    const limit = await call(c, 'set_spending_limit', { client_id: a.client_id, monthly_limit_usd: 900 })
    expect(limit.structuredContent).toMatchObject({ monthly_limit_usd: 500, limit_clamped: true, alert_thresholds: [50, 80, 100], enforcement: 'hard' })
    expect((await call(c, 'get_spending_limit', { client_id: a.client_id })).structuredContent).toMatchObject({ spending_limit: { monthly_limit_usd: 500 } })
    const route = await call(c, 'create_route', { client_id: a.client_id, alias: 'smart', target: 'mock:mock-1' })
    expect(route.structuredContent).toMatchObject({ alias: 'smart', target: 'mock:mock-1', fallbacks: [] })
    expect(((await call(c, 'list_routes', { client_id: a.client_id })).structuredContent!.routes as { alias: string }[]).map((r) => r.alias).sort()).toEqual(['default', 'smart'])
    expect((await call(c, 'get_usage', { client_id: a.client_id })).structuredContent).toMatchObject({ client_id: a.client_id, requests: 0 })
    expect((await call(c, 'get_credit_balance', { client_id: a.client_id })).structuredContent).toMatchObject({ balance_cents: 0, card_on_file: false })
    const zdr = (await call(c, 'list_models', { zdr: true })).structuredContent!.models as { id: string; zdr: boolean }[]
    expect(zdr.length).toBeGreaterThan(3)
    expect(zdr.every((m) => m.zdr)).toBe(true)
    const sub = await fetch(`${gw.url}/v1/video/jobs`, { method: 'POST', headers: { 'X-Viapi-Key': a.api_key!, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock-video', prompt: 'waves', duration_seconds: 5 }) })
    const job = (await sub.json()) as { viapi_job_id: string }
    const jobs = (await call(c, 'list_video_jobs', { client_id: a.client_id })).structuredContent!.video_jobs as { id: string; model: string; duration_seconds: number }[]
    expect(jobs[0]).toMatchObject({ id: job.viapi_job_id, model: 'mock-video', duration_seconds: 5 })
    const upd = await call(c, 'update_client', { client_id: a.client_id, billing_mode: 'prepaid' })
    expect(upd.structuredContent).toMatchObject({ billing_mode: 'prepaid' })
  })

  test('bad arguments, other firms’ ids and missing Stripe are clear tool errors, never stack traces', async () => {
    const bad = await call(c, 'create_client', { name: 'X', slug: 'Bad Slug' })
    expect(bad.isError).toBe(true)
    expect(text(bad)).toContain('slug')
    const wrongType = await call(c, 'set_spending_limit', { client_id: a.client_id, monthly_limit_usd: -5 })
    expect(wrongType.isError).toBe(true)
    expect(text(wrongType)).toContain('monthly_limit_usd')
    for (const [tool, args] of [
      ['get_client', { client_id: b.client_id }],
      ['list_keys', { client_id: b.client_id }],
      ['mint_guardrailed_key', { client_id: b.client_id }],
      ['set_spending_limit', { client_id: b.client_id, monthly_limit_usd: 10 }],
      ['get_usage', { client_id: b.client_id }],
    ] as const) {
      const r = await call(c, tool, args)
      expect({ tool, isError: r.isError }).toEqual({ tool, isError: true })
      expect(text(r)).toContain('Not found')
      expect(text(r)).not.toMatch(/at .*\.ts:\d+|select |stack/i)
    }
    const stripe = await call(c, 'create_billing_portal_url', { client_id: a.client_id })
    expect(stripe.isError).toBe(true)
    expect(text(stripe)).toContain('Stripe is not configured')
  })
})

describe('sign-in and tokens', () => {
  test('no token: 401 with the protected resource metadata', async () => {
    const res = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toContain(`resource_metadata="${gw.url}/.well-known/oauth-protected-resource/mcp"`)
    const meta = (await (await fetch(`${gw.url}/.well-known/oauth-protected-resource/mcp`)).json()) as { resource: string; authorization_servers: string[] }
    expect(meta).toMatchObject({ resource: `${gw.url}/mcp`, authorization_servers: [gw.url] })
  })

  async function authorize(email: string, password: string) {
    const as = (await (await fetch(`${gw.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, string | string[]>
    expect(as.code_challenge_methods_supported).toEqual(['S256'])
    const reg = await fetch(String(as.registration_endpoint), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'Claude Code', redirect_uris: ['http://localhost:33418/callback'] }) })
    expect(reg.status).toBe(201)
    const { client_id } = (await reg.json()) as { client_id: string }
    const verifier = 'v'.repeat(20) + crypto.randomUUID()
    const challenge = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))).toString('base64url')
    const q = new URLSearchParams({ response_type: 'code', client_id, redirect_uri: 'http://localhost:33418/callback', code_challenge: challenge, code_challenge_method: 'S256', state: 'xyz', resource: `${gw.url}/mcp` })
    const signInPage = await (await fetch(`${String(as.authorization_endpoint)}?${q}`)).text()
    expect(signInPage).toContain('name="email"')
    expect(signInPage).toContain('name="password"')
    const txn = /name="txn" value="([^"]+)"/.exec(signInPage)![1]!
    const signedIn = await fetch(String(as.authorization_endpoint), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ txn, email, password }) })
    return { signedIn, client_id, verifier, token_endpoint: String(as.token_endpoint) }
  }

  test('the full OAuth flow: discovery, registration, sign-in form, consent, PKCE token, tool call, refresh rotation', async () => {
    const { signedIn, client_id, token_endpoint } = await authorize('dawn.le@rennlabs.com', PASSWORD)
    expect(signedIn.status).toBe(200)
    const consent = await signedIn.text()
    expect(consent).toContain('name="decision" value="allow"')
    expect(consent).toContain('Claude Code')
    const txn = /name="txn" value="([^"]+)"/.exec(consent)![1]!
    const allowed = await fetch(`${gw.url}/oauth/consent`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ txn, decision: 'allow' }), redirect: 'manual' })
    expect(allowed.status).toBe(302)
    const back = new URL(allowed.headers.get('location')!)
    expect(back.searchParams.get('state')).toBe('xyz')
    const code = back.searchParams.get('code')!
    const exchange = (body: Record<string, string>) => fetch(token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) })
    expect((await exchange({ grant_type: 'authorization_code', code, client_id, redirect_uri: 'http://localhost:33418/callback', code_verifier: 'wrong'.repeat(10) })).status).toBe(400)
    // A failed verifier burns the code too: a stolen code cannot be retried.
    const second = await authorize('dawn.le@rennlabs.com', PASSWORD)
    const consent2 = await second.signedIn.text()
    const txn2 = /name="txn" value="([^"]+)"/.exec(consent2)![1]!
    const allowed2 = await fetch(`${gw.url}/oauth/consent`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ txn: txn2, decision: 'allow' }), redirect: 'manual' })
    const code2 = new URL(allowed2.headers.get('location')!).searchParams.get('code')!
    const tokRes = await fetch(second.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code: code2, client_id: second.client_id, redirect_uri: 'http://localhost:33418/callback', code_verifier: second.verifier, resource: `${gw.url}/mcp` }) })
    expect(tokRes.status).toBe(200)
    const tokens = (await tokRes.json()) as { access_token: string; refresh_token: string; token_type: string; expires_in: number }
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 900 })
    const client = await connect(tokens.access_token)
    const clients = await call(client, 'list_clients')
    expect((clients.structuredContent!.clients as { id: string }[]).map((x) => x.id)).toContain(a.client_id!)
    await client.close()
    const refreshed = (await (await fetch(second.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: second.client_id }) })).json()) as { access_token: string; refresh_token: string }
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token)
    const reused = await fetch(second.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: second.client_id }) })
    expect(reused.status).toBe(400)
  })

  test('deny sends the user back with access_denied; a wrong password shows the form again', async () => {
    const wrong = await authorize('dawn.le@rennlabs.com', 'not the password')
    expect(wrong.signedIn.status).toBe(401)
    expect(await wrong.signedIn.text()).toContain('Wrong email or password')
    const ok = await authorize('dawn.le@rennlabs.com', PASSWORD)
    const txn = /name="txn" value="([^"]+)"/.exec(await ok.signedIn.text())![1]!
    const denied = await fetch(`${gw.url}/oauth/consent`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ txn, decision: 'deny' }), redirect: 'manual' })
    expect(new URL(denied.headers.get('location')!).searchParams.get('error')).toBe('access_denied')
  })

  test('a platform admin is refused at sign-in, in words', async () => {
    const { signedIn } = await authorize('root@viapi.test', PASSWORD)
    expect(signedIn.status).toBe(403)
    expect(await signedIn.text()).toContain('Platform admin accounts cannot sign in here')
  })

  test('wrong-audience, expired and query-string tokens are refused', async () => {
    const [k] = await conn.sql<{ secret: string }[]>`select secret from oauth_keys where id = 'access-token'`
    const key = new TextEncoder().encode(k!.secret)
    const user = (await findUserByEmail(conn.sql, 'dawn.le@rennlabs.com'))!
    const sign = (aud: string, exp: string | number) => new SignJWT({ use: 'access' }).setProtectedHeader({ alg: 'HS256' }).setSubject(user.id).setAudience(aud).setExpirationTime(exp).sign(key)
    const post = (headers: Record<string, string>, query = '') =>
      fetch(`${gw.url}/mcp${query}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}' })
    const good = await sign(`${gw.url}/mcp`, '5m')
    expect((await post({ authorization: `Bearer ${good}` })).status).toBe(200)
    expect((await post({ authorization: `Bearer ${await sign('https://elsewhere.test/mcp', '5m')}` })).status).toBe(401)
    expect((await post({ authorization: `Bearer ${await sign(`${gw.url}/mcp`, Math.floor(Date.now() / 1000) - 10)}` })).status).toBe(401)
    const q = await post({}, `?access_token=${good}`)
    expect(q.status).toBe(401)
    expect(await q.text()).toContain('query string')
    expect((await post({ authorization: `Bearer ${a.api_key}` })).status).toBe(401)
  })
})

test('stdio: `viapi mcp` reaches the gateway with a PAT and prints only protocol on stdout', async () => {
  const root = (await findUserByEmail(conn.sql, 'ops@other.test'))!
  const { token } = await mintAccessToken(conn.sql, { userId: root.id, label: 'stdio' })
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(import.meta.dir, '..', 'src', 'cli.ts'), 'mcp'],
    env: { PATH: process.env.PATH ?? '', VIAPI_API_URL: gw.url, VIAPI_ADMIN_TOKEN: token, ...db.env },
    stderr: 'pipe',
  })
  const client = new Client({ name: 'stdio-test', version: '1.0.0' })
  await client.connect(transport)
  try {
    expect((await client.listTools()).tools).toHaveLength(17)
    const r = (await client.callTool({ name: 'list_clients', arguments: {} })) as ToolResult
    expect((r.structuredContent!.clients as { id: string }[]).map((c) => c.id)).toEqual([b.client_id!])
    const cross = (await client.callTool({ name: 'get_client', arguments: { client_id: a.client_id } })) as ToolResult
    expect(cross.isError).toBe(true)
  } finally {
    await client.close()
  }
})
