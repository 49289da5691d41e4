/** Process lifecycle: graceful shutdown loses no usage event, even with a long flush interval and a stream in flight. */
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import OpenAI from 'openai'
import { bootstrap } from '../src/tenancy/bootstrap.ts'
import { startGateway, testDb, until, type DbMode } from './helpers/gateway.ts'
import { MockUpstream } from './helpers/mock-upstream.ts'

for (const mode of ['embedded', 'postgres'] as DbMode[]) {
  describe(`graceful shutdown (${mode} database)`, () => {
    test('SIGTERM with events still queued and a stream in flight: every event lands, the stream completes', async () => {
      const upstream = new MockUpstream().start()
      const db = await testDb(mode)
      try {
        const gw = await startGateway({
          ...db.env,
          OPENAI_API_KEY: 'sk-test-x',
          OPENAI_BASE_URL: upstream.baseUrl,
          VIAPI_USAGE_FLUSH_MS: '3600000',
          VIAPI_SHUTDOWN_GRACE_MS: '10000',
        })
        const conn = await db.connect()
        const fx = await bootstrap(conn.sql, { firmName: 'Shut', email: `shut-${mode}@x.test`, demo: true, demoTarget: 'openai:gpt-4o-mini' })
        await conn.close()
        const client = new OpenAI({ apiKey: fx.api_key, baseURL: `${gw.url}/v1/proxy`, maxRetries: 0 })
        const ids: string[] = []
        for (let i = 0; i < 12; i++) {
          const { response } = await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: `n${i}` }], stream: i % 2 === 0 }).withResponse()
          ids.push(response.headers.get('x-viapi-request-id')!)
        }
        // Drain the streams we opened so their events are queued too.
        upstream.scenario = { kind: 'slow-stream', gapMs: 40, chunks: 20 }
        const slow = await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'slow' }], stream: true }).withResponse()
        ids.push(slow.response.headers.get('x-viapi-request-id')!)
        let text = ''
        const reading = (async () => {
          for await (const c of slow.data) text += c.choices[0]?.delta.content ?? ''
        })()
        await until(() => text.length > 0, 5_000, 'first streamed words')
        const code = await gw.stop('SIGTERM')
        await reading
        expect(code).toBe(0)
        expect(text).toBe(Array.from({ length: 20 }, (_, i) => ` w${i}`).join(''))
        expect(gw.output()).toContain('"msg":"stopped"')

        const after = await db.connect()
        const rows = await after.sql<{ id: string; outcome: string }[]>`select id, outcome from usage_events`
        await after.close()
        expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort())
        expect(rows.every((r) => r.outcome === 'ok')).toBe(true)
      } finally {
        await upstream.stop()
        await db.drop()
      }
    })
  })
}


test('a replica that only proxies never loads the admin plane; the first admin request loads it once', async () => {
  const upstream = new MockUpstream().start()
  const db = await testDb('postgres')
  try {
    const gw = await startGateway({ ...db.env, OPENAI_API_KEY: 'sk-test-x', OPENAI_BASE_URL: upstream.baseUrl })
    const conn = await db.connect()
    const fx = await bootstrap(conn.sql, { firmName: 'Lazy', email: 'lazy@x.test', demo: true, demoTarget: 'openai:gpt-4o-mini' })
    await conn.close()
    const client = new OpenAI({ apiKey: fx.api_key, baseURL: `${gw.url}/v1/proxy`, maxRetries: 0 })
    const reply = await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'hi' }] })
    expect(reply.choices[0]?.message.content).toBeTruthy()
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200)
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200)
    expect(gw.output()).not.toContain('admin plane loaded')

    // Concurrent first requests share one load.
    const [models, graphql, docs] = await Promise.all([
      client.models.list(),
      fetch(`${gw.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${fx.admin_token}`, 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' }),
      fetch(`${gw.url}/docs/json`),
    ])
    expect(models.data.map((m) => m.id)).toContain('default')
    expect(await graphql.json()).toEqual({ data: { __typename: 'Query' } })
    expect(docs.status).toBe(200)
    expect(gw.output().match(/"msg":"admin plane loaded"/g)).toHaveLength(1)
    expect(await gw.stop('SIGTERM')).toBe(0)
  } finally {
    await upstream.stop()
    await db.drop()
  }
})

test('serve runs with mimalloc purging only pages empty for a second (same pid, same output), unless the operator set it', async () => {
  const db = await testDb('postgres')
  const environ = (pid: number) => new Map(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
  try {
    for (const [given, expected] of [[undefined, '1000'], ['25', '25']] as const) {
      const gw = await startGateway({ ...db.env, ...(given === undefined ? {} : { MIMALLOC_PURGE_DELAY: given }) })
      expect(environ(gw.proc.pid).get('MIMALLOC_PURGE_DELAY')).toBe(expected)
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(200)
      expect(await gw.stop('SIGTERM')).toBe(0)
      expect(gw.output()).toContain('"msg":"stopped"')
    }
  } finally {
    await db.drop()
  }
})
