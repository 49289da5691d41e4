/** @module A firm's own prices for catalog models, overriding list prices for its clients' requests. */
import type { TokenPrices } from '../billing/pricing.ts'
import { deleteFirmPrice, firmPrices, setFirmPrice } from '../billing/prices.ts'
import { InvalidRequest, NotFound } from '../shared/errors.ts'
import { usdToNano } from '../shared/money.ts'
import { targetFirm, type Actor } from './actor.ts'
import { audit } from './audit.ts'
import type { AdminDeps } from './context.ts'

export interface ModelPriceInput {
  modelId: string
  inputPerMillionUsd: number
  cachedInputPerMillionUsd?: number | null
  outputPerMillionUsd: number
  cacheWritePerMillionUsd?: number | null
  firmId?: string | null
}

function usd(v: number, field: string): bigint {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100_000) throw new InvalidRequest(`${field}: a price from 0 to 100,000 USD per million tokens`, field, 'validation_failed')
  return usdToNano(v)
}

export async function listModelPrices(deps: AdminDeps, actor: Actor, firmId?: string | null): Promise<(TokenPrices & { modelId: string })[]> {
  return [...(await firmPrices(deps.sql, targetFirm(actor, firmId)))].map(([modelId, p]) => ({ modelId, ...p }))
}

export async function setModelPrice(deps: AdminDeps, actor: Actor, input: ModelPriceInput): Promise<TokenPrices & { modelId: string }> {
  const firmId = targetFirm(actor, input.firmId)
  if (!deps.catalog.current.has(input.modelId)) throw new InvalidRequest(`modelId: "${input.modelId}" is not in the catalog (see the models query)`, 'modelId', 'validation_failed')
  const prices: TokenPrices = {
    inputPerMtok: usd(input.inputPerMillionUsd, 'inputPerMillionUsd'),
    cachedInputPerMtok: input.cachedInputPerMillionUsd == null ? null : usd(input.cachedInputPerMillionUsd, 'cachedInputPerMillionUsd'),
    outputPerMtok: usd(input.outputPerMillionUsd, 'outputPerMillionUsd'),
    cacheWritePerMtok: input.cacheWritePerMillionUsd == null ? null : usd(input.cacheWritePerMillionUsd, 'cacheWritePerMillionUsd'),
  }
  await deps.sql.begin(async (tx) => {
    await setFirmPrice(tx, firmId, input.modelId, prices)
    await audit(tx, actor, { firmId, action: 'setModelPrice', objectType: 'model_price', objectId: input.modelId, after: prices })
  })
  deps.bus.publish({ kind: 'invalidate', inv: { firmId } })
  return { modelId: input.modelId, ...prices }
}

export async function deleteModelPrice(deps: AdminDeps, actor: Actor, input: { modelId: string; firmId?: string | null }): Promise<boolean> {
  const firmId = targetFirm(actor, input.firmId)
  await deps.sql.begin(async (tx) => {
    if (!(await deleteFirmPrice(tx, firmId, input.modelId))) throw new NotFound('No such model price.')
    await audit(tx, actor, { firmId, action: 'deleteModelPrice', objectType: 'model_price', objectId: input.modelId })
  })
  deps.bus.publish({ kind: 'invalidate', inv: { firmId } })
  return true
}
