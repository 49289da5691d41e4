/** @module Prefixed ULIDs: sortable by creation time, 26 Crockford base32 characters after the prefix. */

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

export type IdPrefix = 'firm' | 'usr' | 'cli' | 'key' | 'rte' | 'req' | 'pat' | 'evt' | 'job' | 'aud' | 'led' | 'vid'

/** A ULID (48-bit ms timestamp + 80 random bits). */
export function ulid(now: number = Date.now()): string {
  let out = ''
  let t = now
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out
    t = Math.floor(t / 32)
  }
  const rand = crypto.getRandomValues(new Uint8Array(16))
  for (let i = 0; i < 16; i++) out += ALPHABET[rand[i]! & 31]
  return out
}

export function newId(prefix: IdPrefix, now?: number): string {
  return `${prefix}_${ulid(now)}`
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** Uniform random base62 string (rejection sampling keeps every character equally likely). */
export function randomBase62(length: number): string {
  let out = ''
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2))
    for (const b of bytes) {
      if (b < 248 && out.length < length) out += BASE62[b % 62]
    }
  }
  return out
}
