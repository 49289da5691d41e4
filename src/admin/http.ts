/**
 * @module Admin and client-facing REST: personal access tokens, a client's own usage, and usage export as CSV.
 */
import { Elysia } from 'elysia'
import { exportUsage } from '../billing/usage-export.ts'
import type { UsageTotals } from '../billing/usage.ts'
import { USAGE_CSV_HEADER, usageCsvLine } from '../billing/csv.ts'
import { authenticate, extractKey } from '../gateway/auth.ts'
import { readJsonObject } from '../gateway/body.ts'
import type { KeyCache } from '../gateway/key-cache.ts'
import { Forbidden, InvalidRequest } from '../shared/errors.ts'
import { nanoToUsd } from '../shared/money.ts'
import { getClient } from '../tenancy/clients.ts'
import { getFirm } from '../tenancy/firms.ts'
import { KEY_PREFIX } from '../tenancy/keys.ts'
import { found, scopeOf, Unauthenticated, type Actor } from './actor.ts'
import { authenticateAdmin, type JwtConfig } from './auth.ts'
import type { AdminDeps } from './context.ts'
import { listPats, mintPat, revokePat } from './tokens.ts'
import { clientUsage, resolveWindow } from './usage.ts'
import { docs } from './http-docs.ts'

const totalsJson = (u: UsageTotals) => ({
  requests: u.requests,
  prompt_tokens: u.promptTokens,
  completion_tokens: u.completionTokens,
  total_tokens: u.promptTokens + u.completionTokens,
  cost_usd: nanoToUsd(u.costNano),
  markup_usd: nanoToUsd(u.markupNano),
  billed_usd: nanoToUsd(u.billedNano),
})

const tokenJson = (t: { id: string; label: string; prefix: string; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null }) => ({
  id: t.id,
  label: t.label,
  prefix: t.prefix,
  created_at: t.createdAt.toISOString(),
  last_used_at: t.lastUsedAt?.toISOString() ?? null,
  revoked_at: t.revokedAt?.toISOString() ?? null,
})

const param = (url: URL, name: string) => url.searchParams.get(name) || null

export function adminRestPlugin(deps: AdminDeps, keys: KeyCache, jwt: JwtConfig | null) {
  const admin = async (headers: Headers): Promise<Actor> => {
    const actor = await authenticateAdmin(deps.sql, jwt, headers)
    if (!actor) throw new Unauthenticated()
    return actor
  }

  return new Elysia({ name: 'admin-rest' })
    .post(
      '/v1/auth/tokens',
      async ({ request, set }) => {
        const actor = await admin(request.headers)
        if (actor.via !== 'jwt') throw new Forbidden('Mint access tokens with a dashboard session token (JWT), not with another access token.')
        const body = await readJsonObject(request, 64 * 1024)
        if (typeof body.label !== 'string') throw new InvalidRequest('label: required, a string', 'label', 'validation_failed')
        const { token, record } = await mintPat(deps, actor, body.label)
        set.status = 201
        return { id: record.id, token, label: record.label, created_at: record.createdAt.toISOString() }
      },
      { parse: 'none', detail: docs.mintToken },
    )
    .get('/v1/auth/tokens', async ({ request }) => ({ data: (await listPats(deps, await admin(request.headers))).map(tokenJson) }), { detail: docs.listTokens })
    .delete('/v1/auth/tokens/:id', async ({ request, params }) => tokenJson(await revokePat(deps, await admin(request.headers), params.id)), { detail: docs.revokeToken })
    .get(
      '/v1/dashboard/client/me/usage',
      async ({ request }) => {
        const { ctx } = await authenticate(keys, request.headers, Date.now())
        const url = new URL(request.url)
        const { window, report } = await clientUsage(deps.sql, ctx.clientId, ctx.firmId, param(url, 'from'), param(url, 'to'))
        return {
          client_id: ctx.clientId,
          from: window.fromLabel,
          to: window.toLabel,
          ...totalsJson(report),
          by_model: report.byModel.map((m) => ({ model: m.model, ...totalsJson(m) })),
          by_day: report.byDay.map((d) => ({ date: d.date, ...totalsJson(d) })),
        }
      },
      { detail: docs.clientUsage },
    )
    .get(
      '/v1/export/usage',
      async ({ request }) => {
        const url = new URL(request.url)
        // A client key is read as the proxy reads it (X-Viapi-Key first), so the same headers mean the same caller.
        const clientKey = extractKey(request.headers)
        let scope: string | null
        let clientId: string | null
        let timezone = 'UTC'
        if (clientKey?.startsWith(KEY_PREFIX)) {
          const { ctx } = await authenticate(keys, request.headers, Date.now())
          scope = ctx.firmId
          clientId = ctx.clientId
          timezone = (await getFirm(deps.sql, ctx.firmId))?.timezone ?? 'UTC'
        } else {
          const actor = await admin(request.headers)
          scope = scopeOf(actor) ?? param(url, 'firm_id')
          clientId = param(url, 'client_id')
          if (clientId) found(await getClient(deps.sql, scopeOf(actor), clientId), 'client')
          const firmId = scope ?? actor.firmId
          if (firmId) timezone = (await getFirm(deps.sql, firmId))?.timezone ?? 'UTC'
        }
        const window = await resolveWindow(deps.sql, timezone, param(url, 'from'), param(url, 'to'))
        const pages = exportUsage(deps.sql, { scope, clientId, window })
        const enc = new TextEncoder()
        let headerSent = false
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (!headerSent) {
              headerSent = true
              controller.enqueue(enc.encode(USAGE_CSV_HEADER + '\r\n'))
              return
            }
            const next = await pages.next()
            if (next.done) controller.close()
            else controller.enqueue(enc.encode(next.value.map((r) => usageCsvLine(r) + '\r\n').join('')))
          },
          async cancel() {
            await pages.return(undefined)
          },
        })
        return new Response(body, {
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': `attachment; filename="usage-${window.fromLabel.slice(0, 10)}-${window.toLabel.slice(0, 10)}.csv"`,
          },
        })
      },
      { detail: docs.exportUsage },
    )
}
