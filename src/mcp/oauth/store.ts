/** @module Owns the oauth_* tables: registered clients, authorization codes, refresh tokens, the signing key. */
import type { Sql } from '../../shared/db.ts'
import { randomBase62 } from '../../shared/ids.ts'
import { hashSecret } from '../../shared/secrets.ts'

export interface OAuthClient {
  id: string
  name: string
  redirectUris: string[]
}

export async function registerClient(sql: Sql, c: { name: string; redirectUris: string[] }): Promise<OAuthClient> {
  const id = `mcp_${randomBase62(24)}`
  await sql`insert into oauth_clients (id, name, redirect_uris) values (${id}, ${c.name}, ${c.redirectUris})`
  return { id, name: c.name, redirectUris: c.redirectUris }
}

export async function getClient(sql: Sql, id: string): Promise<OAuthClient | null> {
  const [r] = await sql<{ id: string; name: string; redirect_uris: string[] }[]>`select * from oauth_clients where id = ${id}`
  return r ? { id: r.id, name: r.name, redirectUris: r.redirect_uris } : null
}

export interface CodeGrant {
  clientId: string
  userId: string
  redirectUri: string
  codeChallenge: string
  resource: string
  scope: string
}

export async function saveCode(sql: Sql, g: CodeGrant, ttlMs: number): Promise<string> {
  const code = randomBase62(43)
  await sql`
    insert into oauth_codes (code_hash, client_id, user_id, redirect_uri, code_challenge, resource, scope, expires_at)
    values (${hashSecret(code)}, ${g.clientId}, ${g.userId}, ${g.redirectUri}, ${g.codeChallenge}, ${g.resource}, ${g.scope}, ${new Date(Date.now() + ttlMs)})`
  return code
}

/** Redeems a code once: marks it used and returns its grant, or null if unknown, expired or already used. */
export async function takeCode(sql: Sql, code: string): Promise<CodeGrant | null> {
  const [r] = await sql<{ client_id: string; user_id: string; redirect_uri: string; code_challenge: string; resource: string; scope: string }[]>`
    update oauth_codes set used_at = now() where code_hash = ${hashSecret(code)} and used_at is null and expires_at > now()
    returning client_id, user_id, redirect_uri, code_challenge, resource, scope`
  return r ? { clientId: r.client_id, userId: r.user_id, redirectUri: r.redirect_uri, codeChallenge: r.code_challenge, resource: r.resource, scope: r.scope } : null
}

export async function saveRefresh(sql: Sql, g: { clientId: string; userId: string; resource: string; scope: string }, ttlMs: number): Promise<string> {
  const token = `vi_rt_${randomBase62(43)}`
  await sql`
    insert into oauth_refresh_tokens (token_hash, client_id, user_id, resource, scope, expires_at)
    values (${hashSecret(token)}, ${g.clientId}, ${g.userId}, ${g.resource}, ${g.scope}, ${new Date(Date.now() + ttlMs)})`
  return token
}

/** Uses a refresh token once (rotation): revokes it and returns its grant, or null. */
export async function takeRefresh(sql: Sql, token: string, clientId: string): Promise<{ userId: string; resource: string; scope: string } | null> {
  const [r] = await sql<{ user_id: string; resource: string; scope: string }[]>`
    update oauth_refresh_tokens set revoked_at = now()
    where token_hash = ${hashSecret(token)} and client_id = ${clientId} and revoked_at is null and expires_at > now()
    returning user_id, resource, scope`
  return r ? { userId: r.user_id, resource: r.resource, scope: r.scope } : null
}

export async function revokeRefresh(sql: Sql, token: string): Promise<void> {
  await sql`update oauth_refresh_tokens set revoked_at = coalesce(revoked_at, now()) where token_hash = ${hashSecret(token)}`
}

/** The key access tokens are signed with, created by the first replica to need it. */
export async function signingSecret(sql: Sql): Promise<string> {
  await sql`insert into oauth_keys (id, secret) values ('access-token', ${randomBase62(64)}) on conflict (id) do nothing`
  const [r] = await sql<{ secret: string }[]>`select secret from oauth_keys where id = 'access-token'`
  return r!.secret
}
