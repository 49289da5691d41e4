/** @module What the gateway's handlers share: caches, providers, the meter and in-flight tracking. */
import type { CatalogModel } from '../billing/catalog.ts'
import type { UsageMeter } from '../billing/meter.ts'
import type { Config } from '../shared/config.ts'
import type { Pool } from '../shared/db.ts'
import type { Breakers } from './breaker.ts'
import type { Inflight } from './inflight.ts'
import type { KeyCache } from './key-cache.ts'
import type { Guardrails } from './limits/guard.ts'
import type { LimitSync } from './limits/sync.ts'
import type { ProviderRegistry } from './providers/index.ts'
import type { VideoRegistry } from './providers/video.ts'

export interface GatewayContext {
  config: Config
  keys: KeyCache
  /** Replaced wholesale when the catalog reloads; readers take the current map per request. */
  catalog: { current: ReadonlyMap<string, CatalogModel> }
  providers: ProviderRegistry
  video: VideoRegistry
  /** For the durable paths only (video jobs); the proxy's hot path never touches it. */
  sql: Pool
  meter: UsageMeter
  inflight: Inflight
  guard: Guardrails
  breakers: Breakers
  /** Null without REDIS_URL: limits are then per process. */
  sync: LimitSync | null
}
