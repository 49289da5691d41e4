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
}

/** Mints a token; the secret is returned here once and never stored. */
export async function mintAccessToken(sql: Sql, input: { userId: string; label: string }): Promise<{ token: string; record: AccessToken }> {
  const token = PAT_PREFIX + randomBase62(40)
  const [row] = await sql<{ id: string; user_id: string; label: string; prefix: string; created_at: Date }[]>`
    insert into access_tokens (id, user_id, label, token_hash, prefix)
    values (${newId('pat')}, ${input.userId}, ${input.label}, ${hashSecret(token)}, ${secretPrefix(token)})
    returning id, user_id, label, prefix, created_at`
  const r = row!
  return { token, record: { id: r.id, userId: r.user_id, label: r.label, prefix: r.prefix, createdAt: r.created_at } }
}
