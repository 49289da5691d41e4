/** @module Client API keys as firm admins manage them: minting with guardrails, updating, revoking. */
import { InvalidRequest } from '../shared/errors.ts'
import { getClient } from '../tenancy/clients.ts'
import {
  getKey as selectKey,
  listKeys as selectKeys,
  mintKey,
  revokeKey as markRevoked,
  updateKey as patchKey,
  type ApiKey,
  type Enforcement,
  type KeyGuardrails,
} from '../tenancy/keys.ts'
import { found, scopeOf, type Actor } from './actor.ts'
import { audit } from './audit.ts'
import type { AdminDeps, Page } from './context.ts'
import { future, MAX_RPD, MAX_RPM, modelList, monthlyUsd, rate, text } from './validate.ts'

export interface GuardrailInput {
  label?: string | null
  monthlyCapUsd?: number | null
  enforcement?: Enforcement | null
  allowedModels?: string[] | null
  rpm?: number | null
  rpd?: number | null
  expiresAt?: Date | null
}

/** Validates and clamps; undefined leaves a field unchanged, null clears it. */
function guardrails(input: GuardrailInput): KeyGuardrails {
  const g: KeyGuardrails = {}
  if (input.label != null) g.label = text(input.label, 'label', 100)
  if (input.monthlyCapUsd !== undefined) {
    if (input.monthlyCapUsd === null) {
      g.monthlyCapNano = null
      g.capClamped = false
    } else {
      const cap = monthlyUsd(input.monthlyCapUsd, 'monthlyCapUsd')
      g.monthlyCapNano = cap.nano
      g.capClamped = cap.clamped
    }
  }
  if (input.enforcement != null) g.enforcement = input.enforcement
  if (input.allowedModels !== undefined) g.allowedModels = input.allowedModels === null ? null : modelList(input.allowedModels)
  if (input.rpm !== undefined) g.rpm = input.rpm === null ? null : rate(input.rpm, 'rpm', MAX_RPM)
  if (input.rpd !== undefined) g.rpd = input.rpd === null ? null : rate(input.rpd, 'rpd', MAX_RPD)
  if (input.expiresAt !== undefined) g.expiresAt = input.expiresAt === null ? null : future(input.expiresAt, 'expiresAt')
  return g
}

export function getKey(deps: AdminDeps, actor: Actor, id: string): Promise<ApiKey> {
  return selectKey(deps.sql, scopeOf(actor), id).then((k) => found(k, 'key'))
}

export async function listKeys(deps: AdminDeps, actor: Actor, clientId: string, page: Page): Promise<ApiKey[]> {
  found(await getClient(deps.sql, scopeOf(actor), clientId), 'client')
  return selectKeys(deps.sql, scopeOf(actor), clientId, page)
}

/** Mints a vi_live_ key; the secret is in the result once and nowhere else. */
export async function mintGuardrailedKey(deps: AdminDeps, actor: Actor, input: GuardrailInput & { clientId: string }): Promise<{ secret: string; key: ApiKey }> {
  const g = guardrails(input)
  return deps.sql.begin(async (tx) => {
    const client = found(await getClient(tx, scopeOf(actor), input.clientId), 'client')
    const minted = await mintKey(tx, { firmId: client.firmId, clientId: client.id, ...g })
    await audit(tx, actor, { firmId: client.firmId, action: 'mintGuardrailedKey', objectType: 'key', objectId: minted.key.id, after: minted.key })
    return minted
  })
}

export async function updateKey(deps: AdminDeps, actor: Actor, id: string, input: GuardrailInput): Promise<ApiKey> {
  const g = guardrails(input)
  const key = await deps.sql.begin(async (tx) => {
    const before = found(await selectKey(tx, scopeOf(actor), id), 'key')
    if (before.status === 'revoked') throw new InvalidRequest('id: a revoked key cannot be changed', 'id', 'validation_failed')
    const after = found(await patchKey(tx, scopeOf(actor), id, g), 'key')
    await audit(tx, actor, { firmId: after.firmId, action: 'updateKey', objectType: 'key', objectId: id, before, after })
    return after
  })
  deps.bus.publish({ kind: 'invalidate', inv: { keyId: id } })
  return key
}

/** Revokes for good; without confirm it refuses and changes nothing. */
export async function revokeKey(deps: AdminDeps, actor: Actor, id: string, confirm: boolean): Promise<ApiKey> {
  if (confirm !== true) {
    found(await selectKey(deps.sql, scopeOf(actor), id), 'key')
    throw new InvalidRequest('confirm: revoking a key is permanent; pass confirm: true to revoke it', 'confirm', 'confirmation_required')
  }
  const key = await deps.sql.begin(async (tx) => {
    const before = found(await selectKey(tx, scopeOf(actor), id), 'key')
    const after = found(await markRevoked(tx, scopeOf(actor), id), 'key')
    await audit(tx, actor, { firmId: after.firmId, action: 'revokeKey', objectType: 'key', objectId: id, before, after })
    return after
  })
  deps.bus.publish({ kind: 'invalidate', inv: { keyId: id } })
  return key
}
