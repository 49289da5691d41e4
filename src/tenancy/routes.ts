/** @module Owns the routes table: per-client (or firm-wide) aliases to ordered "provider:model" targets. */
import type { Sql } from '../shared/db.ts'
import { InvalidRequest } from '../shared/errors.ts'
import { newId } from '../shared/ids.ts'
import { inFirm, type FirmScope } from './scope.ts'

export interface Route {
  id: string
  firmId: string
  clientId: string | null
  alias: string
  target: string
  fallbacks: string[]
  /** One per target (primary, then fallbacks) when traffic is split by weight; null for plain fallback order. */
  weights: number[] | null
  createdAt: Date
}

interface RouteRow {
  id: string
  firm_id: string
  client_id: string | null
  alias: string
  target: string
  fallbacks: string[]
  weights: number[] | null
  created_at: Date
}

const toRoute = (r: RouteRow): Route => ({
  id: r.id,
  firmId: r.firm_id,
  clientId: r.client_id,
  alias: r.alias,
  target: r.target,
  fallbacks: r.fallbacks,
  weights: r.weights,
  createdAt: r.created_at,
})

const TARGET = /^[a-z0-9-]+:[A-Za-z0-9._:/-]+$/
const ALIAS = /^[A-Za-z0-9._-]{1,64}$/

export function checkTarget(target: string, param: string): void {
  if (!TARGET.test(target)) throw new InvalidRequest(`${param} must look like "provider:model", got "${target}"`, param)
}

export async function createRoute(
  sql: Sql,
  input: { firmId: string; clientId: string | null; alias: string; target: string; fallbacks?: string[]; weights?: number[] | null },
): Promise<Route> {
  if (!ALIAS.test(input.alias)) throw new InvalidRequest('alias must be 1-64 letters, digits, ".", "_" or "-"', 'alias')
  checkTarget(input.target, 'target')
  for (const f of input.fallbacks ?? []) checkTarget(f, 'fallbacks')
  const [row] = await sql<RouteRow[]>`
    insert into routes (id, firm_id, client_id, alias, target, fallbacks, weights)
    values (${newId('rte')}, ${input.firmId}, ${input.clientId}, ${input.alias}, ${input.target}, ${input.fallbacks ?? []}, ${input.weights ?? null})
    returning *`
  return toRoute(row!)
}

/** The routes that apply to a client: its own, then the firm-wide ones its own do not shadow. */
export async function routesForClient(sql: Sql, firmId: string, clientId: string): Promise<Route[]> {
  const rows = await sql<RouteRow[]>`
    select * from routes where firm_id = ${firmId} and (client_id = ${clientId} or client_id is null)
    order by (client_id is null), alias`
  const seen = new Set<string>()
  const out: Route[] = []
  for (const r of rows) {
    if (seen.has(r.alias)) continue
    seen.add(r.alias)
    out.push(toRoute(r))
  }
  return out
}

/** A client's own routes, or with a null client a firm's firm-wide ones. */
export async function listRoutes(sql: Sql, scope: FirmScope, owner: { clientId: string } | { firmId: string }, page: { after: string | null; limit: number }): Promise<Route[]> {
  const rows = await sql<RouteRow[]>`
    select * from routes
    where ${'clientId' in owner ? sql`client_id = ${owner.clientId}` : sql`client_id is null and firm_id = ${owner.firmId}`}
      ${inFirm(sql, scope)} ${page.after ? sql`and id > ${page.after}` : sql``}
    order by id limit ${page.limit}`
  return rows.map(toRoute)
}

export async function getRoute(sql: Sql, scope: FirmScope, id: string): Promise<Route | null> {
  const [row] = await sql<RouteRow[]>`select * from routes where id = ${id} ${inFirm(sql, scope)}`
  return row ? toRoute(row) : null
}

export async function routeAliasTaken(sql: Sql, firmId: string, clientId: string | null, alias: string): Promise<boolean> {
  return (await sql`select 1 from routes where firm_id = ${firmId} and client_id is not distinct from ${clientId} and alias = ${alias}`).length > 0
}

export async function deleteRoute(sql: Sql, scope: FirmScope, id: string): Promise<Route | null> {
  const [row] = await sql<RouteRow[]>`delete from routes where id = ${id} ${inFirm(sql, scope)} returning *`
  return row ? toRoute(row) : null
}
