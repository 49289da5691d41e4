/** Alert webhook delivery at shutdown: a webhook already on its way is waited for and recorded, not sent again later. */
import { expect, test } from 'bun:test'
import { recordAlert } from '../src/billing/alerts.ts'
import { AlertDelivery } from '../src/billing/delivery.ts'
import { createFirm, setFirmWebhook } from '../src/tenancy/firms.ts'
import { postgresForFile, until } from './helpers/gateway.ts'

const pg = postgresForFile()

test('stopping while a webhook is in flight waits for its answer and marks the alert delivered', async () => {
  const received: string[] = []
  let answer: () => void = () => {}
  const receiver = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      received.push(req.headers.get('x-viapi-event-id') ?? '')
      // Answer only when the test says so: the delivery is in flight until then.
      await new Promise<void>((resolve) => (answer = resolve))
      return new Response('ok')
    },
  })
  try {
    const firm = await createFirm(pg.sql, { name: 'Hooks' })
    await setFirmWebhook(pg.sql, firm.id, { url: `http://127.0.0.1:${receiver.port}/hook`, secret: 'whsec_delivery_test' })
    const id = await recordAlert(pg.sql, { firmId: firm.id, clientId: null, keyId: null, type: 'credits.low_balance', period: 'cycle-1', data: {} })
    const delivery = new AlertDelivery({ sql: pg.sql, retryBaseMs: 60_000, allowPrivateUrls: true, secretKeys: [] })
    void delivery.tick()
    await until(() => received.length === 1, 5_000, 'the webhook request')
    let stopped = false
    const stopping = delivery.stop().then(() => (stopped = true))
    await Bun.sleep(100)
    expect(stopped).toBe(false)
    answer()
    await stopping
    const [row] = await pg.sql<{ delivered_at: Date | null; attempts: number }[]>`select delivered_at, attempts from alerts where id = ${id!}`
    expect(row!.delivered_at).toBeInstanceOf(Date)
    expect(row!.attempts).toBe(1)
    expect(received).toEqual([id!])
  } finally {
    receiver.stop(true)
  }
})
