/** @module Owns the provider_credentials table: a firm's own provider keys, sealed; only a hint is ever shown. */
import type { Sql } from '../shared/db.ts'

export interface StoredCredential {
  firmId: string
  provider: string
  secretEnc: string
  keyHint: string
  baseUrl: string | null
  createdAt: Date
  updatedAt: Date
}

interface Row {
  firm_id: string
  provider: string
  secret_enc: string
  key_hint: string
  base_url: string | null
  created_at: Date
  updated_at: Date
}

const toCred = (r: Row): StoredCredential => ({ firmId: r.firm_id, provider: r.provider, secretEnc: r.secret_enc, keyHint: r.key_hint, baseUrl: r.base_url, createdAt: r.created_at, updatedAt: r.updated_at })

export async function upsertCredential(sql: Sql, c: { firmId: string; provider: string; secretEnc: string; keyHint: string; baseUrl: string | null }): Promise<StoredCredential> {
  const [r] = await sql<Row[]>`
    insert into provider_credentials (firm_id, provider, secret_enc, key_hint, base_url) values (${c.firmId}, ${c.provider}, ${c.secretEnc}, ${c.keyHint}, ${c.baseUrl})
    on conflict (firm_id, provider) do update set secret_enc = excluded.secret_enc, key_hint = excluded.key_hint, base_url = excluded.base_url, updated_at = now()
    returning *`
  return toCred(r!)
}

export async function deleteCredential(sql: Sql, firmId: string, provider: string): Promise<StoredCredential | null> {
  const [r] = await sql<Row[]>`delete from provider_credentials where firm_id = ${firmId} and provider = ${provider} returning *`
  return r ? toCred(r) : null
}

export async function credentialsOfFirm(sql: Sql, firmId: string): Promise<StoredCredential[]> {
  return (await sql<Row[]>`select * from provider_credentials where firm_id = ${firmId} order by provider`).map(toCred)
}

export async function allCredentials(sql: Sql): Promise<StoredCredential[]> {
  return (await sql<Row[]>`select * from provider_credentials order by firm_id, provider`).map(toCred)
}

export async function resealCredential(sql: Sql, firmId: string, provider: string, secretEnc: string): Promise<void> {
  await sql`update provider_credentials set secret_enc = ${secretEnc} where firm_id = ${firmId} and provider = ${provider}`
}
