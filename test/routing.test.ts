/** Routing through the real gateway: retries honouring Retry-After, fallbacks, no re-send after the first byte, circuit breakers, one usage event per attempt. */
import { afterAll, beforeAll, beforeEach, expect, test } from 'bun:test'
import OpenAI from 'openai'
import type { Database } from '../src/shared/db.ts'
import { bootstrap, type BootstrapResult } from '../src/tenancy/bootstrap.ts'
import { createRoute } from '../src/tenancy/routes.ts'
import { readyDb, startGateway, testDb, until, type GatewayProcess, type TestDb, viapi } from './helpers/gateway.ts'
import { MockUpstream, REPLY, REPLY_WORDS } from './helpers/mock-upstream.ts'
import { ok } from './helpers/admin.ts'

const upstream = new MockUpstream()
let db: TestDb
let conn: Database
let gw: GatewayProcess
let fx: BootstrapResult
let client: OpenAI

beforeAll(async () => {
  upstream.start()
  db = await testDb('postgres')
  conn = await readyDb(db)
  fx = await bootstrap(conn.sql, { firmName: 'Routing', email: 'route@x.test', demo: true, demoTarget: 'openai:gpt-4o-mini' })
  await createRoute(conn.sql, { firmId: fx.firm_id, clientId: fx.client_id!, alias: 'resilient', target: 'openai:gpt-4o', fallbacks: ['mock:mock-1'] })
  await conn.sql`update clients set rpm = 100000 where id = ${fx.client_id!}`
  gw = await startGateway({
    ...db.env,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: upstream.baseUrl,
    VIAPI_USAGE_FLUSH_MS: '50',
    VIAPI_RETRY_BASE_MS: '20',
    VIAPI_RETRY_MAX_WAIT_MS: '2000',
    VIAPI_BREAKER_THRESHOLD: '3',
    VIAPI_BREAKER_COOLDOWN_MS: '1500',
    VIAPI_UPSTREAM_TIMEOUT_MS: '800',
  })
  client = new OpenAI({ apiKey: fx.api_key, baseURL: `${gw.url}/v1/proxy`, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.stop()
  await conn?.close()
  await upstream.stop()
  await db?.drop()
})
beforeEach(() => upstream.reset())

const events = (requestId: string) =>
  until(async () => {
    const rows = await conn.sql<{ id: string; status: number; outcome: string; billed_nano: bigint; model_used: string }[]>`select id, status, outcome, billed_nano, model_used from usage_events where id like ${requestId + '%'} order by id`
    return rows.some((r) => r.id === requestId) ? [...rows] : null
  }, 5_000, 'usage events')

test('a 429 with Retry-After is waited out and retried on the same target; each attempt is a usage event, only the answer billed', async () => {
  upstream.queue = [{ kind: 'status', status: 429, retryAfter: '1' }]
  const t0 = Date.now()
  const { data, response } = await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }] }).withResponse()
  expect(Date.now() - t0).toBeGreaterThanOrEqual(950)
  expect(data.choices[0]!.message.content).toBe(REPLY)
  expect(upstream.requests).toHaveLength(2)
  const id = response.headers.get('x-viapi-request-id')!
  const rows = await events(id)
  expect(rows.map((r) => [r.id.replace(id, ''), r.status, r.outcome, r.billed_nano > 0n])).toEqual([
    ['', 200, 'ok', true],
    ['-a1', 429, 'upstream_rejected', false],
  ])
})

