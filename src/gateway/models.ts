/** @module GET /v1/proxy/models: the aliases and catalog models this key may call, in OpenAI's list format. */
import { authenticate } from './auth.ts'
import type { GatewayContext } from './context.ts'
import { adapterOf } from './targets.ts'
import { allowedTargets, resolveTargets } from './resolve.ts'

interface ModelObject {
  id: string
  object: 'model'
  created: number
  owned_by: string
}

export async function listModels(gw: GatewayContext, headers: Headers): Promise<{ object: 'list'; data: ModelObject[] }> {
  const entry = await authenticate(gw.keys, headers, Date.now())
  const catalog = gw.catalog.current
  const lists = [entry.ctx.allowedModels, entry.ctx.clientAllowedModels]
  const data: ModelObject[] = []
  const seen = new Set<string>()
  for (const alias of entry.routes.keys()) {
    if (allowedTargets(resolveTargets(alias, entry.routes, catalog), alias, lists).length === 0) continue
    seen.add(alias)
    data.push({ id: alias, object: 'model', created: 0, owned_by: 'viapi' })
  }
  for (const m of catalog.values()) {
    if (seen.has(m.id)) continue
    if (allowedTargets(resolveTargets(m.id, new Map(), catalog), m.id, lists).length === 0) continue
    if (!adapterOf(gw, entry, m.provider)?.configured) continue
    data.push({ id: m.id, object: 'model', created: 0, owned_by: m.provider })
  }
  return { object: 'list', data }
}
