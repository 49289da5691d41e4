/** @module Owns the access_tokens table: personal access tokens (vi_pat_) that authenticate admins. */
import type { Sql } from '../shared/db.ts'
import { newId, randomBase62 } from '../shared/ids.ts'
import { hashSecret, secretPrefix } from '../shared/secrets.ts'

export const PAT_PREFIX = 'vi_pat_'

export interface AccessToken {
  id: string
  userId: string
  label: string
  prefix: string
  createdAt: Date
  lastUsedAt: Date | null
  revokedAt: Date | null
}

interface Row {
  id: string
  user_id: string
  label: string
  prefix: string
  created_at: Date
  last_used_at: Date | null
  revoked_at: Date | null
}

const COLUMNS = 'id, user_id, label, prefix, created_at, last_used_at, revoked_at'
const toToken = (r: Row): AccessToken => ({
  id: r.id,
  userId: r.user_id,
  label: r.label,
  prefix: r.prefix,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
})

/** Mints a token; the secret is returned here once and never stored. */
export async function mintAccessToken(sql: Sql, input: { userId: string; label: string }): Promise<{ token: string; record: AccessToken }> {
  const token = PAT_PREFIX + randomBase62(40)
  const [row] = await sql<Row[]>`
    insert into access_tokens (id, user_id, label, token_hash, prefix)
    values (${newId('pat')}, ${input.userId}, ${input.label}, ${hashSecret(token)}, ${secretPrefix(token)})
    returning ${sql.unsafe(COLUMNS)}`
  return { token, record: toToken(row!) }
}

/** The user id a live token belongs to; marks it used . */
export async function userIdForToken(sql: Sql, token: string): Promise<string | null> {
  const [row] = await sql<{ user_id: string }[]>`
    update access_tokens set last_used_at = now()
    where token_hash = ${hashSecret(token)} and revoked_at is null
    returning user_id`
  return row?.user_id ?? null
}

export async function listAccessTokens(sql: Sql, userId: string): Promise<AccessToken[]> {
  return (await sql<Row[]>`select ${sql.unsafe(COLUMNS)} from access_tokens where user_id = ${userId} order by id`).map(toToken)
}

export async function revokeAccessToken(sql: Sql, userId: string, id: string): Promise<AccessToken | null> {
  const [row] = await sql<Row[]>`
    update access_tokens set revoked_at = coalesce(revoked_at, now()) where id = ${id} and user_id = ${userId}
    returning ${sql.unsafe(COLUMNS)}`
  return row ? toToken(row) : null
}
