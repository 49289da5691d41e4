/**
 * @module Secrets at rest: AES-256-GCM under VIAPI_SECRET_KEY (32 bytes, hex or base64). A sealed value names the
 * key it was sealed with (a fingerprint), so a rotation can re-seal everything while both keys are known.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'


/** A malformed key setting; the config loader reports it like any bad setting. */
export class SecretKeyError extends Error {}

export interface SealingKey {
  id: string
  key: Buffer
}

/** Parses a 32-byte key written as 64 hex characters or base64. */
export function parseSecretKey(raw: string, name = 'VIAPI_SECRET_KEY'): SealingKey {
  const t = raw.trim()
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64')
  if (key.length !== 32) throw new SecretKeyError(`${name} must be 32 bytes, as 64 hex characters or base64`)
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 8), key }
}

export function seal(k: SealingKey, plain: string): string {
  const iv = randomBytes(12)
  const c = createCipheriv('aes-256-gcm', k.key, iv)
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()])
  return ['v1', k.id, iv.toString('base64'), body.toString('base64'), c.getAuthTag().toString('base64')].join(':')
}

export class UnsealError extends Error {}

/** Opens a sealed value with whichever of the keys sealed it. */
export function unseal(keys: SealingKey[], sealed: string): string {
  const [v, id, iv, body, tag] = sealed.split(':')
  const k = keys.find((x) => x.id === id)
  if (v !== 'v1' || !k || !iv || !body || !tag) throw new UnsealError(k ? 'malformed sealed value' : `sealed with an unknown key (${id})`)
  const d = createDecipheriv('aes-256-gcm', k.key, Buffer.from(iv, 'base64'))
  d.setAuthTag(Buffer.from(tag, 'base64'))
  return Buffer.concat([d.update(Buffer.from(body, 'base64')), d.final()]).toString('utf8')
}

export function sealedWith(sealed: string): string | undefined {
  return sealed.split(':')[1]
}

const isSealed = (stored: string) => stored.startsWith('v1:')

/** For secrets that work without a sealing key too (webhook signing secrets): sealed when a key is set, else as is. */
export function sealIfKeyed(keys: SealingKey[], plain: string): string {
  return keys[0] ? seal(keys[0], plain) : plain
}

/** Opens what sealIfKeyed stored: a sealed value with the keys, anything else (stored before a key was set) as is. */
export function openIfSealed(keys: SealingKey[], stored: string): string {
  return isSealed(stored) ? unseal(keys, stored) : stored
}

/** Whether a stored value needs re-sealing under `current`: sealed with another key, or not sealed at all. */
export function needsReseal(current: SealingKey, stored: string): boolean {
  return !isSealed(stored) || sealedWith(stored) !== current.id
}
