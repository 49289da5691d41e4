/** @module Owns the api_keys table: client keys (vi_live_), stored as a SHA-256 hash and a 12-character prefix. */
import type { Sql } from '../shared/db.ts'
import { newId, randomBase62 } from '../shared/ids.ts'
import { hashSecret, secretPrefix } from '../shared/secrets.ts'
import { inFirm, type FirmScope } from './scope.ts'

export const KEY_PREFIX = 'vi_live_'

export type KeyStatus = 'active' | 'revoked'
export type Enforcement = 'hard' | 'soft'

export interface ApiKey {
  id: string
  firmId: string
  clientId: string
  label: string
  prefix: string
  status: KeyStatus
  monthlyCapNano: bigint | null
  capClamped: boolean
  enforcement: Enforcement
  allowedModels: string[] | null
  rpm: number | null
  rpd: number | null
  expiresAt: Date | null
  createdAt: Date
  revokedAt: Date | null
}

/** The guardrails a key carries; every field optional on mint and update. */
export interface KeyGuardrails {
  label?: string
  monthlyCapNano?: bigint | null
  capClamped?: boolean
  enforcement?: Enforcement
  allowedModels?: string[] | null
  rpm?: number | null
  rpd?: number | null
  expiresAt?: Date | null
}

/** What the gateway needs to admit a request: the key, its client, their limits and the markup in force. */
export interface KeyContext {
  keyId: string
  keyPrefix: string
  clientId: string
  firmId: string
  status: KeyStatus
  expiresAt: number | null
  /** The key's allowlist and the client's; a model must pass both. */
  allowedModels: string[] | null
  clientAllowedModels: string[] | null
  markupBps: number
  keyRpm: number | null
  keyRpd: number | null
  clientRpm: number | null
  clientRpd: number | null
  keyCapNano: bigint | null
  keyEnforcement: Enforcement
  clientLimitNano: bigint | null
  clientEnforcement: Enforcement
  alertThresholds: number[]
  billingMode: 'prepaid' | 'postpaid'
  timezone: string
}

interface KeyRow {
  id: string
  firm_id: string
  client_id: string
  label: string
  prefix: string
  status: KeyStatus
  monthly_cap_nano: bigint | null
  cap_clamped: boolean
  enforcement: Enforcement
  allowed_models: string[] | null
  rpm: number | null
  rpd: number | null
  expires_at: Date | null
  created_at: Date
  revoked_at: Date | null
}

const COLUMNS = 'id, firm_id, client_id, label, prefix, status, monthly_cap_nano, cap_clamped, enforcement, allowed_models, rpm, rpd, expires_at, created_at, revoked_at'

const toKey = (r: KeyRow): ApiKey => ({
  id: r.id,
  firmId: r.firm_id,
  clientId: r.client_id,
  label: r.label,
  prefix: r.prefix,
  status: r.status,
  monthlyCapNano: r.monthly_cap_nano,
  capClamped: r.cap_clamped,
  enforcement: r.enforcement,
  allowedModels: r.allowed_models,
  rpm: r.rpm,
  rpd: r.rpd,
  expiresAt: r.expires_at,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
})

function columnsOf(g: KeyGuardrails): Record<string, unknown> {
  const set: Record<string, unknown> = {}
  if (g.label !== undefined) set.label = g.label
  if (g.monthlyCapNano !== undefined) set.monthly_cap_nano = g.monthlyCapNano
  if (g.capClamped !== undefined) set.cap_clamped = g.capClamped
  if (g.enforcement !== undefined) set.enforcement = g.enforcement
  if (g.allowedModels !== undefined) set.allowed_models = g.allowedModels
  if (g.rpm !== undefined) set.rpm = g.rpm
  if (g.rpd !== undefined) set.rpd = g.rpd
  if (g.expiresAt !== undefined) set.expires_at = g.expiresAt
  return set
}

/** Mints a key for a client; the secret is returned here once and never stored. */
export async function mintKey(sql: Sql, input: { firmId: string; clientId: string } & KeyGuardrails): Promise<{ secret: string; key: ApiKey }> {
  const secret = KEY_PREFIX + randomBase62(40)
  const row = {
    id: newId('key'),
    firm_id: input.firmId,
    client_id: input.clientId,
    key_hash: hashSecret(secret),
    prefix: secretPrefix(secret),
    label: '',
    ...columnsOf(input),
  }
  const [r] = await sql<KeyRow[]>`insert into api_keys ${sql(row)} returning ${sql.unsafe(COLUMNS)}`
  return { secret, key: toKey(r!) }
}

