/** @module Client routes as firm admins manage them: alias -> "provider:model" with ordered fallbacks. */
import { InvalidRequest } from '../shared/errors.ts'
import { getClient } from '../tenancy/clients.ts'
import { createRoute as insertRoute, deleteRoute as removeRoute, getRoute, listRoutes as selectRoutes, routeAliasTaken, type Route } from '../tenancy/routes.ts'
import { found, scopeOf, targetFirm, type Actor } from './actor.ts'
import { audit } from './audit.ts'
import type { AdminDeps, Page } from './context.ts'

/** A target must name a catalog model under its own provider, or it could never be priced or served. */
function checkTarget(deps: AdminDeps, spec: string, field: string): string {
  const colon = spec.indexOf(':')
  const model = colon > 0 ? deps.catalog.current.get(spec.slice(colon + 1)) : undefined
  if (!model || model.provider !== spec.slice(0, colon)) {
    throw new InvalidRequest(`${field}: "${spec}" is not a known "provider:model" (see the models query)`, field, 'validation_failed')
  }
  return spec
}

/** A client's routes, or without a client the firm-wide routes (every client has them unless it has its own alias). */
export async function listRoutes(deps: AdminDeps, actor: Actor, clientId: string | null, page: Page, firmId?: string | null): Promise<Route[]> {
  if (clientId === null) return selectRoutes(deps.sql, scopeOf(actor), { firmId: targetFirm(actor, firmId) }, page)
  found(await getClient(deps.sql, scopeOf(actor), clientId), 'client')
  return selectRoutes(deps.sql, scopeOf(actor), { clientId }, page)
}

export async function createRoute(
  deps: AdminDeps,
  actor: Actor,
  input: { clientId?: string | null; firmId?: string | null; alias: string; target: string; fallbacks?: string[] | null; weights?: number[] | null },
): Promise<Route> {
  const target = checkTarget(deps, input.target, 'target')
  const fallbacks = (input.fallbacks ?? []).map((f) => checkTarget(deps, f, 'fallbacks'))
  if (fallbacks.length > 10) throw new InvalidRequest('fallbacks: at most 10', 'fallbacks', 'validation_failed')
  const weights = input.weights ?? null
  if (weights && (weights.length !== fallbacks.length + 1 || weights.some((w) => !Number.isInteger(w) || w < 0 || w > 1000) || !weights.some((w) => w > 0))) {
    throw new InvalidRequest('weights: one whole number from 0 to 1000 per target (the target, then each fallback), not all zero', 'weights', 'validation_failed')
  }
  const route = await deps.sql.begin(async (tx) => {
    const client = input.clientId ? found(await getClient(tx, scopeOf(actor), input.clientId), 'client') : null
    const firmId = client?.firmId ?? targetFirm(actor, input.firmId)
    if (await routeAliasTaken(tx, firmId, client?.id ?? null, input.alias)) {
      throw new InvalidRequest(`alias: ${client ? 'this client' : 'the firm'} already has a route "${input.alias}"; delete it first`, 'alias', 'validation_failed')
    }
    const r = await insertRoute(tx, { firmId, clientId: client?.id ?? null, alias: input.alias, target, fallbacks, weights })
    await audit(tx, actor, { firmId, action: 'createRoute', objectType: 'route', objectId: r.id, after: r })
    return r
  })
  deps.bus.publish({ kind: 'invalidate', inv: route.clientId ? { clientId: route.clientId } : { firmId: route.firmId } })
  return route
}

export async function deleteRoute(deps: AdminDeps, actor: Actor, id: string): Promise<Route> {
  const route = await deps.sql.begin(async (tx) => {
    found(await getRoute(tx, scopeOf(actor), id), 'route')
    const r = found(await removeRoute(tx, scopeOf(actor), id), 'route')
    await audit(tx, actor, { firmId: r.firmId, action: 'deleteRoute', objectType: 'route', objectId: id, before: r })
    return r
  })
  deps.bus.publish({ kind: 'invalidate', inv: route.clientId ? { clientId: route.clientId } : { firmId: route.firmId } })
  return route
}
