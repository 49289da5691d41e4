/** @module Prefixed ULIDs: sortable by creation time, 26 Crockford base32 characters after the prefix. */

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

export type IdPrefix = 'firm' | 'usr' | 'cli' | 'key' | 'rte' | 'req' | 'pat' | 'evt' | 'job' | 'aud' | 'led' | 'vid'

let lastTime = -1
const lastRandom = new Uint8Array(16)

/**
 * A ULID (48-bit ms timestamp + 80 random bits), monotonic within a millisecond in this process (the random part
 * of the previous id plus one), so ids made in one transaction sort in the order they were made.
 */
export function ulid(now: number = Date.now()): string {
  let out = ''
  let t = now
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out
    t = Math.floor(t / 32)
  }
  if (now === lastTime) {
    for (let i = 15; i >= 0; i--) {
      lastRandom[i] = (lastRandom[i]! + 1) & 31
      if (lastRandom[i] !== 0) break
    }
  } else {
    crypto.getRandomValues(lastRandom)
    for (let i = 0; i < 16; i++) lastRandom[i]! &= 31
    // Leave headroom so increments within a millisecond never wrap.
    lastRandom[0]! &= 15
    lastTime = now
  }
  for (let i = 0; i < 16; i++) out += ALPHABET[lastRandom[i]!]
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
