/**
 * @module Which targets a request may use: its model through the key's routes and the catalog, filtered by kind
 * and allowlists, priced with the firm's own prices; and the adapter that serves each.
 */
import { Forbidden, InvalidRequest, ModelNotFound } from '../shared/errors.ts'
import type { GatewayContext } from './context.ts'
import type { KeyEntry } from './key-cache.ts'
import { isProviderId } from './providers/index.ts'
import type { ProviderAdapter } from './providers/types.ts'
import { allowedTargets, resolveTargets, type Target } from './resolve.ts'

/** The targets a key may use for `model`, of the endpoint's kind; 404, 400 or 403 when there are none. */
const KIND_NAMES = { chat: 'a chat', embedding: 'an embedding', image: 'an image', video: 'a video' } as const

export function admitTargets(gw: GatewayContext, entry: KeyEntry, model: string, kind: 'chat' | 'embedding' | 'image' | 'video' = 'chat'): Target[] {
  const all = resolveTargets(model, entry.routes, gw.catalog.current)
  if (all.length === 0) throw new ModelNotFound(model)
  const resolved = all.filter((t) => t.model.kind === kind)
  if (resolved.length === 0) throw new InvalidRequest(`The model "${model}" is not ${KIND_NAMES[kind]} model.`, 'model', 'model_not_supported')
  const targets = allowedTargets(resolved, model, [entry.ctx.allowedModels, entry.ctx.clientAllowedModels])
  if (targets.length === 0) throw new Forbidden(`This key is not allowed to use the model "${model}".`, 'model_not_allowed')
  // The firm's own prices, where it set any, price the request (reservation and bill alike).
  const own = entry.prices
  return own && own.size > 0 ? targets.map((t) => (own.has(t.modelId) ? { ...t, model: { ...t.model, prices: own.get(t.modelId)! } } : t)) : targets
}

/** The firm's own adapter for a provider when it brought a key, else the platform's. */
export function adapterOf(gw: GatewayContext, entry: KeyEntry, provider: string): ProviderAdapter | undefined {
  if (!isProviderId(gw.providers, provider)) return undefined
  return entry.adapters?.[provider] ?? gw.providers[provider]
}
