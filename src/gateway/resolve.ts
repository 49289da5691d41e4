/** @module Pure model resolution: a requested model to the ordered upstream targets that may serve it. */
import type { CatalogModel } from '../billing/catalog.ts'

export interface Target {
  provider: string
  /** Catalog id, which prices the call. */
  modelId: string
  /** The model id the upstream is asked for. */
  upstreamModel: string
  model: CatalogModel
  /** "provider:modelId": the target's circuit breaker, and how allowlists may name it. */
  key: string
}

/** A route: "provider:model" targets (primary first, then fallbacks), optionally weighted. */
export interface RouteSpec {
  targets: readonly string[]
  /** One per target: the first target of a request is drawn by weight, the others follow in order. */
  weights: readonly number[] | null
}

export type RouteTable = ReadonlyMap<string, RouteSpec>

/** The target order for one request: by weight when the route has weights, else as written. */
export function orderTargets(spec: RouteSpec, random: () => number = Math.random): readonly string[] {
  const w = spec.weights
  if (!w || w.length !== spec.targets.length) return spec.targets
  const total = w.reduce((a, b) => a + b, 0)
  if (total <= 0) return spec.targets
  let pick = random() * total
  let first = 0
  for (; first < w.length - 1; first++) {
    pick -= w[first]!
    if (pick < 0) break
  }
  return [spec.targets[first]!, ...spec.targets.filter((_, i) => i !== first)]
}

/** A catalog model as a target. */
function targetOf(model: CatalogModel): Target {
  return { provider: model.provider, modelId: model.id, upstreamModel: model.upstreamModel, model, key: `${model.provider}:${model.id}` }
}

function targetFor(spec: string, catalog: ReadonlyMap<string, CatalogModel>): Target | null {
  const colon = spec.indexOf(':')
  if (colon <= 0) return null
  const provider = spec.slice(0, colon)
  const id = spec.slice(colon + 1)
  const model = catalog.get(id)
  if (!model || model.provider !== provider) return null
  return targetOf(model)
}

/**
 * A client's alias follows its route; a catalog id (or "provider:id") goes to its provider; anything else
 * resolves to no target. Route targets missing from the catalog are skipped: they cannot be priced.
 */
export function resolveTargets(requested: string, routes: RouteTable, catalog: ReadonlyMap<string, CatalogModel>, random?: () => number): Target[] {
  const route = routes.get(requested)
  if (route) {
    const out: Target[] = []
    for (const s of orderTargets(route, random)) {
      const t = targetFor(s, catalog)
      if (t) out.push(t)
    }
    return out
  }
  const direct = catalog.get(requested)
  if (direct) return [targetOf(direct)]
  const spec = targetFor(requested, catalog)
  return spec ? [spec] : []
}

/**
 * The targets an allowlist permits: a list names the requested alias, a model id, or "provider:model". Every
 * list given (the key's, the client's) must permit a target; null lists permit everything.
 */
export function allowedTargets(targets: Target[], requested: string, lists: readonly (readonly string[] | null)[]): Target[] {
  return targets.filter((t) =>
    lists.every((list) => list === null || list.includes(requested) || list.includes(t.modelId) || list.includes(t.key)),
  )
}
