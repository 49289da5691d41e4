/** @module Prefixed ULIDs: sortable by creation time, 26 Crockford base32 characters after the prefix. */

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

export type IdPrefix = 'firm' | 'usr' | 'cli' | 'key' | 'rte' | 'req' | 'pat' | 'evt' | 'job' | 'aud' | 'led' | 'vid'

const CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0))
let lastTime = -1
let lastTimePart = ''
const lastRandom = new Uint8Array(16)

/**
 * A ULID (48-bit ms timestamp + 80 random bits), monotonic within a millisecond in this process (the random part
 * of the previous id plus one), so ids made in one transaction sort in the order they were made. Every proxied
 * request takes one: the time part is encoded once per millisecond, the random part in one call.
 */
export function ulid(now: number = Date.now()): string {
  if (now === lastTime) {
    for (let i = 15; i >= 0; i--) {
      lastRandom[i] = (lastRandom[i]! + 1) & 31
      if (lastRandom[i] !== 0) break
    }
  } else {
    let t = now
    let timePart = ''
    for (let i = 0; i < 10; i++) {
      timePart = ALPHABET[t % 32] + timePart
      t = Math.floor(t / 32)
    }
    lastTimePart = timePart
    crypto.getRandomValues(lastRandom)
    for (let i = 0; i < 16; i++) lastRandom[i]! &= 31
    // Leave headroom so increments within a millisecond never wrap.
    lastRandom[0]! &= 15
    lastTime = now
  }
  const r = lastRandom
  return (
    lastTimePart +
    String.fromCharCode(
      CODES[r[0]!]!, CODES[r[1]!]!, CODES[r[2]!]!, CODES[r[3]!]!, CODES[r[4]!]!, CODES[r[5]!]!, CODES[r[6]!]!, CODES[r[7]!]!,
      CODES[r[8]!]!, CODES[r[9]!]!, CODES[r[10]!]!, CODES[r[11]!]!, CODES[r[12]!]!, CODES[r[13]!]!, CODES[r[14]!]!, CODES[r[15]!]!,
    )
  )
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
