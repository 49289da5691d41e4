/** @module Firm-owned provider keys as firm admins manage them: sealed at rest, shown only as a hint. */
import { BYOK_PROVIDERS } from '../gateway/providers/index.ts'
import { GatewayError, InvalidRequest } from '../shared/errors.ts'
import { seal } from '../shared/sealed.ts'
import { checkOutboundUrl } from '../shared/urls.ts'
import { credentialsOfFirm, deleteCredential, upsertCredential, type StoredCredential } from '../tenancy/credentials.ts'
import { found, targetFirm, type Actor } from './actor.ts'
import { audit } from './audit.ts'
import type { AdminDeps } from './context.ts'

export interface CredentialView {
  provider: string
  keyHint: string
  baseUrl: string | null
  createdAt: Date
  updatedAt: Date
}

const view = (c: StoredCredential): CredentialView => ({ provider: c.provider, keyHint: c.keyHint, baseUrl: c.baseUrl, createdAt: c.createdAt, updatedAt: c.updatedAt })

function provider(p: string): string {
  if (!(BYOK_PROVIDERS as string[]).includes(p)) throw new InvalidRequest(`provider: one of ${BYOK_PROVIDERS.join(', ')}`, 'provider', 'validation_failed')
  return p
}

export async function listCredentials(deps: AdminDeps, actor: Actor, firmId?: string | null): Promise<CredentialView[]> {
  return (await credentialsOfFirm(deps.sql, targetFirm(actor, firmId))).map(view)
}

export async function setCredential(deps: AdminDeps, actor: Actor, input: { provider: string; apiKey: string; baseUrl?: string | null; firmId?: string | null }): Promise<CredentialView> {
  const firmId = targetFirm(actor, input.firmId)
  const p = provider(input.provider)
  const key = input.apiKey.trim()
  if (key.length < 8 || key.length > 4096) throw new InvalidRequest('apiKey: expected the provider key (8 to 4096 characters)', 'apiKey', 'validation_failed')
  const sealer = deps.secretKeys[0]
  if (!sealer) throw new GatewayError(503, 'service_unavailable', 'secret_key_missing', 'Firm provider keys need VIAPI_SECRET_KEY set on the gateway.')
  const baseUrl = input.baseUrl ? (await checkOutboundUrl(input.baseUrl, 'baseUrl', deps.allowPrivateUrls)).toString().replace(/\/+$/, '') : null
  if (p === 'openai-compatible' && !baseUrl) throw new InvalidRequest('baseUrl: required for openai-compatible', 'baseUrl', 'validation_failed')
  const saved = await deps.sql.begin(async (tx) => {
    const c = await upsertCredential(tx, { firmId, provider: p, secretEnc: seal(sealer, key), keyHint: `…${key.slice(-4)}`, baseUrl })
    await audit(tx, actor, { firmId, action: 'setProviderCredential', objectType: 'provider_credential', objectId: p, after: view(c) })
    return c
  })
  deps.bus.publish({ kind: 'invalidate', inv: { firmId } })
  return view(saved)
}

export async function removeCredential(deps: AdminDeps, actor: Actor, input: { provider: string; firmId?: string | null }): Promise<CredentialView> {
  const firmId = targetFirm(actor, input.firmId)
  const removed = await deps.sql.begin(async (tx) => {
    const c = found(await deleteCredential(tx, firmId, input.provider), 'provider credential')
    await audit(tx, actor, { firmId, action: 'deleteProviderCredential', objectType: 'provider_credential', objectId: input.provider, before: view(c) })
    return c
  })
  deps.bus.publish({ kind: 'invalidate', inv: { firmId } })
  return view(removed)
}
