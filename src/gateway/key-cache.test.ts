import { describe, expect, test } from 'bun:test'
import type { KeyContext } from '../tenancy/keys.ts'
import { KeyCache, type KeyEntry } from './key-cache.ts'

const ctx = (keyId: string, clientId = 'cli_1'): KeyContext => ({
  keyId,
  keyPrefix: 'vi_live_abcd',
  clientId,
  firmId: 'firm_1',
  status: 'active',
  expiresAt: null,
  allowedModels: null,
  clientAllowedModels: null,
  markupBps: 0,
  keyRpm: null,
  keyRpd: null,
  clientRpm: null,
  clientRpd: null,
  keyCapNano: null,
  keyEnforcement: 'hard',
  clientLimitNano: null,
  clientEnforcement: 'hard',
  alertThresholds: [],
  billingMode: 'postpaid',
  timezone: 'UTC',
})

function setup(db: Map<string, KeyEntry>) {
  let now = 1_000_000
  let loads = 0
  let fail = false
  const cache = new KeyCache(
    async (h) => {
      loads++
      if (fail) throw new Error('db down')
      return db.get(h) ?? null
    },
    { ttlMs: 30_000, negativeTtlMs: 2_000, now: () => now },
  )
  return {
    cache,
    advance: (ms: number) => (now += ms),
    loads: () => loads,
    setFail: (f: boolean) => (fail = f),
  }
}

describe('KeyCache', () => {
  const entry: KeyEntry = { ctx: ctx('key_1'), routes: new Map() }

  test('a miss loads once, then serves from memory', async () => {
    const t = setup(new Map([['h1', entry]]))
    expect(t.cache.peek('h1')).toBeUndefined()
    const [a, b] = await Promise.all([t.cache.load('h1'), t.cache.load('h1')])
    expect(a).toBe(entry)
    expect(b).toBe(entry)
    expect(t.loads()).toBe(1)
    expect(t.cache.peek('h1')).toBe(entry)
    expect(t.loads()).toBe(1)
  })

  test('past half the TTL it refreshes in the background; past the TTL the caller must load', async () => {
    const t = setup(new Map([['h1', entry]]))
    await t.cache.load('h1')
    t.advance(16_000)
    expect(t.cache.peek('h1')).toBe(entry)
    await Bun.sleep(0)
    expect(t.loads()).toBe(2)
    t.advance(30_001)
    expect(t.cache.peek('h1')).toBeUndefined()
  })

  test('unknown hashes are remembered briefly', async () => {
    const t = setup(new Map())
    expect(await t.cache.load('nope')).toBeNull()
    expect(t.cache.peek('nope')).toBeNull()
    t.advance(2_001)
    expect(t.cache.peek('nope')).toBeUndefined()
  })

  test('invalidation by key, client or firm drops matching entries only', async () => {
    const other: KeyEntry = { ctx: ctx('key_2', 'cli_2'), routes: new Map() }
    const t = setup(new Map([['h1', entry], ['h2', other]]))
    await t.cache.load('h1')
    await t.cache.load('h2')
    t.cache.invalidate({ clientId: 'cli_1' })
    expect(t.cache.peek('h1')).toBeUndefined()
    expect(t.cache.peek('h2')).toBe(other)
    t.cache.invalidate({ keyId: 'key_2' })
    expect(t.cache.peek('h2')).toBeUndefined()
  })

  test('a database failure serves the stale copy of a known key and fails for an unknown one', async () => {
    const t = setup(new Map([['h1', entry]]))
    await t.cache.load('h1')
    t.advance(40_000)
    t.setFail(true)
    expect(await t.cache.load('h1')).toBe(entry)
    expect(t.cache.load('h9')).rejects.toThrow('db down')
  })
})
