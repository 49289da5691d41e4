/** @module Firm alerts as admins see them, and the firm webhook they are delivered to. */
import { listAlerts, type Alert } from '../billing/alerts.ts'
import { randomBase62 } from '../shared/ids.ts'
import { sealIfKeyed } from '../shared/sealed.ts'
import { checkOutboundUrl } from '../shared/urls.ts'
import { setFirmWebhook as storeWebhook } from '../tenancy/firms.ts'
import { found, scopeOf, targetFirm, type Actor } from './actor.ts'
import { audit } from './audit.ts'
import type { AdminDeps, Page } from './context.ts'

export function alerts(deps: AdminDeps, actor: Actor, page: Page): Promise<Alert[]> {
  return listAlerts(deps.sql, scopeOf(actor), page)
}

/** Sets the firm's webhook; returns the signing secret, shown only here. A null url removes the webhook. */
export async function setFirmWebhook(deps: AdminDeps, actor: Actor, input: { url: string | null; firmId?: string | null }): Promise<{ url: string | null; secret: string | null }> {
  const firmId = targetFirm(actor, input.firmId)
  const url = input.url === null ? null : (await checkOutboundUrl(input.url, 'url', deps.allowPrivateUrls)).toString()
  const secret = url ? `whsec_${randomBase62(40)}` : null
  await deps.sql.begin(async (tx) => {
    // Sealed at rest when VIAPI_SECRET_KEY is set; the caller sees the secret only in this answer.
    found((await storeWebhook(tx, firmId, url && secret ? { url, secret: sealIfKeyed(deps.secretKeys, secret) } : null)) || null, 'firm')
    await audit(tx, actor, { firmId, action: 'setFirmWebhook', objectType: 'firm', objectId: firmId, after: { url } })
  })
  return { url, secret }
}
