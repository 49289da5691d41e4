/**
 * @module Access tokens for /mcp: JWTs signed (HS256) with a key kept in the database (so every replica verifies
 * them), audience-bound to the /mcp resource, valid 15 minutes; refresh tokens are opaque, stored hashed, and
 * rotate on every use. Platform admins never get or use one.
 */
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose'
import type { Actor } from '../../admin/actor.ts'
import type { Sql } from '../../shared/db.ts'
import { getUser, type User } from '../../tenancy/users.ts'
import { saveRefresh, signingSecret, takeRefresh } from './store.ts'

export const ACCESS_TTL_S = 15 * 60
const REFRESH_TTL_MS = 30 * 86_400_000
const TXN_TTL_S = 10 * 60

export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  refresh_token: string
  scope: string
}

export class OAuthIssuer {
  private key: Uint8Array | null = null

  constructor(private readonly sql: Sql) {}

  private async secret(): Promise<Uint8Array> {
    this.key ??= new TextEncoder().encode(await signingSecret(this.sql))
    return this.key
  }

  async issue(user: User, g: { clientId: string; resource: string; scope: string; issuer: string }): Promise<TokenResponse> {
    const access = await new SignJWT({ use: 'access', client_id: g.clientId, scope: g.scope })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setSubject(user.id)
      .setIssuer(g.issuer)
      .setAudience(g.resource)
      .setIssuedAt()
      .setExpirationTime(`${ACCESS_TTL_S}s`)
      .sign(await this.secret())
    const refresh = await saveRefresh(this.sql, { clientId: g.clientId, userId: user.id, resource: g.resource, scope: g.scope }, REFRESH_TTL_MS)
    return { access_token: access, token_type: 'Bearer', expires_in: ACCESS_TTL_S, refresh_token: refresh, scope: g.scope }
  }

  /** Rotates a refresh token: the old one stops working, a new pair is issued. */
  async refresh(token: string, clientId: string, issuer: string): Promise<TokenResponse | null> {
    const g = await takeRefresh(this.sql, token, clientId)
    if (!g) return null
    const user = await getUser(this.sql, g.userId)
    if (!user || user.role === 'platform_admin') return null
    return this.issue(user, { clientId, resource: g.resource, scope: g.scope, issuer })
  }

  /** The caller behind an access token for `resource`; throws with a readable reason. */
  async verifyAccessToken(token: string, resource: string): Promise<Actor> {
    let sub: string | undefined
    try {
      const { payload } = await jwtVerify(token, await this.secret(), { audience: resource, algorithms: ['HS256'] })
      if (payload.use !== 'access') throw new Error('not an access token')
      sub = payload.sub
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new Error('The access token has expired.')
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw new Error('The access token is not for this resource.')
      throw new Error('The access token is invalid.')
    }
    const user = sub ? await getUser(this.sql, sub) : null
    if (!user || user.role === 'platform_admin' || !user.firmId) throw new Error('The access token is invalid.')
    return { userId: user.id, email: user.email, role: user.role, firmId: user.firmId, via: 'oauth' }
  }

  /** A signed, short-lived record of an authorization request between the sign-in and consent pages. */
  async sealTxn(t: Record<string, string>): Promise<string> {
    return new SignJWT(t).setProtectedHeader({ alg: 'HS256' }).setAudience('viapi-oauth-txn').setExpirationTime(`${TXN_TTL_S}s`).sign(await this.secret())
  }

  async openTxn(sealed: string): Promise<Record<string, string> | null> {
    try {
      const { payload } = await jwtVerify(sealed, await this.secret(), { audience: 'viapi-oauth-txn', algorithms: ['HS256'] })
      return payload as unknown as Record<string, string>
    } catch {
      return null
    }
  }
}
