/**
 * @module Delivers alerts to each firm's webhook: POSTed JSON `{id, type, created, firm_id, client_id, data}`,
 * signed `X-Viapi-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` with the firm's secret, retried with
 * exponential backoff (first retry after VIAPI_WEBHOOK_RETRY_BASE_MS) under the same id until delivered or out of
 * attempts. Replicas share the work through row claims. Outbound URLs are checked again before each send.
 */
import type { Pool } from '../shared/db.ts'
import { describeError, log } from '../shared/log.ts'
import { openIfSealed, type SealingKey } from '../shared/sealed.ts'
import { checkOutboundUrl } from '../shared/urls.ts'
import { claimDeliveries, markDelivered, markFailed, type Alert } from './alerts.ts'

export const MAX_DELIVERY_ATTEMPTS = 10

export function alertBody(a: Alert): string {
  return JSON.stringify({ id: a.id, type: a.type, created: Math.floor(a.createdAt.getTime() / 1000), firm_id: a.firmId, client_id: a.clientId, data: { ...a.data, ...(a.keyId ? { key_id: a.keyId } : {}), period: a.period, ...(a.threshold ? { threshold: a.threshold } : {}) } })
}

/** The signature header value for a body: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t.body")>. */
export function signature(secret: string, body: string, t = Math.floor(Date.now() / 1000)): string {
  const mac = new Bun.CryptoHasher('sha256', secret).update(`${t}.${body}`).digest('hex')
  return `t=${t},v1=${mac}`
}

export interface DeliveryOptions {
  sql: Pool
  retryBaseMs: number
  allowPrivateUrls: boolean
  /** Open the firms' signing secrets (sealed under VIAPI_SECRET_KEY when one is set). */
  secretKeys: SealingKey[]
  intervalMs?: number
}

export class AlertDelivery {
  private timer: ReturnType<typeof setInterval> | null = null
  private round: Promise<void> | null = null

  constructor(private readonly o: DeliveryOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.o.intervalMs ?? 500)
    this.timer.unref()
  }

  /**
   * No new rounds; resolves when the one under way has finished, so a webhook already sent is recorded as
   * delivered (or failed) before the database closes, instead of being sent again once its claim lapses.
   */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    if (this.round) await this.round
  }

  /** One round: claim what is due, send it (none when one is under way). Never throws. */
  tick(): Promise<void> {
    this.round ??= this.deliverDue().finally(() => {
      this.round = null
    })
    return this.round
  }

  private async deliverDue(): Promise<void> {
    try {
      const due = await claimDeliveries(this.o.sql, { limit: 20, leaseMs: 30_000, maxAttempts: MAX_DELIVERY_ATTEMPTS })
      await Promise.all(due.map((d) => this.send(d.alert, d.url, d.secret)))
    } catch (err) {
      log.warn('alert delivery round failed', { error: describeError(err) })
    }
  }

  private async send(alert: Alert, rawUrl: string, stored: string): Promise<void> {
    const body = alertBody(alert)
    let error: string | null = null
    try {
      let secret: string
      try {
        secret = openIfSealed(this.o.secretKeys, stored)
      } catch {
        throw new Error('the webhook signing secret cannot be opened with VIAPI_SECRET_KEY (or VIAPI_SECRET_KEY_PREVIOUS)')
      }
      const url = await checkOutboundUrl(rawUrl, 'url', this.o.allowPrivateUrls)
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'viapi-webhooks', 'x-viapi-event-id': alert.id, 'x-viapi-signature': signature(secret, body) },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(10_000),
      })
      await res.arrayBuffer().catch(() => null)
      if (res.status < 200 || res.status >= 300) error = `webhook answered ${res.status}`
    } catch (err) {
      error = describeError(err)
    }
    if (!error) {
      await markDelivered(this.o.sql, alert.id)
      return
    }
    const retryIn = this.o.retryBaseMs * 2 ** alert.attempts
    await markFailed(this.o.sql, alert.id, error, retryIn)
    log.warn('alert delivery failed; will retry', { alert: alert.id, attempt: alert.attempts + 1, retry_in_ms: retryIn, error })
  }
}
