/**
 * @module Which targets a request may use: its model through the key's routes and the catalog, filtered by kind
 * and allowlists, priced with the firm's own prices; and the adapter that serves each.
 */
import type { CatalogModel } from '../billing/catalog.ts'
import { Forbidden, InvalidRequest, ModelNotFound } from '../shared/errors.ts'
import type { GatewayContext } from './context.ts'
import type { KeyEntry } from './key-cache.ts'
import { isProviderId } from './providers/index.ts'
import type { ProviderAdapter } from './providers/types.ts'
import { allowedTargets, resolveTargets, type Target } from './resolve.ts'

const KIND_NAMES = { chat: 'a chat', embedding: 'an embedding', image: 'an image', video: 'a video' } as const
type Kind = keyof typeof KIND_NAMES

/**
 * Admitted targets per key entry, for the catalog they were resolved against: a key asks for the same few models
 * request after request. An entry is replaced when its key, routes or prices change (invalidation), and a catalog
 * reload replaces the map, so neither can serve a stale answer. Weighted routes draw their order per request and
 * are not kept; neither are refusals.
 */
const admitted = new WeakMap<KeyEntry, { catalog: ReadonlyMap<string, CatalogModel>; targets: Map<string, readonly Target[]> }>()

/** The targets a key may use for `model`, of the endpoint's kind; 404, 400 or 403 when there are none. */
export function admitTargets(gw: GatewayContext, entry: KeyEntry, model: string, kind: Kind = 'chat'): readonly Target[] {
  const catalog = gw.catalog.current
  let memo = admitted.get(entry)
  if (memo === undefined || memo.catalog !== catalog) admitted.set(entry, (memo = { catalog, targets: new Map() }))
  const id = `${kind}\n${model}`
  const known = memo.targets.get(id)
  if (known !== undefined) return known
  const targets = admit(entry, model, kind, catalog)
  if (!entry.routes.get(model)?.weights) memo.targets.set(id, targets)
  return targets
}

function admit(entry: KeyEntry, model: string, kind: Kind, catalog: ReadonlyMap<string, CatalogModel>): Target[] {
  const all = resolveTargets(model, entry.routes, catalog)
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
