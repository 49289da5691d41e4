/**
 * Providers through the real gateway with the official openai client: Anthropic's Messages API translated both
 * ways (text, system prompt, tools, images, streaming with usage and cache tokens, errors) and billed exactly; an
 * OpenAI-compatible provider configured by the <ID>_API_KEY / <ID>_BASE_URL rule.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import type { Database } from '../src/shared/db.ts'
import { bootstrap, type BootstrapResult } from '../src/tenancy/bootstrap.ts'
import { createRoute } from '../src/tenancy/routes.ts'
import { readyDb, startGateway, testDb, until, type GatewayProcess, type TestDb, viapi } from './helpers/gateway.ts'
import { MockAnthropic } from './helpers/mock-anthropic.ts'
import { MockGemini } from './helpers/mock-gemini.ts'
import { MockUpstream, REPLY } from './helpers/mock-upstream.ts'

const anthropic = new MockAnthropic()
const groq = new MockUpstream()
const gemini = new MockGemini()
const azure = new MockUpstream()
let db: TestDb
let conn: Database
let gw: GatewayProcess
let fx: BootstrapResult
let client: OpenAI

beforeAll(async () => {
  anthropic.start()
  groq.start()
  gemini.start()
  azure.start()
  db = await testDb('postgres')
  conn = await readyDb(db)
  fx = await bootstrap(conn.sql, { firmName: 'Prov', email: 'prov@x.test', demo: true, demoTarget: 'anthropic:claude-sonnet-4' })
  await createRoute(conn.sql, { firmId: fx.firm_id, clientId: fx.client_id!, alias: 'fast', target: 'groq:llama-3.3-70b-versatile' })
  await createRoute(conn.sql, { firmId: fx.firm_id, clientId: fx.client_id!, alias: 'google', target: 'gemini:gemini-2.5-flash' })
  await createRoute(conn.sql, { firmId: fx.firm_id, clientId: fx.client_id!, alias: 'azure', target: 'azure-openai:azure/gpt-4o-mini' })
  await conn.sql`update clients set rpm = 100000 where id = ${fx.client_id!}`
  gw = await startGateway({ ...db.env, OPENAI_API_KEY: 'sk-openai-test', OPENAI_BASE_URL: groq.baseUrl, ANTHROPIC_API_KEY: 'sk-ant-test-SECRET123456', ANTHROPIC_BASE_URL: anthropic.baseUrl, GROQ_API_KEY: 'gsk_test', GROQ_BASE_URL: groq.baseUrl, GEMINI_API_KEY: 'gem-test-key', GEMINI_BASE_URL: gemini.baseUrl, AZURE_OPENAI_API_KEY: 'az-test-key', AZURE_OPENAI_BASE_URL: azure.baseUrl.replace(/\/v1$/, ''), VIAPI_USAGE_FLUSH_MS: '50' })
  client = new OpenAI({ apiKey: fx.api_key, baseURL: `${gw.url}/v1/proxy`, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.stop()
  await conn?.close()
  await anthropic.stop()
  await groq.stop()
  await gemini.stop()
  await azure.stop()
  await db?.drop()
})

describe('anthropic', () => {
  test('text: system prompt and turns translated, answer and usage back in OpenAI shape, billed at Claude prices', async () => {
    anthropic.scenario = { text: 'Bonjour!', usage: { input_tokens: 25, output_tokens: 12 } }
    const r = await client.chat.completions.create({
      model: 'default',
      messages: [
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Salut' },
        { role: 'user', content: 'Again' },
      ],
      temperature: 0.5,
      stop: ['END'],
    })
    expect(r.choices[0]!.message.content).toBe('Bonjour!')
    expect(r.choices[0]!.finish_reason).toBe('stop')
    expect(r.usage).toMatchObject({ prompt_tokens: 25, completion_tokens: 12, total_tokens: 37 })
    // 25 × $3/M + 12 × $15/M = 75,000 + 180,000 nano-dollars
    expect(viapi(r)).toMatchObject({ provider: 'anthropic', model_used: 'claude-sonnet-4-20250514', cost_usd: 0.000255 })
    const sent = anthropic.requests.at(-1)!
    expect(sent.headers['x-api-key']).toBe('sk-ant-test-SECRET123456')
    expect(sent.headers['anthropic-version']).toBe('2023-06-01')
    expect(sent.headers.authorization).toBeUndefined()
    expect(sent.body).toMatchObject({
      model: 'claude-sonnet-4-20250514',
      system: 'Answer in French.',
      max_tokens: 64000,
      temperature: 0.5,
      stop_sequences: ['END'],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Hello' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Salut' }] },
        { role: 'user', content: [{ type: 'text', text: 'Again' }] },
      ],
    })
  })

  test('tools: definitions and choice translated, tool_use comes back as tool_calls, results go back as tool_result', async () => {
    anthropic.scenario = { text: '', toolUse: { id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } } }
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]
    const r = await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools, tool_choice: 'required', max_tokens: 100 })
    expect(r.choices[0]!.finish_reason).toBe('tool_calls')
    expect(r.choices[0]!.message.tool_calls).toEqual([{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }])
    expect(anthropic.requests.at(-1)!.body).toMatchObject({ max_tokens: 100, tool_choice: { type: 'any' }, tools: [{ name: 'get_weather', description: 'Weather now', input_schema: { type: 'object' } }] })
    anthropic.scenario = { text: 'It is sunny.' }
    await client.chat.completions.create({
      model: 'default',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny, 21C' },
      ],
      tools,
    })
    expect(anthropic.requests.at(-1)!.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny, 21C' }] },
    ])
  })

  test('images in messages: URLs and data URLs become image blocks', async () => {
    anthropic.scenario = { text: 'A cat.' }
    await client.chat.completions.create({
      model: 'default',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is it?' }, { type: 'image_url', image_url: { url: 'https://example.test/cat.png' } }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }],
    })
    expect((anthropic.requests.at(-1)!.body.messages as { content: unknown[] }[])[0]!.content).toEqual([
      { type: 'text', text: 'What is it?' },
      { type: 'image', source: { type: 'url', url: 'https://example.test/cat.png' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
    ])
  })

  test('streaming: Anthropic events become OpenAI chunks; cache reads and writes billed at their own prices', async () => {
    anthropic.scenario = { text: 'Streaming from Claude works well.', usage: { input_tokens: 100, output_tokens: 40, cache_read_input_tokens: 1500, cache_creation_input_tokens: 500 } }
    const stream = await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } })
    let text = ''
    let usage: OpenAI.CompletionUsage | undefined
    let block: Record<string, unknown> | undefined
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? ''
      if (c.usage) {
        usage = c.usage
        block = viapi(c)
      }
    }
    expect(text).toBe('Streaming from Claude works well.')
    // prompt = 100 input + 1,500 read + 500 written
    expect(usage).toMatchObject({ prompt_tokens: 2100, completion_tokens: 40, prompt_tokens_details: { cached_tokens: 1500 } })
    // 100 × 3,000 + 1,500 × 300 + 500 × 3,750 + 40 × 15,000 = 3,225,000 nano-dollars
    expect(block).toMatchObject({ provider: 'anthropic', cost_usd: 0.003225 })
    const id = String(block!.request_id)
    const row = await until(async () => (await conn.sql<{ cost_nano: bigint; cached_tokens: number }[]>`select cost_nano, cached_tokens from usage_events where id = ${id}`)[0], 5000, 'usage')
    expect(row).toEqual({ cost_nano: 3_225_000n, cached_tokens: 1500 })
  })

  test('streamed tool calls arrive as OpenAI tool_call deltas', async () => {
    anthropic.scenario = { text: 'Let me check.', toolUse: { id: 'toolu_2', name: 'lookup', input: { q: 'viapi' } } }
    const stream = await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }], stream: true })
    let args = ''
    let name = ''
    let finish: string | null = null
    for await (const c of stream) {
      for (const tc of c.choices[0]?.delta.tool_calls ?? []) {
        name ||= tc.function?.name ?? ''
        args += tc.function?.arguments ?? ''
      }
      finish = c.choices[0]?.finish_reason ?? finish
    }
    expect(name).toBe('lookup')
    expect(JSON.parse(args)).toEqual({ q: 'viapi' })
    expect(finish).toBe('tool_calls')
  })

  test('an Anthropic 400 passes through in OpenAI error shape; the provider key never leaks', async () => {
    anthropic.scenario = { status: 400 }
    const err = await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('mock anthropic 400')
    expect(gw.output()).not.toContain('sk-ant-test-SECRET123456')
    anthropic.scenario = {}
  })
})

test('an OpenAI-compatible provider by the env rule: GROQ_API_KEY and GROQ_BASE_URL', async () => {
  const r = await client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'x' }] })
  expect(r.choices[0]!.message.content).toBe(REPLY)
  expect(viapi(r)).toMatchObject({ provider: 'groq', model_used: 'llama-3.3-70b-versatile' })
  expect(groq.requests.at(-1)!.headers.authorization).toBe('Bearer gsk_test')
  // 12 × $0.59/M + 18 × $0.79/M = 7,080 + 14,220 nano-dollars
  expect(viapi(r).cost_usd).toBe(0.0000213)
  const models = (await client.models.list()).data.map((m) => m.id)
  expect(models).toEqual(expect.arrayContaining(['claude-sonnet-4', 'llama-3.3-70b-versatile']))
})

describe('gemini', () => {
  test('text, system instruction and config translated; usage from usageMetadata (thinking billed as output)', async () => {
    gemini.scenario = { text: 'Hallo!', usage: { promptTokenCount: 40, candidatesTokenCount: 8, thoughtsTokenCount: 12, cachedContentTokenCount: 10 } }
    const r = await client.chat.completions.create({ model: 'google', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], max_tokens: 50, temperature: 0.2 })
    expect(r.choices[0]!.message.content).toBe('Hallo!')
    expect(r.usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 20, prompt_tokens_details: { cached_tokens: 10 } })
    // 30 × $0.30/M + 10 cached × $0.075/M + 20 × $2.50/M = 9,000 + 750 + 50,000 nano-dollars
    expect(viapi(r)).toMatchObject({ provider: 'gemini', model_used: 'gemini-2.5-flash', cost_usd: 0.00005975 })
    const sent = gemini.requests.at(-1)!
    expect(sent.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent')
    expect(sent.headers['x-goog-api-key']).toBe('gem-test-key')
    expect(sent.search).toBe('')
    expect(sent.body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }], systemInstruction: { parts: [{ text: 'Be brief.' }] }, generationConfig: { temperature: 0.2, maxOutputTokens: 50 } })
  })

  test('tools and tool results; images inline', async () => {
    gemini.scenario = { text: '', functionCall: { name: 'lookup', args: { q: 'x' } } }
    const tools = [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }]
    const r = await client.chat.completions.create({ model: 'google', messages: [{ role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/AA==' } }] }], tools, tool_choice: 'auto' })
    expect(r.choices[0]!.finish_reason).toBe('tool_calls')
    const call = r.choices[0]!.message.tool_calls![0]! as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall
    expect(call.function).toEqual({ name: 'lookup', arguments: '{"q":"x"}' })
    expect(gemini.requests.at(-1)!.body).toMatchObject({
      contents: [{ role: 'user', parts: [{ text: 'see' }, { inlineData: { mimeType: 'image/jpeg', data: '/9j/AA==' } }] }],
      tools: [{ functionDeclarations: [{ name: 'lookup' }] }],
      toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
    })
    gemini.scenario = { text: 'Done.' }
    await client.chat.completions.create({
      model: 'google',
      messages: [
        { role: 'user', content: 'see' },
        { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: call.function }] },
        { role: 'tool', tool_call_id: call.id, content: '{"result": 42}' },
      ],
      tools,
    })
    expect(gemini.requests.at(-1)!.body.contents).toEqual([
      { role: 'user', parts: [{ text: 'see' }] },
      { role: 'model', parts: [{ functionCall: { name: 'lookup', args: { q: 'x' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'lookup', response: { result: 42 } } }] },
    ])
  })

  test('streaming: SSE chunks become OpenAI chunks with a usage chunk; billed from the last usageMetadata', async () => {
    gemini.scenario = { text: 'One two three four.', usage: { promptTokenCount: 15, candidatesTokenCount: 6 } }
    const stream = await client.chat.completions.create({ model: 'google', messages: [{ role: 'user', content: 'count' }], stream: true })
    let text = ''
    let last: OpenAI.Chat.Completions.ChatCompletionChunk | undefined
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? ''
      last = c
    }
    expect(text).toBe('One two three four.')
    expect(gemini.requests.at(-1)!.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent')
    expect(gemini.requests.at(-1)!.search).toBe('?alt=sse')
    // 15 × 300 + 6 × 2,500 = 19,500 nano-dollars, on the finish chunk
    expect(viapi(last)).toMatchObject({ provider: 'gemini', cost_usd: 0.0000195 })
  })
})

test('azure-openai: deployment URL, api-version and api-key header', async () => {
  const r = await client.chat.completions.create({ model: 'azure', messages: [{ role: 'user', content: 'x' }] })
  expect(viapi(r)).toMatchObject({ provider: 'azure-openai', model_used: 'gpt-4o-mini' })
  const sent = azure.requests.at(-1)!
  expect(sent.headers['api-key']).toBe('az-test-key')
  expect(sent.headers.authorization).toBeUndefined()
  expect(sent.body.model).toBeUndefined()
  expect(new URL(sent.url).pathname + new URL(sent.url).search).toBe('/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21')
})

describe('embeddings', () => {
  test('OpenAI embeddings through the gateway, metered at the input price, with the viapi block', async () => {
    await createRoute(conn.sql, { firmId: fx.firm_id, clientId: fx.client_id!, alias: 'embed', target: 'openai:text-embedding-3-small', fallbacks: ['gemini:gemini-embedding-001'] })
    // a fresh key sees the new route at once
    const other = await gwKey()
    const c = new OpenAI({ apiKey: other, baseURL: `${gw.url}/v1/proxy`, maxRetries: 0 })
    const r = await c.embeddings.create({ model: 'embed', input: ['one', 'two'] })
    expect(r.data).toHaveLength(2)
    expect(r.data[0]!.embedding.map((x) => Math.round(x * 1000) / 1000)).toEqual([0.1, 0.2, 0.3])
    // 8 tokens × $0.02/M = 160 nano-dollars
    expect(viapi(r)).toMatchObject({ provider: 'openai', model_used: 'text-embedding-3-small', cost_usd: 0.00000016 })
    const row = await until(async () => (await conn.sql<{ endpoint: string; prompt_tokens: number; cost_nano: bigint }[]>`select endpoint, prompt_tokens, cost_nano from usage_events where id = ${String(viapi(r).request_id)}`)[0], 5000, 'usage')
    expect(row).toEqual({ endpoint: 'embeddings', prompt_tokens: 8, cost_nano: 160n })
  })

  test('translated for Gemini, and used as a fallback', async () => {
    const c = new OpenAI({ apiKey: await gwKey(), baseURL: `${gw.url}/v1/proxy`, maxRetries: 0 })
    groq.scenario = { kind: 'ok' }
    const direct = await c.embeddings.create({ model: 'gemini-embedding-001', input: 'hello world!' })
    expect(direct.data[0]!.embedding).toEqual([0.5, 0.25])
    expect(gemini.requests.at(-1)!.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents')
    // 3 estimated tokens × $0.15/M = 450 nano-dollars
    expect(viapi(direct)).toMatchObject({ provider: 'gemini', cost_usd: 0.00000045 })
  })

  test('a chat model is refused for embeddings and the other way round', async () => {
    const e = await client.embeddings.create({ model: 'claude-sonnet-4', input: 'x' }).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(OpenAI.BadRequestError)
    expect((e as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('model_not_supported')
    const c = await client.chat.completions.create({ model: 'text-embedding-3-small', messages: [{ role: 'user', content: 'x' }] }).catch((x: unknown) => x)
    expect(c).toBeInstanceOf(OpenAI.BadRequestError)
  })
})

async function gwKey(): Promise<string> {
  const { mintKey } = await import('../src/tenancy/keys.ts')
  return (await mintKey(conn.sql, { firmId: fx.firm_id, clientId: fx.client_id! })).secret
}

describe('firm-owned provider keys (BYOK)', () => {
  const KEY_A = '11'.repeat(32)
  const KEY_B = '22'.repeat(32)

  test('a firm key is sealed, listed by hint, used for its routes, never logged; removing it falls back', async () => {
    const byok = await startGateway({ ...db.env, VIAPI_SECRET_KEY: KEY_A, ANTHROPIC_BASE_URL: anthropic.baseUrl, VIAPI_USAGE_FLUSH_MS: '50' })
    try {
      const gql = (q: string, v: Record<string, unknown> = {}) =>
        fetch(`${byok.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${fx.admin_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ query: q, variables: v }) }).then((r) => r.json() as Promise<{ data?: Record<string, unknown>; errors?: { message: string; extensions?: { field?: string } }[] }>)
      const c = new OpenAI({ apiKey: fx.api_key, baseURL: `${byok.url}/v1/proxy`, maxRetries: 0 })
      // No platform Anthropic key here: the default route cannot be served yet.
      expect(await c.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => (e as { status: number }).status)).toBe(503)
      const set = await gql('mutation { setProviderCredential(input: {provider: "anthropic", apiKey: "sk-ant-FIRMKEY-987654"}) { provider keyHint } }')
      expect(set.data).toEqual({ setProviderCredential: { provider: 'anthropic', keyHint: '…7654' } })
      anthropic.scenario = { text: 'Using your key.' }
      const r = await c.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }] })
      expect(r.choices[0]!.message.content).toBe('Using your key.')
      expect(anthropic.requests.at(-1)!.headers['x-api-key']).toBe('sk-ant-FIRMKEY-987654')
      const [row] = await conn.sql<{ secret_enc: string }[]>`select secret_enc from provider_credentials where firm_id = ${fx.firm_id}`
      expect(row!.secret_enc).not.toContain('FIRMKEY')
      const listed = await gql('{ providerCredentials { provider keyHint baseUrl } }')
      expect(JSON.stringify(listed)).not.toContain('FIRMKEY')
      const audit = await gql('{ auditLog(first: 5) { edges { node { action after } } } }')
      expect(JSON.stringify(audit)).toContain('setProviderCredential')
      expect(JSON.stringify(audit)).not.toContain('FIRMKEY')
      expect(byok.output()).not.toContain('FIRMKEY')
      const bad = await gql('mutation { setProviderCredential(input: {provider: "nope", apiKey: "12345678"}) { provider } }')
      expect(bad.errors?.[0]?.extensions?.field).toBe('provider')
      const ssrf = await gql('mutation { setProviderCredential(input: {provider: "openai-compatible", apiKey: "12345678", baseUrl: "http://10.0.0.1/v1"}) { provider } }')
      expect(ssrf.errors?.[0]?.extensions?.field).toBe('baseUrl')
      await gql('mutation { deleteProviderCredential(provider: "anthropic") { provider } }')
      expect(await c.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => (e as { status: number }).status)).toBe(503)
    } finally {
      await byok.stop()
    }
  })

  test('rotating VIAPI_SECRET_KEY: `viapi secrets rotate` re-seals, and the new key alone opens them', async () => {
    const { seal, parseSecretKey } = await import('../src/shared/sealed.ts')
    await conn.sql`insert into provider_credentials (firm_id, provider, secret_enc, key_hint) values (${fx.firm_id}, 'anthropic', ${seal(parseSecretKey(KEY_A), 'sk-ant-ROTATED-1234')}, '…1234')
      on conflict (firm_id, provider) do update set secret_enc = excluded.secret_enc`
    // A webhook secret stored before any key was set is sealed by the rotation too.
    await conn.sql`update firms set webhook_url = 'https://hooks.example.test/viapi', webhook_secret = 'whsec_plain_before_keys', webhook_set_at = now() where id = ${fx.firm_id}`
    const proc = Bun.spawn([process.execPath, 'src/cli.ts', 'secrets', 'rotate'], { env: { PATH: process.env.PATH ?? '', ...db.env, VIAPI_SECRET_KEY: KEY_B, VIAPI_SECRET_KEY_PREVIOUS: KEY_A }, stderr: 'pipe', stdout: 'pipe' })
    expect(await proc.exited).toBe(0)
    expect(await new Response(proc.stderr).text()).toContain('re-sealed 1 provider key and 1 webhook secret')
    const [hook] = await conn.sql<{ webhook_secret: string }[]>`select webhook_secret from firms where id = ${fx.firm_id}`
    const { unseal } = await import('../src/shared/sealed.ts')
    expect(hook!.webhook_secret).toStartWith('v1:')
    expect(unseal([parseSecretKey(KEY_B)], hook!.webhook_secret)).toBe('whsec_plain_before_keys')
    await conn.sql`update firms set webhook_url = null, webhook_secret = null, webhook_set_at = null where id = ${fx.firm_id}`
    const rotated = await startGateway({ ...db.env, VIAPI_SECRET_KEY: KEY_B, ANTHROPIC_BASE_URL: anthropic.baseUrl })
    try {
      const c = new OpenAI({ apiKey: fx.api_key, baseURL: `${rotated.url}/v1/proxy`, maxRetries: 0 })
      await c.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }] })
      expect(anthropic.requests.at(-1)!.headers['x-api-key']).toBe('sk-ant-ROTATED-1234')
    } finally {
      await rotated.stop()
      await conn.sql`delete from provider_credentials where firm_id = ${fx.firm_id}`
    }
  })
})
