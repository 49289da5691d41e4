/**
 * @module In-memory cache of key contexts (key, client, markup, routes) by key hash, so the hot path makes no
 * database round trip. Changes arrive as invalidations; the TTL is only a backstop. Entries past half their
 * TTL are refreshed in the background, so a busy key never waits on the database; when the database is down,
 * known keys keep working from their last copy.
 */
import type { KeyContext } from '../tenancy/keys.ts'
import type { Invalidation } from '../shared/bus.ts'
import { describeError, log } from '../shared/log.ts'
import type { TokenPrices } from '../billing/pricing.ts'
import type { ProviderAdapter, ProviderId } from './providers/types.ts'
import type { RouteTable } from './resolve.ts'

export interface KeyEntry {
  ctx: KeyContext
  routes: RouteTable
  /** Adapters built with the firm's own provider keys, used instead of the platform's. */
  adapters?: Partial<Record<ProviderId, ProviderAdapter>>
  /** The firm's own prices for catalog models, by model id. */
  prices?: ReadonlyMap<string, TokenPrices>
}

interface Slot {
  entry: KeyEntry | null
  loadedAt: number
}


export interface KeyCacheOptions {
  ttlMs: number
  /** How long an unknown hash is remembered as unknown (guards the database against key guessing). */
  negativeTtlMs?: number
  maxEntries?: number
  now?: () => number
}

export class KeyCache {
  private readonly slots = new Map<string, Slot>()
  private readonly loading = new Map<string, Promise<KeyEntry | null>>()
  private readonly negativeTtlMs: number
  private readonly maxEntries: number
  private readonly now: () => number
  private generation = 0

  constructor(
    private readonly loader: (keyHash: string) => Promise<KeyEntry | null>,
    private readonly opts: KeyCacheOptions,
  ) {
    this.negativeTtlMs = opts.negativeTtlMs ?? 2_000
    this.maxEntries = opts.maxEntries ?? 100_000
    this.now = opts.now ?? Date.now
  }

  /** The cached entry (null: known not to exist), or undefined when the caller must await load(). */
  peek(keyHash: string): KeyEntry | null | undefined {
    const slot = this.slots.get(keyHash)
    if (!slot) return undefined
    const age = this.now() - slot.loadedAt
    if (slot.entry === null) return age < this.negativeTtlMs ? null : undefined
    if (age >= this.opts.ttlMs) return undefined
    if (age >= this.opts.ttlMs / 2) void this.load(keyHash).catch(() => {})
    return slot.entry
  }

  /** Loads from the database once per hash at a time. On a database failure a stale entry is served if there is one. */
  load(keyHash: string): Promise<KeyEntry | null> {
    const pending = this.loading.get(keyHash)
    if (pending) return pending
    const gen = this.generation
    const p = this.loader(keyHash)
      .then((entry) => {
        // An invalidation that raced this load wins: do not store what may predate it.
        if (gen === this.generation) this.store(keyHash, entry)
        return entry
      })
      .catch((err: unknown) => {
        const stale = this.slots.get(keyHash)
        if (stale?.entry) {
          log.warn('key lookup failed; serving the cached copy', { error: describeError(err) })
          return stale.entry
        }
        throw err
      })
      .finally(() => this.loading.delete(keyHash))
    this.loading.set(keyHash, p)
    return p
  }

  private store(keyHash: string, entry: KeyEntry | null): void {
    this.slots.delete(keyHash)
    this.slots.set(keyHash, { entry, loadedAt: this.now() })
    if (this.slots.size > this.maxEntries) {
      const oldest = this.slots.keys().next().value
      if (oldest !== undefined) this.slots.delete(oldest)
    }
  }

  /** Drops every entry the change may affect; the next request reloads it. */
  invalidate(inv: Invalidation): void {
    this.generation++
    if (inv.all) {
      this.slots.clear()
      return
    }
    if (inv.keyHash) this.slots.delete(inv.keyHash)
    for (const [hash, slot] of this.slots) {
      const c = slot.entry?.ctx
      if (!c) continue
      if (c.keyId === inv.keyId || c.clientId === inv.clientId || c.firmId === inv.firmId) this.slots.delete(hash)
    }
    // A new key may have been remembered as unknown.
    if (inv.keyHash === undefined && inv.keyId !== undefined) for (const [h, s] of this.slots) if (s.entry === null) this.slots.delete(h)
  }

  get size(): number {
    return this.slots.size
  }
}