test('embeddings and images retry like chat: Retry-After waited out on the same target, a 5xx retried, each failed attempt its own event', async () => {
  upstream.queue = [{ kind: 'status', status: 429, retryAfter: '1' }]
  const t0 = Date.now()
  const e = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' })
  expect(Date.now() - t0).toBeGreaterThanOrEqual(950)
  expect(e.data).toHaveLength(1)
  expect(upstream.requests).toHaveLength(2)
  const eid = String(viapi(e).request_id)
  expect((await events(eid)).map((r) => [r.id.replace(eid, ''), r.status, r.outcome, r.billed_nano > 0n])).toEqual([
    ['', 200, 'ok', true],
    ['-a1', 429, 'upstream_rejected', false],
  ])

  upstream.reset()
  upstream.queue = [{ kind: 'status', status: 503 }]
  const img = await client.images.generate({ model: 'dall-e-3', prompt: 'a lighthouse' })
  expect(img.data).toHaveLength(1)
  expect(upstream.requests).toHaveLength(2)
  const iid = String(viapi(img).request_id)
  expect((await events(iid)).map((r) => [r.id.replace(iid, ''), r.status, r.outcome])).toEqual([
    ['', 200, 'ok'],
    ['-a1', 502, 'upstream_error'],
  ])
})

test('an embeddings 429 that outlasts the retries is the caller’s 429, with the upstream’s message', async () => {
  upstream.scenario = { kind: 'status', status: 429, message: 'Slow down, please.' }
  const err = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }).catch((x: unknown) => x)
  expect(err).toBeInstanceOf(OpenAI.RateLimitError)
  expect((err as InstanceType<typeof OpenAI.RateLimitError>).message).toContain('Slow down, please.')
  expect(upstream.requests).toHaveLength(2)
})

test('a Retry-After longer than VIAPI_RETRY_MAX_WAIT_MS fails over at once', async () => {
  upstream.scenario = { kind: 'status', status: 429, retryAfter: '30' }
  const t0 = Date.now()
  const r = await client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'x' }] })
  expect(Date.now() - t0).toBeLessThan(1000)
  expect(viapi(r)).toMatchObject({ provider: 'mock' })
  expect(upstream.requests).toHaveLength(1)
})

test('a 400 is the caller’s: no retry, no fallback', async () => {
  upstream.scenario = { kind: 'status', status: 400, message: 'bad temperature' }
  const err = await client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(OpenAI.BadRequestError)
  expect(upstream.requests).toHaveLength(1)
})

test('after the first byte nothing is re-sent: a broken stream ends with an error even when a fallback exists', async () => {
  upstream.scenario = { kind: 'break-stream', after: 3 }
  const stream = await client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'x' }], stream: true })
  let text = ''
  const err = await (async () => {
    for await (const c of stream) text += c.choices[0]?.delta.content ?? ''
  })().catch((e: unknown) => e)
  expect(err).toBeInstanceOf(OpenAI.APIError)
  expect(text).toBe(REPLY_WORDS.slice(0, 2).join(''))
  expect(upstream.requests).toHaveLength(1)
})

test('a timeout before the first byte fails over to the next target', async () => {
  upstream.queue = [{ kind: 'delay', ms: 1500 }]
  const r = await client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'x' }] })
  expect(viapi(r)).toMatchObject({ provider: 'mock' })
})

test('a reset before the first byte is retried, then fails over', async () => {
  upstream.scenario = { kind: 'break-stream', after: 0 }
  const stream = await client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'Hello there' }], stream: true })
  let text = ''
  for await (const c of stream) text += c.choices[0]?.delta.content ?? ''
  expect(text).toContain('Hello there')
  expect(upstream.requests).toHaveLength(2)
})

test('a failing target opens its breaker (skipped), then a probe after the cool-down closes it', async () => {
  // Start from a closed breaker: earlier tests' failures may have opened it.
  await Bun.sleep(1600)
  await client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'x' }] })
  upstream.reset()
  upstream.scenario = { kind: 'status', status: 500 }
  const first = await client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'x' }] })
  expect(viapi(first)).toMatchObject({ provider: 'mock' })
  const second = await client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'x' }] })
  expect(viapi(second)).toMatchObject({ provider: 'mock' })
  const tried = upstream.requests.length
  expect(tried).toBe(3) // 2 tries, then 1 more failure opens it
  const skipped = await client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'x' }] })
  expect(viapi(skipped)).toMatchObject({ provider: 'mock' })
  expect(upstream.requests).toHaveLength(tried)
  upstream.scenario = { kind: 'ok' }
  await Bun.sleep(1600)
  const probe = await client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'x' }] })
  expect(viapi(probe)).toMatchObject({ provider: 'openai', model_used: 'gpt-4o' })
  const after = await client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'x' }] })
  expect(viapi(after)).toMatchObject({ provider: 'openai' })
})

