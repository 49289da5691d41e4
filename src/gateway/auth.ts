/** @module Client key authentication for the proxy: header extraction, cache lookup, status and expiry. */
import { InvalidApiKey, KeyExpired, KeyRevoked, ServiceUnavailable } from '../shared/errors.ts'
import { describeError, log } from '../shared/log.ts'
import { hashSecret } from '../shared/secrets.ts'
import { KEY_PREFIX } from '../tenancy/keys.ts'
import type { KeyCache, KeyEntry } from './key-cache.ts'

/** The vi_live_ key from `X-Viapi-Key` or `Authorization: Bearer`, or null when neither carries one. */
export function extractKey(headers: Headers): string | null {
  const direct = headers.get('x-viapi-key')
  if (direct) return direct.trim()
  const auth = headers.get('authorization')
  if (!auth) return null
  const m = /^Bearer\s+(\S+)\s*$/i.exec(auth)
  return m ? m[1]! : null
}

/**
 * Resolves the caller's key; throws the typed 401/503 errors. No database round trip when the key is cached, and
 * then no promise either (the proxy's hot path skips an await); callers inside async functions may await it as is.
 */
export function authenticate(keys: KeyCache, headers: Headers, now: number): KeyEntry | Promise<KeyEntry> {
  const secret = extractKey(headers)
  if (!secret) throw new InvalidApiKey('You did not provide an API key. Pass it as "Authorization: Bearer vi_live_..." or "X-Viapi-Key: vi_live_...".')
  if (!secret.startsWith(KEY_PREFIX) || secret.length < KEY_PREFIX.length + 32) throw new InvalidApiKey()
  const hash = hashSecret(secret)
  const entry = keys.peek(hash)
  return entry === undefined ? loadEntry(keys, hash, now) : usable(entry, now)
}

async function loadEntry(keys: KeyCache, hash: string, now: number): Promise<KeyEntry> {
  let entry: KeyEntry | null
  try {
    entry = await keys.load(hash)
  } catch (err) {
    // Unknown key and no database: say so, never claim the key is wrong.
    log.error('key lookup failed', { error: describeError(err) })
    throw new ServiceUnavailable('The gateway cannot verify this key right now; retry shortly.', 'auth_unavailable')
  }
  return usable(entry, now)
}

function usable(entry: KeyEntry | null, now: number): KeyEntry {
  if (!entry) throw new InvalidApiKey()
  if (entry.ctx.status === 'revoked') throw new KeyRevoked()
  if (entry.ctx.expiresAt !== null && now >= entry.ctx.expiresAt) throw new KeyExpired()
  return entry
}
