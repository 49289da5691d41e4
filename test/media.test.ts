/**
 * Image generation and cost estimates through the real gateway: the product docs' examples with the official
 * openai client and plain fetch, per-image and per-token billing against hand-computed prices, reservation before
 * dispatch, and estimates equal to the later bill.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import type { Database } from '../src/shared/db.ts'
import { bootstrap, type BootstrapResult } from '../src/tenancy/bootstrap.ts'
import { createRoute } from '../src/tenancy/routes.ts'
import { ok, prepaidClient } from './helpers/admin.ts'
import { readyDb, startGateway, testDb, until, type GatewayProcess, type TestDb, viapi } from './helpers/gateway.ts'
import { MockUpstream } from './helpers/mock-upstream.ts'

const openai = new MockUpstream()
const xai = new MockUpstream()
let db: TestDb
let conn: Database
let gw: GatewayProcess
let fx: BootstrapResult
let client: OpenAI

interface EventRow {
  endpoint: string
  model_used: string
  cost_nano: bigint
  markup_nano: bigint
  billed_nano: bigint
  prompt_tokens: number
  completion_tokens: number
}
const eventOf = (id: unknown) =>
  until(async () => (await conn.sql<EventRow[]>`select endpoint, model_used, cost_nano, markup_nano, billed_nano, prompt_tokens, completion_tokens from usage_events where id = ${String(id)}`)[0], 5000, 'usage event')

const estimate = async (body: Record<string, unknown>, key = fx.api_key!) => {
  const res = await fetch(`${gw.url}/v1/estimate`, { method: 'POST', headers: { 'X-Viapi-Key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

beforeAll(async () => {
  openai.start()
  xai.start()
  db = await testDb('postgres')
  conn = await readyDb(db)
  // No markup, as in the product docs' estimate example.
  fx = await bootstrap(conn.sql, { firmName: 'Media', email: 'media@x.test', demo: true, demoTarget: 'openai:gpt-4o', markupBps: 0 })
  await createRoute(conn.sql, { firmId: fx.firm_id, clientId: fx.client_id!, alias: 'grok-art', target: 'xai:grok-2-image' })
  await createRoute(conn.sql, { firmId: fx.firm_id, clientId: fx.client_id!, alias: 'art', target: 'openai:dall-e-3', fallbacks: ['xai:grok-2-image'] })
  await conn.sql`update clients set rpm = 100000 where id = ${fx.client_id!}`
  gw = await startGateway({ ...db.env, OPENAI_API_KEY: 'sk-openai-test', OPENAI_BASE_URL: openai.baseUrl, XAI_API_KEY: 'xai-test', XAI_BASE_URL: xai.baseUrl, VIAPI_USAGE_FLUSH_MS: '50' })
  client = new OpenAI({ apiKey: fx.api_key, baseURL: `${gw.url}/v1/proxy`, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.stop()
  await conn?.close()
  await openai.stop()
  await xai.stop()
  await db?.drop()
})

describe('images', () => {
  test("the docs' example: dall-e-3 hd 1024×1024 is $0.08, billed per image, with the viapi block", async () => {
    openai.reset()
    const response = await client.images.generate({ model: 'dall-e-3', prompt: 'A photorealistic sunset over the ocean', n: 1, size: '1024x1024', quality: 'hd' })
    expect(response.data![0]!.url).toBe('https://images.example.test/0.png')
    expect(viapi(response)).toMatchObject({ provider: 'openai', model_used: 'dall-e-3', cost_usd: 0.08, markup_usd: 0, billed_usd: 0.08 })
    const sent = openai.requests.at(-1)!
    expect(new URL(sent.url).pathname).toBe('/v1/images/generations')
    expect(sent.headers.authorization).toBe('Bearer sk-openai-test')
    expect(sent.body).toEqual({ model: 'dall-e-3', prompt: 'A photorealistic sunset over the ocean', n: 1, size: '1024x1024', quality: 'hd' })
    expect(await eventOf(viapi(response).request_id)).toMatchObject({ endpoint: 'images.generations', model_used: 'dall-e-3', cost_nano: 80_000_000n, billed_nano: 80_000_000n })
  })

  test('price by size and count: three dall-e-2 256×256 images are 3 × $0.016', async () => {
    const r = await client.images.generate({ model: 'dall-e-2', prompt: 'a cat', n: 3, size: '256x256' })
    expect(r.data).toHaveLength(3)
    expect(viapi(r)).toMatchObject({ cost_usd: 0.048 })
    expect((await eventOf(viapi(r).request_id)).cost_nano).toBe(48_000_000n)
  })

  test('gpt-image-1 bills its token usage: 20 × $5/M + 4,160 × $40/M', async () => {
    const r = await client.images.generate({ model: 'gpt-image-1', prompt: 'a lighthouse', size: '1024x1024', quality: 'medium' })
    // 100,000 + 166,400,000 nano-dollars
    expect(viapi(r)).toMatchObject({ cost_usd: 0.1665 })
    expect(await eventOf(viapi(r).request_id)).toMatchObject({ prompt_tokens: 20, completion_tokens: 4160, cost_nano: 166_500_000n })
  })

  test('another image provider through its adapter, by route alias, at its own price; and as a fallback', async () => {
    xai.reset()
    const r = await client.images.generate({ model: 'grok-art', prompt: 'a robot', n: 2 })
    expect(viapi(r)).toMatchObject({ provider: 'xai', model_used: 'grok-2-image-1212', cost_usd: 0.14 })
    expect(xai.requests.at(-1)!.headers.authorization).toBe('Bearer xai-test')
    expect(xai.requests.at(-1)!.body.model).toBe('grok-2-image-1212')

    openai.scenario = { kind: 'status', status: 503 }
    try {
      const f = await client.images.generate({ model: 'art', prompt: 'a boat' })
      expect(viapi(f)).toMatchObject({ provider: 'xai', cost_usd: 0.07 })
    } finally {
      openai.reset()
    }
  })

  test('bad input is refused before any upstream call, in OpenAI’s error shape', async () => {
    openai.reset()
    const cases: [Record<string, unknown>, number, string | null, string | null][] = [
      [{ model: 'dall-e-3' }, 400, 'missing_required_parameter', 'prompt'],
      [{ model: 'dall-e-3', prompt: 'x', n: 0 }, 400, 'invalid_value', 'n'],
      [{ model: 'dall-e-3', prompt: 'x', size: '640x480' }, 400, 'invalid_value', 'size'],
      [{ model: 'gpt-4o', prompt: 'x' }, 400, 'model_not_supported', 'model'],
      [{ model: 'no-such-model', prompt: 'x' }, 404, 'model_not_found', 'model'],
    ]
    for (const [body, status, code, param] of cases) {
      const res = await fetch(`${gw.url}/v1/proxy/images/generations`, { method: 'POST', headers: { authorization: `Bearer ${fx.api_key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
      expect({ body, status: res.status }).toEqual({ body, status })
      const e = ((await res.json()) as { error: { code: string | null; param: string | null } }).error
      expect({ code: e.code, param: e.param }).toEqual({ code, param })
    }
    expect(openai.requests).toHaveLength(0)
  })

  test('the key allowlist applies; an upstream 4xx passes through and bills nothing', async () => {
    const k = await ok<{ mintGuardrailedKey: { secret: string } }>(gw.url, fx.admin_token, 'mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c, allowedModels: ["dall-e-2"]}) { secret } }', { c: fx.client_id })
    const limited = new OpenAI({ apiKey: k.mintGuardrailedKey.secret, baseURL: `${gw.url}/v1/proxy`, maxRetries: 0 })
    const e = await limited.images.generate({ model: 'dall-e-3', prompt: 'x' }).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(OpenAI.PermissionDeniedError)

    openai.scenario = { kind: 'status', status: 400, message: 'Your request was rejected by the safety system.', code: 'content_policy_violation' }
    try {
      const r = await client.images.generate({ model: 'dall-e-3', prompt: 'x' }).catch((x: unknown) => x)
      expect(r).toBeInstanceOf(OpenAI.BadRequestError)
      expect((r as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('content_policy_violation')
    } finally {
      openai.reset()
    }
  })

  test('a prepaid client is refused when its credit cannot cover n × the image price; nothing reaches the upstream', async () => {
    const c = await prepaidClient(gw.url, fx.admin_token, 'thin', 10)
    const thin = new OpenAI({ apiKey: c.key, baseURL: `${gw.url}/v1/proxy`, maxRetries: 0 })
    openai.reset()
    // 10 cents covers two standard dall-e-3 images (8 cents) but not three (12 cents).
    const refused = await thin.images.generate({ model: 'dall-e-3', prompt: 'x', n: 3 }).catch((x: unknown) => x)
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError)
    expect((refused as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('insufficient_quota')
    expect((refused as Error).message).toContain('cannot cover this request ($0.12)')
    expect(openai.requests).toHaveLength(0)
    const r = await thin.images.generate({ model: 'dall-e-3', prompt: 'x', n: 2 })
    expect(viapi(r)).toMatchObject({ billed_usd: 0.08 })
  })
})

describe('estimates', () => {
  test("the docs' example: dall-e-3 hd is 8 cents, and the later bill is the same", async () => {
    const e = await estimate({ model: 'dall-e-3', n: 1, size: '1024x1024', quality: 'hd' })
    expect(e.status).toBe(200)
    expect(e.body).toMatchObject({ estimated_cost_cents: 8, provider: 'openai', model: 'dall-e-3', breakdown: { provider_cost_cents: 8, markup_cents: 0 } })
    const r = await client.images.generate({ model: 'dall-e-3', prompt: 'p', n: 1, size: '1024x1024', quality: 'hd' })
    expect(Number(viapi(r).billed_usd) * 100).toBe(e.body.estimated_cost_cents as number)
  })

  test('markup is broken out; cents are decimal, not rounded', async () => {
    const firm = await ok<{ createClient: { id: string } }>(gw.url, fx.admin_token, 'mutation { createClient(input: {name: "Marked", slug: "marked"}) { id } }')
    const id = firm.createClient.id
    await ok(gw.url, fx.admin_token, 'mutation($c: ID!) { setMarkup(input: {clientId: $c, percent: 12.5}) { percent } }', { c: id })
    await ok(gw.url, fx.admin_token, 'mutation($c: ID!) { createRoute(input: {clientId: $c, alias: "default", target: "openai:gpt-4o-mini"}) { id } }', { c: id })
    const k = await ok<{ mintGuardrailedKey: { secret: string } }>(gw.url, fx.admin_token, 'mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c}) { secret } }', { c: id })
    const key = k.mintGuardrailedKey.secret
    // dall-e-2 512×512: 1.8 cents, 12.5 % markup 0.225 cents
    expect((await estimate({ model: 'dall-e-2', size: '512x512' }, key)).body).toMatchObject({ estimated_cost_cents: 2.025, breakdown: { provider_cost_cents: 1.8, markup_cents: 0.225 } })
    // chat on the route "default" → gpt-4o-mini: "Hello!" is 9 prompt tokens as OpenAI counts a chat; with 100 output
    // tokens: 9 × $0.15/M + 100 × $0.60/M = 61,350 nano (0.006135 cents); markup 7,668.75 → 7,669 nano, half up
    const chat = await estimate({ model: 'default', messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 100 }, key)
    expect(chat.body).toEqual({
      estimated_cost_cents: 0.0069019,
      provider: 'openai',
      model: 'gpt-4o-mini',
      breakdown: { provider_cost_cents: 0.006135, markup_cents: 0.0007669 },
      assumptions: { prompt_tokens: 9, output_tokens: 100, output_tokens_from: 'max_tokens' },
    })
  })

  test('a chat estimate states its output assumption, and equals the bill when the output is what was assumed', async () => {
    const e = await estimate({ model: 'default', messages: [{ role: 'system', content: 'You are helpful.' }, { role: 'user', content: 'Hello!' }] })
    expect(e.body.assumptions).toEqual({ prompt_tokens: 17, output_tokens: 500, output_tokens_from: 'default' })
    // 17 × $2.50/M + 500 × $10/M on gpt-4o = 42,500 + 5,000,000 nano = 0.50425 cents
    expect(e.body.estimated_cost_cents).toBe(0.50425)
    // "Hello there, my friend" is 12 prompt tokens, as the mock upstream reports, and the output is capped at the 18
    // tokens it sends: the estimate is the bill.
    openai.reset()
    const ask = { model: 'default', messages: [{ role: 'user' as const, content: 'Hello there, my friend' }], max_tokens: 18 }
    const fixed = await estimate(ask)
    expect(fixed.body.assumptions).toEqual({ prompt_tokens: 12, output_tokens: 18, output_tokens_from: 'max_tokens' })
    const r = await client.chat.completions.create(ask)
    expect(r.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 18 })
    expect(Math.round(Number(viapi(r).billed_usd) * 1e9)).toBe(Math.round((fixed.body.estimated_cost_cents as number) * 1e7))
  })

  test('a huge prompt is counted approximately rather than holding the event loop, and says so', async () => {
    const text = 'word '.repeat(100_000)
    const e = await estimate({ model: 'default', messages: [{ role: 'user', content: text }], max_tokens: 1 })
    // 500,000 characters ÷ 4, plus framing for one message
    expect(e.body.assumptions).toEqual({ prompt_tokens: 125_007, output_tokens: 1, output_tokens_from: 'max_tokens', prompt_tokens_from: 'approximate' })
  })

  test('informational only: no usage event, no rate token; bad input and bad keys get OpenAI-shaped errors', async () => {
    const c = await ok<{ createClient: { id: string } }>(gw.url, fx.admin_token, 'mutation { createClient(input: {name: "Browse", slug: "browse"}) { id } }')
    const k = await ok<{ mintGuardrailedKey: { secret: string } }>(gw.url, fx.admin_token, 'mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c, rpm: 1}) { secret } }', { c: c.createClient.id })
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.url}/v1/estimate`, { method: 'POST', headers: { 'X-Viapi-Key': k.mintGuardrailedKey.secret, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dall-e-3' }) })
      expect(res.status).toBe(200)
    }
    await Bun.sleep(200)
    expect((await conn.sql<{ n: number }[]>`select count(*)::int as n from usage_events where client_id = ${c.createClient.id}`)[0]!.n).toBe(0)
    expect(await estimate({ model: 'nope' })).toMatchObject({ status: 404, body: { error: { code: 'model_not_found' } } })
    expect(await estimate({ messages: [] })).toMatchObject({ status: 400, body: { error: { param: 'model' } } })
    expect(await estimate({ model: 'default' })).toMatchObject({ status: 400, body: { error: { param: 'messages' } } })
    expect(await estimate({ model: 'dall-e-3', size: '1x1' })).toMatchObject({ status: 400, body: { error: { param: 'size' } } })
    expect(await estimate({ model: 'dall-e-3' }, 'vi_live_' + 'x'.repeat(40))).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } })
  })
})
