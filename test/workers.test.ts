/** VIAPI_WORKERS: reusePort worker processes on one port, one database owner, limits held for the host. */
import { describe, expect, test } from 'bun:test'
import { bootstrap } from '../src/tenancy/bootstrap.ts'
import { readyDb, startGateway, testDb, until, type DbMode } from './helpers/gateway.ts'
import { MockUpstream } from './helpers/mock-upstream.ts'

for (const mode of ['postgres', 'embedded'] as DbMode[]) {
  describe(`workers (${mode} database)`, () => {
    test('two workers serve one port, split the host’s limits, and drain every usage event on SIGTERM', async () => {
      const upstream = new MockUpstream().start()
      const db = await testDb(mode)
      try {
        // Embedded mode has one owner per data dir: set up first, then hand it to the gateway (its supervisor serves it to the workers).
        const setup = await readyDb(db)
        const fx = await bootstrap(setup.sql, { firmName: 'Workers', email: 'w@w.test', demo: true, demoTarget: 'openai:gpt-4o-mini' })
        await setup.sql`update clients set rpm = 10 where id = ${fx.client_id!}`
        await setup.close()
        const gw = await startGateway({ ...db.env, VIAPI_WORKERS: '2', OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.baseUrl, VIAPI_USAGE_FLUSH_MS: '3600000' })
        await until(() => (gw.output().match(/"msg":"listening"/g) ?? []).length === 2, 20_000, 'both workers listening')
        const statuses: number[] = []
        // Separate connections, so the kernel spreads them over both workers.
        for (let i = 0; i < 40; i++) {
          const res = await fetch(`${gw.url}/v1/proxy/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${fx.api_key}`, 'content-type': 'application/json', connection: 'close' },
            body: JSON.stringify({ model: 'default', messages: [{ role: 'user', content: 'x' }] }),
          })
          statuses.push(res.status)
          await res.arrayBuffer()
        }
        const admitted = statuses.filter((s) => s === 200).length
        expect(statuses.every((s) => s === 200 || s === 429)).toBe(true)
        expect(admitted).toBeGreaterThanOrEqual(5)
        expect(admitted).toBeLessThanOrEqual(10)
        expect((gw.output().match(/"msg":"listening"/g) ?? []).length).toBe(2)
        expect(await gw.stop('SIGTERM')).toBe(0)
        expect((gw.output().match(/"msg":"stopped"/g) ?? []).length).toBe(2)
        const after = await db.connect()
        const [n] = await after.sql<{ n: bigint }[]>`select count(*)::bigint as n from usage_events where client_id = ${fx.client_id!}`
        await after.close()
        expect(n!.n).toBe(BigInt(admitted))
      } finally {
        await upstream.stop()
        await db.drop()
      }
    })
  })
}