test('firm-wide routes apply to every client without its own alias; weights split traffic; firm prices bill', async () => {
  const q = (query: string, variables: Record<string, unknown> = {}) => ok(gw.url, fx.admin_token, query, variables)
  await q('mutation { createRoute(input: {alias: "house", target: "mock:mock-1"}) { id } }')
  const firmWide = await ok<{ routes: { edges: { node: { alias: string } }[] } }>(gw.url, fx.admin_token, '{ routes { edges { node { alias } } } }')
  expect(firmWide.routes.edges.map((e) => e.node.alias)).toEqual(['house'])
  const house = await client.chat.completions.create({ model: 'house', messages: [{ role: 'user', content: 'x' }] })
  expect(viapi(house)).toMatchObject({ provider: 'mock' })
  // weights [0, 1]: the fallback takes all the traffic, the primary stays as its fallback
  await q('mutation($c: ID!) { createRoute(input: {clientId: $c, alias: "split", target: "openai:gpt-4o", fallbacks: ["mock:mock-1"], weights: [0, 1]}) { weights } }', { c: fx.client_id })
  for (let i = 0; i < 3; i++) expect(viapi(await client.chat.completions.create({ model: 'split', messages: [{ role: 'user', content: 'x' }] }))).toMatchObject({ provider: 'mock' })
  const bad = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${fx.admin_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ query: 'mutation($c: ID!) { createRoute(input: {clientId: $c, alias: "w", target: "openai:gpt-4o", weights: [1, 2]}) { id } }', variables: { c: fx.client_id } }) })
  expect(JSON.stringify(await bad.json())).toContain('"field":"weights"')
  // the firm's own price for gpt-4o-mini: $1 in, $2 out per million → 12 × 1,000 + 18 × 2,000 = 48,000 nano-dollars
  await q('mutation { setModelPrice(input: {modelId: "gpt-4o-mini", inputPerMillionUsd: 1, outputPerMillionUsd: 2}) { modelId } }')
  expect(viapi(await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }] }))).toMatchObject({ cost_usd: 0.000048 })
  await q('mutation { deleteModelPrice(modelId: "gpt-4o-mini") }')
  expect(viapi(await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }] }))).toMatchObject({ cost_usd: 0.0000126 })
})

test('an upstream answer over VIAPI_UPSTREAM_BODY_LIMIT_BYTES is refused (compressed or not), and the fallback answers', async () => {
  const small = await startGateway({ ...db.env, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.baseUrl, VIAPI_USAGE_FLUSH_MS: '50', VIAPI_UPSTREAM_BODY_LIMIT_BYTES: '65536' })
  try {
    const c = new OpenAI({ apiKey: fx.api_key, baseURL: `${small.url}/v1/proxy`, maxRetries: 0 })
    upstream.scenario = { kind: 'huge', bytes: 200_000, gzip: true }
    const err = (await c.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
    expect(err).toBeInstanceOf(OpenAI.APIError)
    expect(err.status).toBe(502)
    expect(err.code).toBe('upstream_response_too_large')
    // Within the limit, the same upstream answers as ever.
    upstream.scenario = { kind: 'huge', bytes: 30_000 }
    expect((await c.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }] })).choices[0]!.message.content).toHaveLength(30_000)
    // Too large on the primary: the fallback serves, and the refused attempt is its own usage event.
    upstream.scenario = { kind: 'huge', bytes: 200_000 }
    const { data, response } = await c.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'x' }] }).withResponse()
    expect(data.model).toBe('mock-1')
    const rows = await events(response.headers.get('x-viapi-request-id')!)
    expect(rows.map((r) => r.outcome)).toEqual(['ok', 'upstream_error'])
  } finally {
    await small.stop()
  }
})
