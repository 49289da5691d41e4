/** @module Client spending limits and markup as firm admins set them. */
import { getClient } from '../tenancy/clients.ts'
import { getFirm, setFirmMarkup } from '../tenancy/firms.ts'
import type { Enforcement } from '../tenancy/keys.ts'
import { getSpendingLimit as selectLimit, upsertSpendingLimit, type SpendingLimit } from '../tenancy/spending-limits.ts'
import { found, scopeOf, targetFirm, type Actor } from './actor.ts'
import { audit } from './audit.ts'
import { changeClient } from './clients.ts'
import type { AdminDeps } from './context.ts'
import { monthlyUsd, percentToBps, thresholds } from './validate.ts'

export async function getSpendingLimit(deps: AdminDeps, actor: Actor, clientId: string): Promise<SpendingLimit | null> {
  found(await getClient(deps.sql, scopeOf(actor), clientId), 'client')
  return selectLimit(deps.sql, scopeOf(actor), clientId)
}

export async function setSpendingLimit(
  deps: AdminDeps,
  actor: Actor,
  input: { clientId: string; monthlyLimitUsd: number; alertThresholds?: number[] | null; enforcement?: Enforcement | null },
): Promise<SpendingLimit> {
  const limit = monthlyUsd(input.monthlyLimitUsd, 'monthlyLimitUsd')
  const alerts = input.alertThresholds ? thresholds(input.alertThresholds) : [50, 80, 100]
  const saved = await deps.sql.begin(async (tx) => {
    const client = found(await getClient(tx, scopeOf(actor), input.clientId), 'client')
    const before = await selectLimit(tx, null, client.id)
    const after = await upsertSpendingLimit(tx, {
      clientId: client.id,
      firmId: client.firmId,
      monthlyLimitNano: limit.nano,
      limitClamped: limit.clamped,
      alertThresholds: alerts,
      enforcement: input.enforcement ?? 'hard',
    })
    await audit(tx, actor, { firmId: client.firmId, action: 'setSpendingLimit', objectType: 'spending_limit', objectId: client.id, before, after })
    return after
  })
  deps.bus.publish({ kind: 'invalidate', inv: { clientId: input.clientId } })
  return saved
}

export interface MarkupResult {
  firmId: string
  clientId: string | null
  percent: number
}

/** With a client id, that client's override; without, the firm's default. */
export async function setMarkup(deps: AdminDeps, actor: Actor, input: { clientId?: string | null; percent: number; firmId?: string | null }): Promise<MarkupResult> {
  const bps = percentToBps(input.percent)
  if (input.clientId) {
    const client = await changeClient(deps, actor, input.clientId, 'setMarkup', { markupBps: bps })
    return { firmId: client.firmId, clientId: client.id, percent: bps / 100 }
  }
  const firmId = targetFirm(actor, input.firmId)
  await deps.sql.begin(async (tx) => {
    const before = found(await getFirm(tx, firmId), 'firm')
    const after = found(await setFirmMarkup(tx, firmId, bps), 'firm')
    await audit(tx, actor, { firmId, action: 'setMarkup', objectType: 'firm', objectId: firmId, before, after })
  })
  deps.bus.publish({ kind: 'invalidate', inv: { firmId } })
  return { firmId, clientId: null, percent: bps / 100 }
}
