/** Guardrails against a real Postgres with a controlled clock: spend resets at the firm's month boundary. */
import { expect, test } from 'bun:test'
import { Guardrails, QuotaExceeded } from '../src/gateway/limits/guard.ts'
import { hashSecret } from '../src/shared/secrets.ts'
import { bootstrap } from '../src/tenancy/bootstrap.ts'
import { findKeyContext, mintKey } from '../src/tenancy/keys.ts'
import { postgresForFile } from './helpers/gateway.ts'

const pg = postgresForFile()
const alone = { leasing: () => false, share: () => 1, nextSync: () => Promise.resolve() }

test.each([
  ['UTC', '2026-11-30T23:59:00Z', '2026-12-01T00:00:01Z'],
  ['America/New_York', '2026-12-01T04:59:00Z', '2026-12-01T05:00:01Z'],
])('a key cap used up in the last minute of a month (%s) admits again when the month turns', async (tz, lastMinute, nextMonth) => {
  const fx = await bootstrap(pg.sql, { firmName: `F ${tz}`, email: `${tz.replace('/', '-')}@x.test`, demo: true, demoTarget: 'mock:mock-1' })
  await pg.sql`update firms set timezone = ${tz} where id = ${fx.firm_id}`
  const { secret } = await mintKey(pg.sql, { firmId: fx.firm_id, clientId: fx.client_id!, monthlyCapNano: 100_000n, rpm: 1_000_000 })
  const ctx = (await findKeyContext(pg.sql, hashSecret(secret)))!
  const guard = new Guardrails({ sql: pg.sql, mode: alone })
  const t1 = Date.parse(lastMinute)
  const a = await guard.admit(ctx, 60_000n, t1)
  guard.settle(ctx, a, 60_000n, t1)
  const b = await guard.admit(ctx, 60_000n, t1 + 1000)
  expect(b.reservation.amount).toBe(40_000n) // clamped to what is left
  guard.settle(ctx, b, 60_000n, t1 + 1000)
  expect(() => guard.admit(ctx, 60_000n, t1 + 2000)).toThrow(QuotaExceeded)
  const t2 = Date.parse(nextMonth)
  const c = await guard.admit(ctx, 60_000n, t2)
  expect(c.month.label).not.toBe(a.month.label)
  expect(c.reservation.amount).toBe(60_000n)
})
