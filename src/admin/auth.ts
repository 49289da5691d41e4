/**
 * @module Admin authentication: dashboard JWTs (HS256 shared secret, or RS256/ES256 from a JWKS URL, as Supabase
 * issues them) and personal access tokens (vi_pat_). Client keys (vi_live_) never authenticate here.
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose'
import type { Sql } from '../shared/db.ts'
import { KEY_PREFIX } from '../tenancy/keys.ts'
import { PAT_PREFIX, userIdForToken } from '../tenancy/tokens.ts'
import { findUserByEmail, getUser, type User } from '../tenancy/users.ts'
import { Unauthenticated, type Actor } from './actor.ts'

export interface JwtConfig {
  key: Uint8Array | JWTVerifyGetKey
  algorithms: string[]
  issuer: string | undefined
  audience: string
}

/** Null when neither VIAPI_JWT_SECRET nor VIAPI_JWKS_URL is set: dashboard tokens are then refused. */
export function jwtConfig(env: Record<string, string | undefined>): JwtConfig | null {
  const issuer = env.VIAPI_JWT_ISSUER || undefined
  const audience = env.VIAPI_JWT_AUDIENCE || 'authenticated'
  if (env.VIAPI_JWKS_URL) return { key: createRemoteJWKSet(new URL(env.VIAPI_JWKS_URL)), algorithms: ['RS256', 'ES256'], issuer, audience }
  if (env.VIAPI_JWT_SECRET) return { key: new TextEncoder().encode(env.VIAPI_JWT_SECRET), algorithms: ['HS256'], issuer, audience }
  return null
}

export function bearer(headers: Headers): string | null {
  const auth = headers.get('authorization')
  const m = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null
  return m ? m[1]! : null
}

const toActor = (u: User, via: Actor['via']): Actor => ({ userId: u.id, email: u.email, role: u.role, firmId: u.firmId, via })

/** Verifies a dashboard JWT and maps its email claim to a user. */
export async function actorFromJwt(sql: Sql, cfg: JwtConfig | null, token: string): Promise<Actor> {
  if (!cfg) throw new Unauthenticated('Dashboard tokens are not accepted: this gateway has no VIAPI_JWT_SECRET or VIAPI_JWKS_URL configured.')
  let email: unknown
  try {
    const opts = { algorithms: cfg.algorithms, audience: cfg.audience, ...(cfg.issuer ? { issuer: cfg.issuer } : {}) }
    const { payload } = cfg.key instanceof Uint8Array ? await jwtVerify(token, cfg.key, opts) : await jwtVerify(token, cfg.key, opts)
    email = payload.email
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new Unauthenticated('The dashboard token has expired; sign in again.')
    if (err instanceof joseErrors.JWTClaimValidationFailed) throw new Unauthenticated(`The dashboard token was rejected: its "${err.claim}" claim is not accepted here.`)
    throw new Unauthenticated('The dashboard token could not be verified.')
  }
  if (typeof email !== 'string' || email === '') throw new Unauthenticated('The dashboard token has no email claim.')
  const user = await findUserByEmail(sql, email)
  if (!user) throw new Unauthenticated('No Viapi admin account has the email in this token.')
  return toActor(user, 'jwt')
}

export async function actorFromPat(sql: Sql, token: string): Promise<Actor> {
  const userId = await userIdForToken(sql, token)
  const user = userId ? await getUser(sql, userId) : null
  if (!user) throw new Unauthenticated('This access token is unknown or revoked.')
  return toActor(user, 'pat')
}

/** The caller, from `Authorization: Bearer`; null when no credentials were sent; throws when they are bad. */
export async function authenticateAdmin(sql: Sql, cfg: JwtConfig | null, headers: Headers): Promise<Actor | null> {
  const token = bearer(headers) ?? headers.get('x-viapi-key')
  if (!token) return null
  if (token.startsWith(KEY_PREFIX)) throw new Unauthenticated('Client API keys (vi_live_) cannot use the admin API; use a dashboard token or a vi_pat_ access token.')
  if (token.startsWith(PAT_PREFIX)) return actorFromPat(sql, token)
  return actorFromJwt(sql, cfg, token)
}