export async function getKey(sql: Sql, scope: FirmScope, id: string): Promise<ApiKey | null> {
  const [r] = await sql<KeyRow[]>`select ${sql.unsafe(COLUMNS)} from api_keys where id = ${id} ${inFirm(sql, scope)}`
  return r ? toKey(r) : null
}

export async function listKeys(sql: Sql, scope: FirmScope, clientId: string, page: { after: string | null; limit: number }): Promise<ApiKey[]> {
  const rows = await sql<KeyRow[]>`
    select ${sql.unsafe(COLUMNS)} from api_keys
    where client_id = ${clientId} ${inFirm(sql, scope)} ${page.after ? sql`and id > ${page.after}` : sql``}
    order by id limit ${page.limit}`
  return rows.map(toKey)
}

export async function keysByIds(sql: Sql, ids: readonly string[]): Promise<ApiKey[]> {
  if (ids.length === 0) return []
  return (await sql<KeyRow[]>`select ${sql.unsafe(COLUMNS)} from api_keys where id in ${sql(ids)}`).map(toKey)
}

export async function updateKey(sql: Sql, scope: FirmScope, id: string, patch: KeyGuardrails): Promise<ApiKey | null> {
  const set = columnsOf(patch)
  if (Object.keys(set).length === 0) return getKey(sql, scope, id)
  const [r] = await sql<KeyRow[]>`update api_keys set ${sql(set)} where id = ${id} ${inFirm(sql, scope)} returning ${sql.unsafe(COLUMNS)}`
  return r ? toKey(r) : null
}

export async function revokeKey(sql: Sql, scope: FirmScope, id: string): Promise<ApiKey | null> {
  const [r] = await sql<KeyRow[]>`
    update api_keys set status = 'revoked', revoked_at = coalesce(revoked_at, now()) where id = ${id} ${inFirm(sql, scope)}
    returning ${sql.unsafe(COLUMNS)}`
  return r ? toKey(r) : null
}

/** One read on a cache miss: the key with its client's limits, spending limit, firm markup and timezone. */
export async function findKeyContext(sql: Sql, keyHash: string): Promise<KeyContext | null> {
  const [r] = await sql<
    {
      id: string
      prefix: string
      client_id: string
      firm_id: string
      status: KeyStatus
      expires_at: Date | null
      allowed_models: string[] | null
      client_allowed_models: string[] | null
      markup_bps: number
      rpm: number | null
      rpd: number | null
      client_rpm: number | null
      client_rpd: number | null
      monthly_cap_nano: bigint | null
      enforcement: Enforcement
      monthly_limit_nano: bigint | null
      limit_enforcement: Enforcement | null
      alert_thresholds: number[] | null
      billing_mode: 'prepaid' | 'postpaid'
      timezone: string
    }[]
  >`
    select k.id, k.prefix, k.client_id, k.firm_id, k.status, k.expires_at, k.allowed_models, c.allowed_models as client_allowed_models,
           coalesce(c.markup_bps, f.markup_bps) as markup_bps, k.rpm, k.rpd, c.rpm as client_rpm, c.rpd as client_rpd,
           k.monthly_cap_nano, k.enforcement, s.monthly_limit_nano, s.enforcement as limit_enforcement, s.alert_thresholds,
           c.billing_mode, f.timezone
    from api_keys k join clients c on c.id = k.client_id join firms f on f.id = k.firm_id
    left join spending_limits s on s.client_id = k.client_id
    where k.key_hash = ${keyHash}`
  if (!r) return null
  return {
    keyId: r.id,
    keyPrefix: r.prefix,
    clientId: r.client_id,
    firmId: r.firm_id,
    status: r.status,
    expiresAt: r.expires_at ? r.expires_at.getTime() : null,
    allowedModels: r.allowed_models,
    clientAllowedModels: r.client_allowed_models,
    markupBps: r.markup_bps,
    keyRpm: r.rpm,
    keyRpd: r.rpd,
    clientRpm: r.client_rpm,
    clientRpd: r.client_rpd,
    keyCapNano: r.monthly_cap_nano,
    keyEnforcement: r.enforcement,
    clientLimitNano: r.monthly_limit_nano,
    clientEnforcement: r.limit_enforcement ?? 'hard',
    alertThresholds: r.alert_thresholds ?? [],
    billingMode: r.billing_mode,
    timezone: r.timezone,
  }
}
