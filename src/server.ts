/** @module Process lifecycle for `viapi serve`: open and migrate the database, build the app, listen, drain on signals. */
import { join, resolve } from 'node:path'
import { jwtConfig } from './admin/auth.ts'
import type { AdminDeps } from './admin/context.ts'
import { createApp } from './app.ts'
import { loadCatalog, syncCatalog } from './billing/catalog.ts'
import { UsageMeter } from './billing/meter.ts'
import type { GatewayContext } from './gateway/context.ts'
import { Inflight } from './gateway/inflight.ts'
import { KeyCache, type KeyEntry } from './gateway/key-cache.ts'
import { Guardrails } from './gateway/limits/guard.ts'
import { LimitSync } from './gateway/limits/sync.ts'
import { createProviders } from './gateway/providers/index.ts'
import { createBus } from './shared/bus.ts'
import type { Config } from './shared/config.ts'
import { openDatabase, type Database } from './shared/db.ts'
import { describeError, log } from './shared/log.ts'
import { migrate } from './shared/migrate.ts'
import { findKeyContext } from './tenancy/keys.ts'
import { routesForClient } from './tenancy/routes.ts'

export interface Running {
  port: number
  shutdown(reason: string): Promise<void>
}

/** Opens the database (migrating it and syncing the catalog) for any command that needs it. */
export async function openReady(config: Config, poolMax?: number): Promise<Database> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax })
  const applied = await migrate(db.sql)
  if (applied.length > 0) log.info('migrations applied', { applied })
  await syncCatalog(db.sql)
  return db
}

export async function serve(config: Config): Promise<Running> {
  const db = await openReady(config)
  const sql = db.sql
  const meter = new UsageMeter(sql, { flushMs: config.usageFlushMs, spillDir: join(resolve(config.dataDir), 'spill') })
  await meter.replaySpilled()
  meter.start()

  const keys = new KeyCache(
    async (hash): Promise<KeyEntry | null> => {
      const ctx = await findKeyContext(sql, hash)
      if (!ctx) return null
      const routes = await routesForClient(sql, ctx.firmId, ctx.clientId)
      return { ctx, routes: new Map(routes.map((r) => [r.alias, [r.target, ...r.fallbacks]])) }
    },
    { ttlMs: config.keyCacheTtlMs },
  )
  let sync: LimitSync | null = null
  const guard = new Guardrails({
    sql,
    mode: { leasing: () => sync?.leasing() ?? false, share: () => sync?.share() ?? 1, nextSync: () => sync?.nextSync() ?? Promise.resolve() },
  })
  if (config.redisUrl) {
    sync = new LimitSync(
      { url: config.redisUrl, prefix: config.redisPrefix, intervalMs: config.limitSyncMs },
      { buckets: (now) => guard.rates.active(now, 10_000), budgets: (now) => guard.activeBudgets(now) },
    )
    sync.start()
  }
  const gw: GatewayContext = {
    config,
    keys,
    catalog: { current: await loadCatalog(sql) },
    providers: createProviders(config.env),
    meter,
    inflight: new Inflight(config.streamIdleTimeoutMs),
    guard,
    sync,
  }
  const reloadCatalog = () =>
    loadCatalog(sql)
      .then((c) => (gw.catalog.current = c))
      .catch((err: unknown) => log.warn('catalog reload failed', { error: describeError(err) }))
  const catalogTimer = setInterval(reloadCatalog, 60_000)

  const bus = await createBus(config.redisUrl, config.redisPrefix)
  bus.subscribe((m) => {
    if (m.kind === 'invalidate') keys.invalidate(m.inv)
    else void reloadCatalog()
  })
  const admin: AdminDeps = { sql, bus, catalog: gw.catalog }

  const app = createApp({ gw, db, admin, jwt: jwtConfig(config.env) }).listen({
    port: config.port,
    hostname: config.host,
    // The body limit is ours to enforce with an OpenAI-shaped 413; Bun's own check would answer with an empty body.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    // Upstreams may think for minutes before the first byte; our own timeouts govern, not the socket's.
    idleTimeout: 255,
  })
  const port = app.server!.port!
  log.info('listening', { port, host: config.host, database: db.mode, url: `http://127.0.0.1:${port}` })

  let stopping: Promise<void> | null = null
  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      log.info('shutting down', { reason, inflight: gw.inflight.count })
      clearInterval(catalogTimer)
      void app.server?.stop(false)
      if (!(await gw.inflight.drain(config.shutdownGraceMs))) {
        gw.inflight.abortAll()
        await gw.inflight.drain(2_000)
      }
      gw.inflight.stop()
      if (sync) {
        await sync.tick()
        sync.stop()
      }
      await meter.drain()
      await bus.close()
      await db.close().catch((err: unknown) => log.warn('database close failed', { error: describeError(err) }))
      log.info('stopped')
    })()
    return stopping
  }
  return { port, shutdown }
}
