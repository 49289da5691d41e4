/**
 * The gateway core end to end: the real `viapi serve` process, a mock OpenAI upstream, the official openai client,
 * against both the embedded database and a real Postgres.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import type { Database } from '../src/shared/db.ts'
import { bootstrap, type BootstrapResult } from '../src/tenancy/bootstrap.ts'
import { mintKey, revokeKey } from '../src/tenancy/keys.ts'
import { createRoute } from '../src/tenancy/routes.ts'
import { startGateway, testDb, until, type DbMode, type GatewayProcess, type TestDb } from './helpers/gateway.ts'
import { MockUpstream, REPLY, REPLY_WORDS } from './helpers/mock-upstream.ts'

const UPSTREAM_KEY = 'sk-test-UPSTREAMSECRET0123456789'
const viapiOf = (o: unknown) => (o as { viapi?: Record<string, unknown> }).viapi

interface UsageRow {
  id: string
  status: number
  outcome: string
  prompt_tokens: number
  completion_tokens: number
  cost_nano: bigint
  markup_nano: bigint
  billed_nano: bigint
  usage_estimated: boolean
  stream: boolean
  model_requested: string
  model_used: string | null
  provider: string | null
  error_code: string | null
}

for (const mode of ['embedded', 'postgres'] as DbMode[]) {
  describe(`gateway core (${mode} database)`, () => {
    const upstream = new MockUpstream()
    let db: TestDb
    let gw: GatewayProcess
    let conn: Database
    let fx: BootstrapResult
    let client: OpenAI

    const usageRow = (id: string) =>
      until(async () => (await conn.sql<UsageRow[]>`select * from usage_events where id = ${id}`)[0], 10_000, `usage event ${id}`)
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${gw.url}/v1/proxy/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${fx.api_key}`, 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      })

    beforeAll(async () => {
      upstream.start()
      db = await testDb(mode)
      gw = await startGateway({
        ...db.env,
        OPENAI_API_KEY: UPSTREAM_KEY,
        OPENAI_BASE_URL: upstream.baseUrl,
        VIAPI_UPSTREAM_TIMEOUT_MS: '1500',
        VIAPI_STREAM_IDLE_TIMEOUT_MS: '1500',
        VIAPI_BODY_LIMIT_BYTES: '65536',
        VIAPI_USAGE_FLUSH_MS: '50',
        // These tests are about each failure on its own; breakers are tested in routing.test.ts.
        VIAPI_BREAKER_THRESHOLD: '1000',
        VIAPI_RETRY_BASE_MS: '20',
      })
      conn = await db.connect()
      fx = await bootstrap(conn.sql, { firmName: 'Acme', email: `admin-${mode}@acme.test`, demo: true, demoTarget: 'openai:gpt-4o-mini', markupBps: 3000 })
      await createRoute(conn.sql, { firmId: fx.firm_id, clientId: fx.client_id!, alias: 'resilient', target: 'openai:gpt-4o', fallbacks: ['mock:mock-1'] })
      client = new OpenAI({ apiKey: fx.api_key, baseURL: `${gw.url}/v1/proxy`, maxRetries: 0 })
    })

    afterAll(async () => {
      await conn?.close()
      await gw?.stop()
      await upstream.stop()
      await db?.drop()
    })

    beforeEach(() => upstream.reset())

    test('non-streaming: the OpenAI body plus an exact viapi block and a matching request id header', async () => {
      const { data, response } = await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'Hello!' }] }).withResponse()
      expect(data.choices[0]!.message.content).toBe(REPLY)
      expect(data.usage).toEqual({ prompt_tokens: 12, completion_tokens: 18, total_tokens: 30, prompt_tokens_details: { cached_tokens: 0 } })
      const v = viapiOf(data)!
      // gpt-4o-mini: 12 × $0.15/M + 18 × $0.60/M = 12,600 nano-dollars; 30 % markup = 3,780
      expect(v).toEqual({
        request_id: response.headers.get('x-viapi-request-id'),
        client_id: fx.client_id,
        provider: 'openai',
        model_used: 'gpt-4o-mini',
        cost_usd: 0.0000126,
        markup_usd: 0.00000378,
        billed_usd: 0.00001638,
      })
      expect(String(v.request_id)).toMatch(/^req_[0-9A-HJKMNP-TV-Z]{26}$/)
      const row = await usageRow(String(v.request_id))
      expect(row).toMatchObject({ status: 200, outcome: 'ok', prompt_tokens: 12, completion_tokens: 18, cost_nano: 12_600n, markup_nano: 3_780n, billed_nano: 16_380n, stream: false, model_requested: 'default', model_used: 'gpt-4o-mini', provider: 'openai' })
    })

    test('the upstream gets the route model and our provider key, never the client key', async () => {
      await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'hi' }] })
      const req = upstream.requests[0]!
      expect(req.body.model).toBe('gpt-4o-mini')
      expect(req.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`)
      expect(JSON.stringify(req.headers)).not.toContain(fx.api_key!)
    })

    test("the upstream body is the client's own text with the model swapped (and usage asked for on a stream), not a re-serialisation", async () => {
      const sent = '{ "messages": [ {"role": "user", "content": "say \\"model\\": 1 ünï"} ],\n  "model": "default", "temperature": 0.5, "metadata": {"model": "mine"} }'
      const post = (text: string) => fetch(`${gw.url}/v1/proxy/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${fx.api_key}`, 'content-type': 'application/json' }, body: text })
      expect((await post(sent)).status).toBe(200)
      expect(upstream.requests[0]!.text).toBe(sent.replace('"model": "default"', '"model": "gpt-4o-mini"'))
      const streamed = await post(sent.replace('"temperature"', '"stream": true, "temperature"'))
      await streamed.text()
      expect(upstream.requests[1]!.text).toBe(sent.replace('"model": "default"', '"model": "gpt-4o-mini"').replace('"temperature"', '"stream": true, "temperature"').replace(/ }$/, ' ,"stream_options":{"include_usage":true}}'))
    })

    test('X-Viapi-Key works as well as Authorization: Bearer', async () => {
      const res = await fetch(`${gw.url}/v1/proxy/chat/completions`, {
        method: 'POST',
        headers: { 'x-viapi-key': fx.api_key!, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'default', messages: [{ role: 'user', content: 'hi' }] }),
      })
      expect(res.status).toBe(200)
      expect(viapiOf(await res.json())?.client_id).toBe(fx.client_id)
      const viaSdk = new OpenAI({ apiKey: 'ignored', baseURL: `${gw.url}/v1/proxy`, defaultHeaders: { 'X-Viapi-Key': fx.api_key! }, maxRetries: 0 })
      const r = await viaSdk.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'hi' }] })
      expect(r.choices[0]!.message.content).toBe(REPLY)
    })

    test('streaming: content reassembled equals the upstream, no empty choices, viapi on the finish chunk', async () => {
      const stream = await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'Hello!' }], stream: true })
      let text = ''
      const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = []
      for await (const c of stream) {
        chunks.push(c)
        text += c.choices[0]!.delta.content ?? ''
      }
      expect(text).toBe(REPLY)
      expect(chunks.every((c) => c.choices.length === 1)).toBe(true)
      const last = chunks.at(-1)!
      expect(last.choices[0]!.finish_reason).toBe('stop')
      expect(viapiOf(last)).toMatchObject({ provider: 'openai', model_used: 'gpt-4o-mini', cost_usd: 0.0000126, billed_usd: 0.00001638 })
      expect((upstream.requests[0]!.body.stream_options as { include_usage: boolean }).include_usage).toBe(true)
      const row = await usageRow(String(viapiOf(last)!.request_id))
      expect(row).toMatchObject({ outcome: 'ok', stream: true, billed_nano: 16_380n, usage_estimated: false })
    })

    test('streaming with include_usage: the usage chunk reaches the client and carries viapi', async () => {
      const stream = await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'Hello!' }], stream: true, stream_options: { include_usage: true } })
      const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = []
      for await (const c of stream) chunks.push(c)
      const usageChunk = chunks.at(-1)!
      expect(usageChunk.choices).toEqual([])
      expect(usageChunk.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 18 })
      expect(viapiOf(usageChunk)).toMatchObject({ billed_usd: 0.00001638 })
      expect(chunks.slice(0, -1).map((c) => c.choices[0]!.delta.content ?? '').join('')).toBe(REPLY)
    })

    test('stream bytes pass through as they arrive, in SSE framing ending with [DONE]', async () => {
      const res = await post({ model: 'default', stream: true, messages: [{ role: 'user', content: 'x' }] })
      expect(res.headers.get('content-type')).toContain('text/event-stream')
      const raw = await res.text()
      expect(raw.endsWith('data: [DONE]\n\n')).toBe(true)
      expect(raw.split('\n\n').filter(Boolean).every((e) => e.startsWith('data: '))).toBe(true)
      expect(raw.split('\n\n').filter(Boolean)).toHaveLength(REPLY_WORDS.length + 3)
    })

    test('GET /models lists the aliases and catalog models this key may call', async () => {
      const list = await client.models.list()
      const ids = list.data.map((m) => m.id)
      expect(ids).toContain('default')
      expect(ids).toContain('resilient')
      expect(ids).toContain('gpt-4o')
      expect(ids).toContain('mock-1')
      expect(list.data.every((m) => m.object === 'model')).toBe(true)
    })

    describe('errors', () => {
      const expectError = async (res: Response, status: number, code: string | null, type?: string) => {
        expect(res.status).toBe(status)
        expect(res.headers.get('x-viapi-request-id')).toMatch(/^req_/)
        const body = (await res.json()) as { error: { message: string; type: string; code: string | null; param: string | null } }
        expect(body.error.code).toBe(code)
        expect(typeof body.error.message).toBe('string')
        if (type) expect(body.error.type).toBe(type)
        return body.error
      }

      test('missing key: 401 invalid_api_key', async () => {
        const res = await fetch(`${gw.url}/v1/proxy/chat/completions`, { method: 'POST', body: '{}' })
        await expectError(res, 401, 'invalid_api_key', 'authentication_error')
      })

      test('unknown key: 401 invalid_api_key, through the SDK as AuthenticationError', async () => {
        const bad = new OpenAI({ apiKey: 'vi_live_' + 'x'.repeat(40), baseURL: `${gw.url}/v1/proxy`, maxRetries: 0 })
        const err = await bad.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(OpenAI.AuthenticationError)
        expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key')
      })

      test('revoked key: 401 key_revoked; expired key: 401 key_expired', async () => {
        const revoked = await mintKey(conn.sql, { firmId: fx.firm_id, clientId: fx.client_id! })
        await revokeKey(conn.sql, null, revoked.key.id)
        await expectError(await post({ model: 'default', messages: [] }, { authorization: `Bearer ${revoked.secret}` }), 401, 'key_revoked')
        const expired = await mintKey(conn.sql, { firmId: fx.firm_id, clientId: fx.client_id!, expiresAt: new Date(Date.now() - 1000) })
        await expectError(await post({ model: 'default', messages: [] }, { authorization: `Bearer ${expired.secret}` }), 401, 'key_expired')
      })

      test('malformed JSON, missing messages, missing model: 400', async () => {
        await expectError(await post('{"model": "default", '), 400, null, 'invalid_request_error')
        expect((await expectError(await post({ model: 'default' }), 400, 'missing_required_parameter')).param).toBe('messages')
        expect((await expectError(await post({ messages: [{ role: 'user', content: 'x' }] }), 400, 'missing_required_parameter')).param).toBe('model')
        await expectError(await post('[1,2]'), 400, null)
      })

      test('a body whose messages are not JSON: an upstream sent the text answers 400; one that reads it parsed never sees it', async () => {
        const bad = '{"model":"default","messages":[{"role":"user","content":"hi"},]}'
        const res = await post(bad)
        expect((await expectError(res, 400, null, 'invalid_request_error')).message).toContain('could not parse the JSON body')
        expect(upstream.requests.map((r) => r.text)).toEqual([bad.replace('"default"', '"gpt-4o-mini"')])
        expect(await usageRow(res.headers.get('x-viapi-request-id')!)).toMatchObject({ status: 400, outcome: 'upstream_rejected', billed_nano: 0n })
        // 'resilient' falls back to the built-in mock provider, which reads the parsed body: the gateway's own 400, no attempt.
        const mixed = await post(bad.replace('"default"', '"resilient"'))
        expect((await expectError(mixed, 400, null, 'invalid_request_error')).message).toContain('could not parse the JSON body')
        expect(upstream.requests).toHaveLength(1)
      })

      test('body over the limit: 413, declared or chunked', async () => {
        const big = JSON.stringify({ model: 'default', messages: [{ role: 'user', content: 'x'.repeat(70_000) }] })
        await expectError(await post(big), 413, 'request_too_large')
        const chunked = new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode(big))
            c.close()
          },
        })
        const res = await fetch(`${gw.url}/v1/proxy/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${fx.api_key}` }, body: chunked })
        await expectError(res, 413, 'request_too_large')
      })

      test('unknown model: 404 model_not_found', async () => {
        const err = await client.chat.completions.create({ model: 'gpt-9-ultra', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(OpenAI.NotFoundError)
        expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found')
      })

      test('upstream 4xx passes through with its status and message, and is recorded', async () => {
        upstream.scenario = { kind: 'status', status: 400, message: 'Invalid value for temperature.', code: 'invalid_value' }
        const res = await post({ model: 'default', messages: [{ role: 'user', content: 'x' }] })
        const e = await expectError(res, 400, 'invalid_value')
        expect(e.message).toBe('Invalid value for temperature.')
        const row = await usageRow(res.headers.get('x-viapi-request-id')!)
        expect(row).toMatchObject({ status: 400, outcome: 'upstream_rejected', billed_nano: 0n })
      })

      test('upstream 5xx: 502, recorded as an upstream error', async () => {
        upstream.scenario = { kind: 'status', status: 500 }
        const res = await post({ model: 'default', messages: [{ role: 'user', content: 'x' }] })
        await expectError(res, 502, 'upstream_error')
        expect(await usageRow(res.headers.get('x-viapi-request-id')!)).toMatchObject({ status: 502, outcome: 'upstream_error' })
      })

      test('upstream timeout before the first byte: 504', async () => {
        upstream.scenario = { kind: 'delay', ms: 3000 }
        const res = await post({ model: 'default', messages: [{ role: 'user', content: 'x' }] })
        await expectError(res, 504, 'upstream_timeout')
        expect(await usageRow(res.headers.get('x-viapi-request-id')!)).toMatchObject({ status: 504, outcome: 'timeout' })
      })

      test('garbage from the upstream: 502, streaming or not', async () => {
        upstream.scenario = { kind: 'garbage' }
        await expectError(await post({ model: 'default', messages: [{ role: 'user', content: 'x' }] }), 502, 'upstream_invalid_response')
        await expectError(await post({ model: 'default', stream: true, messages: [{ role: 'user', content: 'x' }] }), 502, 'upstream_invalid_response')
      })

      test('upstream unreachable: 502', async () => {
        const port = upstream.port
        await upstream.stop()
        try {
          await expectError(await post({ model: 'default', messages: [{ role: 'user', content: 'x' }] }), 502, 'upstream_unreachable')
        } finally {
          upstream.start(port)
        }
      })

      test('a stream that breaks after it started ends with one error event, never a hang', async () => {
        upstream.scenario = { kind: 'break-stream', after: 4 }
        const stream = await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }], stream: true })
        let text = ''
        const err = await (async () => {
          for await (const c of stream) text += c.choices[0]?.delta.content ?? ''
        })().catch((e: unknown) => e)
        expect(err).toBeInstanceOf(OpenAI.APIError)
        expect(text).toBe(REPLY_WORDS.slice(0, 3).join(''))
      })

      test('garbage in the middle of a stream ends it with an error event', async () => {
        upstream.scenario = { kind: 'garbage-mid-stream', after: 3 }
        const res = await post({ model: 'default', stream: true, messages: [{ role: 'user', content: 'x' }] })
        const raw = await res.text()
        const events = raw.split('\n\n').filter(Boolean)
        expect(JSON.parse(events.at(-1)!.slice(6))).toMatchObject({ error: { code: 'upstream_stream_error' } })
        expect(await usageRow(res.headers.get('x-viapi-request-id')!)).toMatchObject({ status: 502, outcome: 'upstream_error', stream: true })
      })

      test('a stream that stalls longer than the idle timeout ends with an error event', async () => {
        upstream.scenario = { kind: 'slow-stream', gapMs: 4000, chunks: 3 }
        const res = await post({ model: 'default', stream: true, messages: [{ role: 'user', content: 'x' }] })
        const raw = await res.text()
        expect(JSON.parse(raw.split('\n\n').filter(Boolean).at(-1)!.slice(6))).toMatchObject({ error: { code: 'upstream_timeout' } })
      })
    })

    test('fallback: a failing primary before the first byte goes to the next target', async () => {
      upstream.scenario = { kind: 'status', status: 503 }
      const { data } = await client.chat.completions.create({ model: 'resilient', messages: [{ role: 'user', content: 'Hi there' }] }).withResponse()
      expect(viapiOf(data)).toMatchObject({ provider: 'mock', model_used: 'mock-1' })
      expect(data.choices[0]!.message.content).toContain('Hi there')
      // tried twice on the primary (a 503 is worth one retry), then the fallback
      expect(upstream.requests).toHaveLength(2)
    })

    test('client abort mid-stream: upstream aborted, usage still recorded from the streamed text', async () => {
      upstream.scenario = { kind: 'slow-stream', gapMs: 100, chunks: 50 }
      const stream = await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'x' }], stream: true }).withResponse()
      const requestId = stream.response.headers.get('x-viapi-request-id')!
      let seen = 0
      for await (const _ of stream.data) {
        if (++seen === 5) break // leaving the loop aborts the request
      }
      await until(() => upstream.cancelled > 0, 5_000, 'upstream cancellation')
      const row = await usageRow(requestId)
      expect(row).toMatchObject({ outcome: 'client_abort', status: 499, usage_estimated: true, stream: true })
      expect(row.completion_tokens).toBeGreaterThanOrEqual(4)
      expect(row.completion_tokens).toBeLessThan(50)
      expect(row.billed_nano).toBeGreaterThan(0n)
    })

    test('no-usage upstream: billed from the counted stream, flagged as estimated', async () => {
      upstream.scenario = { kind: 'no-usage' }
      const res = await post({ model: 'default', stream: true, messages: [{ role: 'user', content: 'x' }] })
      const raw = await res.text()
      expect(raw).toContain('"viapi"')
      const row = await usageRow(res.headers.get('x-viapi-request-id')!)
      expect(row).toMatchObject({ outcome: 'ok', usage_estimated: true, completion_tokens: REPLY_WORDS.length + 1 })
    })

    test('health and readiness', async () => {
      expect(await (await fetch(`${gw.url}/healthz`)).json()).toEqual({ status: 'ok' })
      const ready = await fetch(`${gw.url}/readyz`)
      expect(ready.status).toBe(200)
      expect(await ready.json()).toMatchObject({ status: 'ready', database: 'ok' })
    })

    test('no secret in any log line', async () => {
      await post({ model: 'default', messages: [{ role: 'user', content: 'x' }] })
      await post({ model: 'default', messages: [{ role: 'user', content: 'x' }] }, { authorization: 'Bearer vi_live_' + 'y'.repeat(40) })
      const out = gw.output()
      expect(out).toContain('"msg":"request"')
      expect(out).not.toContain(fx.api_key!)
      expect(out).not.toContain('y'.repeat(40))
      expect(out).not.toContain(UPSTREAM_KEY)
      expect(out).not.toContain(fx.admin_token)
    })
  })
}
