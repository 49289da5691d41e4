/**
 * @module The OAuth 2.1 authorization server for MCP clients: metadata (RFC 9728, RFC 8414), dynamic client
 * registration (RFC 7591), authorization code with PKCE (S256 only) and the resource parameter, a server-rendered
 * sign-in and consent page that work without JavaScript, token exchange with rotating refresh tokens, revocation.
 * Firm admins sign in with email and password (or a dashboard session token when JWTs are configured).
 */
import { Elysia } from 'elysia'
import { actorFromJwt, type JwtConfig } from '../../admin/auth.ts'
import type { Sql } from '../../shared/db.ts'
import { checkPassword, getUser, type User } from '../../tenancy/users.ts'
import type { OAuthIssuer } from './issuer.ts'
import { publicOrigin } from '../../shared/origin.ts'
import { getClient, registerClient, revokeRefresh, saveCode, takeCode } from './store.ts'

const CODE_TTL_MS = 5 * 60_000
const SCOPE = 'viapi'
const MAX_FAILURES = 10
const FAILURE_WINDOW_MS = 15 * 60_000

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function page(title: string, body: string, status = 200): Response {
  return new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)} · Viapi</title>` +
      `<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem;color:#111}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box}button{margin:1rem .5rem 0 0;padding:.5rem 1rem}.err{color:#b00020}.muted{color:#555}</style></head>` +
      `<body><h1>${esc(title)}</h1>${body}</body></html>`,
    { status, headers: { 'content-type': 'text/html; charset=utf-8', 'x-frame-options': 'DENY', 'cache-control': 'no-store' } },
  )
}

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))
  return Buffer.from(digest).toString('base64url')
}

function oauthError(error: string, description: string, status = 400): Response {
  return Response.json({ error, error_description: description }, { status, headers: { 'cache-control': 'no-store' } })
}

async function formOrJson(request: Request): Promise<Record<string, string>> {
  const type = request.headers.get('content-type') ?? ''
  const text = await request.text()
  if (type.includes('application/json')) {
    try {
      const o = JSON.parse(text) as Record<string, unknown>
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? JSON.stringify(v) : String(v)]))
    } catch {
      return {}
    }
  }
  return Object.fromEntries(new URLSearchParams(text))
}

