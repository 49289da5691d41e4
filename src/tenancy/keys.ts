/** @module Owns the api_keys table: client keys (vi_live_), stored as a SHA-256 hash and a 12-character prefix. */
import type { Sql } from '../shared/db.ts'
import { newId, randomBase62 } from '../shared/ids.ts'
import { hashSecret, secretPrefix } from '../shared/secrets.ts'

export const KEY_PREFIX = 'vi_live_'

export type KeyStatus = 'active' | 'revoked'

export interface ApiKey {
  id: string
  firmId: string
  clientId: string
  label: string
  prefix: string
  status: KeyStatus
  expiresAt: Date | null
  allowedModels: string[] | null
  createdAt: Date
}

/** What the gateway needs to admit a request: the key, its client and the markup in force. */
export interface KeyContext {
  keyId: string
  keyPrefix: string
  clientId: string
  firmId: string
  status: KeyStatus
  expiresAt: number | null
  allowedModels: string[] | null
  markupBps: number
}

interface KeyRow {
  id: string
  firm_id: string
  client_id: string
  label: string
  prefix: string
  status: KeyStatus
  expires_at: Date | null
  allowed_models: string[] | null
  created_at: Date
}

const toKey = (r: KeyRow): ApiKey => ({
  id: r.id,
  firmId: r.firm_id,
  clientId: r.client_id,
  label: r.label,
  prefix: r.prefix,
  status: r.status,
  expiresAt: r.expires_at,
  allowedModels: r.allowed_models,
  createdAt: r.created_at,
})

/** Mints a key for a client; the secret is returned here once and never stored. */
export async function mintKey(
  sql: Sql,
  input: { firmId: string; clientId: string; label?: string; expiresAt?: Date | null; allowedModels?: string[] | null },
): Promise<{ secret: string; key: ApiKey }> {
  const secret = KEY_PREFIX + randomBase62(40)
  const [row] = await sql<KeyRow[]>`
    insert into api_keys (id, firm_id, client_id, label, key_hash, prefix, expires_at, allowed_models)
    values (${newId('key')}, ${input.firmId}, ${input.clientId}, ${input.label ?? ''}, ${hashSecret(secret)},
            ${secretPrefix(secret)}, ${input.expiresAt ?? null}, ${input.allowedModels ?? null})
    returning id, firm_id, client_id, label, prefix, status, expires_at, allowed_models, created_at`
  return { secret, key: toKey(row!) }
}

export async function revokeKey(sql: Sql, id: string): Promise<ApiKey | null> {
  const [row] = await sql<KeyRow[]>`
    update api_keys set status = 'revoked', revoked_at = coalesce(revoked_at, now()) where id = ${id}
    returning id, firm_id, client_id, label, prefix, status, expires_at, allowed_models, created_at`
  return row ? toKey(row) : null
}

/** One read on a cache miss: the key with its client's and firm's markup. Null when no key has this hash. */
export async function findKeyContext(sql: Sql, keyHash: string): Promise<KeyContext | null> {
  const [row] = await sql<
    { id: string; prefix: string; client_id: string; firm_id: string; status: KeyStatus; expires_at: Date | null; allowed_models: string[] | null; markup_bps: number }[]
  >`
    select k.id, k.prefix, k.client_id, k.firm_id, k.status, k.expires_at, k.allowed_models,
           coalesce(c.markup_bps, f.markup_bps) as markup_bps
    from api_keys k join clients c on c.id = k.client_id join firms f on f.id = k.firm_id
    where k.key_hash = ${keyHash}`
  if (!row) return null
  return {
    keyId: row.id,
    keyPrefix: row.prefix,
    clientId: row.client_id,
    firmId: row.firm_id,
    status: row.status,
    expiresAt: row.expires_at ? row.expires_at.getTime() : null,
    allowedModels: row.allowed_models,
    markupBps: row.markup_bps,
  }
}