export function oauthPlugin(o: { sql: Sql; issuer: OAuthIssuer; jwt: JwtConfig | null; env: Record<string, string | undefined> }) {
  const { sql, issuer, env } = o
  const failures = new Map<string, { count: number; resetAt: number }>()
  const limited = (email: string) => {
    const f = failures.get(email.toLowerCase())
    return f !== undefined && f.resetAt > Date.now() && f.count >= MAX_FAILURES
  }
  const failed = (email: string) => {
    const k = email.toLowerCase()
    const f = failures.get(k)
    if (!f || f.resetAt < Date.now()) failures.set(k, { count: 1, resetAt: Date.now() + FAILURE_WINDOW_MS })
    else f.count++
  }

  const resourceMeta = ({ request }: { request: Request }) => {
    const origin = publicOrigin(request, env)
    return { resource: `${origin}/mcp`, authorization_servers: [origin], bearer_methods_supported: ['header'], scopes_supported: [SCOPE], resource_name: 'Viapi control plane' }
  }

  const signInForm = (txn: string, clientName: string, error?: string) =>
    page(
      'Sign in to Viapi',
      `<p class="muted">${esc(clientName || 'An application')} wants to manage your firm through Viapi.</p>` +
        (error ? `<p class="err">${esc(error)}</p>` : '') +
        `<form method="post" action="/oauth/authorize"><input type="hidden" name="txn" value="${esc(txn)}">` +
        `<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required>` +
        `<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">` +
        (o.jwt ? `<label for="token">…or a dashboard session token</label><input id="token" name="token" type="password">` : '') +
        `<button type="submit">Sign in</button></form>`,
      error ? 401 : 200,
    )

  const consentForm = (txn: string, clientName: string, user: User) =>
    page(
      'Allow access?',
      `<p><strong>${esc(clientName || 'An application')}</strong> asks to act as <strong>${esc(user.email)}</strong>: list and create clients, mint and revoke API keys, set routes, limits and billing links for your firm.</p>` +
        `<form method="post" action="/oauth/consent"><input type="hidden" name="txn" value="${esc(txn)}">` +
        `<button name="decision" value="allow" type="submit">Allow</button><button name="decision" value="deny" type="submit">Deny</button></form>`,
    )

  const redirectWith = (uri: string, params: Record<string, string>) => {
    const u = new URL(uri)
    for (const [k, v] of Object.entries(params)) if (v) u.searchParams.set(k, v)
    return new Response(null, { status: 302, headers: { location: u.toString(), 'cache-control': 'no-store' } })
  }

  return new Elysia({ name: 'oauth' })
    .get('/.well-known/oauth-protected-resource', resourceMeta, { detail: { hide: true } })
    .get('/.well-known/oauth-protected-resource/mcp', resourceMeta, { detail: { hide: true } })
    .get(
      '/.well-known/oauth-authorization-server',
      ({ request }) => {
        const origin = publicOrigin(request, env)
        return {
          issuer: origin,
          authorization_endpoint: `${origin}/oauth/authorize`,
          token_endpoint: `${origin}/oauth/token`,
          registration_endpoint: `${origin}/oauth/register`,
          revocation_endpoint: `${origin}/oauth/revoke`,
          response_types_supported: ['code'],
          grant_types_supported: ['authorization_code', 'refresh_token'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['none'],
          scopes_supported: [SCOPE],
        }
      },
      { detail: { hide: true } },
    )
    .post(
      '/oauth/register',
      async ({ request }) => {
        let body: { redirect_uris?: unknown; client_name?: unknown }
        try {
          body = (await request.json()) as typeof body
        } catch {
          return oauthError('invalid_client_metadata', 'The body must be JSON.')
        }
        const uris = Array.isArray(body.redirect_uris) ? body.redirect_uris.filter((u): u is string => typeof u === 'string') : []
        const valid = uris.length > 0 && uris.every((u) => URL.canParse(u) && ['https:', 'http:'].includes(new URL(u).protocol) && (new URL(u).protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(new URL(u).hostname)))
        if (!valid) return oauthError('invalid_redirect_uri', 'redirect_uris must be https URLs (http only for localhost).')
        const c = await registerClient(sql, { name: typeof body.client_name === 'string' ? body.client_name.slice(0, 100) : '', redirectUris: uris })
        return new Response(
          JSON.stringify({ client_id: c.id, client_name: c.name, redirect_uris: c.redirectUris, token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], client_id_issued_at: Math.floor(Date.now() / 1000) }),
          { status: 201, headers: { 'content-type': 'application/json' } },
        )
      },
      { parse: 'none', detail: { hide: true } },
    )
    .get(
      '/oauth/authorize',
      async ({ request }) => {
        const q = new URL(request.url).searchParams
        const client = await getClient(sql, q.get('client_id') ?? '')
        const redirectUri = q.get('redirect_uri') ?? ''
        if (!client) return page('Cannot sign in', '<p class="err">Unknown application (client_id).</p>', 400)
        if (!client.redirectUris.includes(redirectUri)) return page('Cannot sign in', '<p class="err">The redirect_uri is not registered for this application.</p>', 400)
        const state = q.get('state') ?? ''
        const fail = (error: string, description: string) => redirectWith(redirectUri, { error, error_description: description, state })
        if (q.get('response_type') !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported.')
        const challenge = q.get('code_challenge') ?? ''
        if (!challenge || q.get('code_challenge_method') !== 'S256') return fail('invalid_request', 'PKCE with code_challenge_method=S256 is required.')
        const resource = q.get('resource') ?? `${publicOrigin(request, env)}/mcp`
        if (resource !== `${publicOrigin(request, env)}/mcp`) return fail('invalid_target', 'Unknown resource.')
        const txn = await issuer.sealTxn({ client_id: client.id, client_name: client.name, redirect_uri: redirectUri, state, challenge, resource, scope: SCOPE })
        return signInForm(txn, client.name)
      },
      { detail: { hide: true } },
    )
    .post(
      '/oauth/authorize',
      async ({ request }) => {
        const f = await formOrJson(request)
        const t = await issuer.openTxn(f.txn ?? '')
        if (!t || t.user_id) return page('Cannot sign in', '<p class="err">This sign-in has expired; start again from your application.</p>', 400)
        const email = (f.email ?? '').trim()
        let user: User | null = null
        if (f.token && o.jwt) {
          const actor = await actorFromJwt(sql, o.jwt, f.token).catch(() => null)
          user = actor ? await getUser(sql, actor.userId) : null
        } else {
          if (limited(email)) return page('Too many attempts', '<p class="err">Too many failed sign-ins for this account; try again in a few minutes.</p>', 429)
          user = email && f.password ? await checkPassword(sql, email, f.password) : null
          if (!user) failed(email)
        }
        if (!user) return signInForm(f.txn!, t.client_name ?? '', 'Wrong email or password.')
        if (user.role === 'platform_admin' || !user.firmId) {
          return page('Cannot sign in here', '<p class="err">Platform admin accounts cannot sign in here. Sign in with a firm admin account.</p>', 403)
        }
        const sealed = await issuer.sealTxn({ ...t, user_id: user.id })
        return consentForm(sealed, t.client_name ?? '', user)
      },
      { parse: 'none', detail: { hide: true } },
    )
    .post(
      '/oauth/consent',
      async ({ request }) => {
        const f = await formOrJson(request)
        const t = await issuer.openTxn(f.txn ?? '')
        if (!t || !t.user_id) return page('Cannot continue', '<p class="err">This sign-in has expired; start again from your application.</p>', 400)
        if (f.decision !== 'allow') return redirectWith(t.redirect_uri!, { error: 'access_denied', error_description: 'The user denied access.', state: t.state ?? '' })
        const code = await saveCode(sql, { clientId: t.client_id!, userId: t.user_id, redirectUri: t.redirect_uri!, codeChallenge: t.challenge!, resource: t.resource!, scope: t.scope ?? SCOPE }, CODE_TTL_MS)
        return redirectWith(t.redirect_uri!, { code, state: t.state ?? '' })
      },
      { parse: 'none', detail: { hide: true } },
    )
    .post(
      '/oauth/token',
      async ({ request }) => {
        const f = await formOrJson(request)
        const origin = publicOrigin(request, env)
        if (f.grant_type === 'authorization_code') {
          const g = await takeCode(sql, f.code ?? '')
          if (!g) return oauthError('invalid_grant', 'The code is unknown, expired or already used.')
          if (g.clientId !== f.client_id || g.redirectUri !== f.redirect_uri) return oauthError('invalid_grant', 'client_id or redirect_uri does not match the code.')
          if (!f.code_verifier || (await s256(f.code_verifier)) !== g.codeChallenge) return oauthError('invalid_grant', 'The PKCE code_verifier does not match.')
          if (f.resource && f.resource !== g.resource) return oauthError('invalid_target', 'resource does not match the authorization.')
          const user = await getUser(sql, g.userId)
          if (!user || user.role === 'platform_admin') return oauthError('invalid_grant', 'The account cannot use this server.')
          return Response.json(await issuer.issue(user, { clientId: g.clientId, resource: g.resource, scope: g.scope, issuer: origin }), { headers: { 'cache-control': 'no-store' } })
        }
        if (f.grant_type === 'refresh_token') {
          const r = await issuer.refresh(f.refresh_token ?? '', f.client_id ?? '', origin)
          if (!r) return oauthError('invalid_grant', 'The refresh token is unknown, expired, revoked or already used.')
          return Response.json(r, { headers: { 'cache-control': 'no-store' } })
        }
        return oauthError('unsupported_grant_type', 'Use authorization_code or refresh_token.')
      },
      { parse: 'none', detail: { hide: true } },
    )
    .post(
      '/oauth/revoke',
      async ({ request }) => {
        const f = await formOrJson(request)
        if (f.token) await revokeRefresh(sql, f.token)
        return new Response(null, { status: 200 })
      },
      { parse: 'none', detail: { hide: true } },
    )
}
