/** @module Process lifecycle for `viapi serve`: open and migrate the database, build the app, listen, drain on signals. */
import { join, resolve } from 'node:path'
import { jwtConfig } from './admin/auth.ts'
import type { AdminDeps } from './admin/context.ts'
import type { App } from './app.ts'
import { hotRoutes, renderError } from './hot-routes.ts'
import { newId } from './shared/ids.ts'
import { createVideoProviders } from './gateway/providers/video.ts'
import { VideoWorker } from './gateway/video-worker.ts'
import { loadCatalog } from './billing/catalog.ts'
import { AlertDelivery } from './billing/delivery.ts'
import { checkLedger } from './billing/ledger.ts'
import { firmPrices } from './billing/prices.ts'
import { UsageMeter } from './billing/meter.ts'
import { AutoReloader } from './billing/reload.ts'
import { stripeFromEnv } from './billing/stripe.ts'
import type { GatewayContext } from './gateway/context.ts'
import { Breakers } from './gateway/breaker.ts'
import { Inflight } from './gateway/inflight.ts'
import { closeIdle } from './gateway/http1.ts'
import { KeyCache, type KeyEntry } from './gateway/key-cache.ts'
import { Guardrails } from './gateway/limits/guard.ts'
import { LimitSync } from './gateway/limits/sync.ts'
import { createProviders } from './gateway/providers/index.ts'
import { createBus, type BusMessage } from './shared/bus.ts'
import type { Config } from './shared/config.ts'
import { describeError, log } from './shared/log.ts'
import { openReady, type Running } from './ready.ts'
import { findKeyContext } from './tenancy/keys.ts'
import { routesForClient } from './tenancy/routes.ts'
import { credentialsOfFirm, type StoredCredential } from './tenancy/credentials.ts'
import { adapterFor, DEFAULT_BASE_URLS } from './gateway/providers/index.ts'
import { credentialsFor, type ProviderAdapter, type ProviderId } from './gateway/providers/types.ts'
import { unseal } from './shared/sealed.ts'

export async function serve(config: Config): Promise<Running> {
  const db = await openReady(config)
  const sql = db.sql
  const stripe = await stripeFromEnv(config.env)
  const reloader = new AutoReloader({ sql, stripe, retryBaseMs: config.webhookRetryBaseMs })
  reloader.start(config.reloadSweepMs)
  const meter = new UsageMeter(sql, {
    flushMs: config.usageFlushMs,
    spillDir: join(resolve(config.dataDir), 'spill'),
    onDebited: (ids) => void reloader.check(ids),
  })
  await meter.replaySpilled()
  meter.start()

  const keys = new KeyCache(
    async (hash): Promise<KeyEntry | null> => {
      const ctx = await findKeyContext(sql, hash)
      if (!ctx) return null
      const [routes, own, prices] = await Promise.all([routesForClient(sql, ctx.firmId, ctx.clientId), credentialsOfFirm(sql, ctx.firmId), firmPrices(sql, ctx.firmId)])
      return { ctx, routes: new Map(routes.map((r) => [r.alias, { targets: [r.target, ...r.fallbacks], weights: r.weights }])), adapters: firmAdapters(own, config), prices }
    },
    { ttlMs: config.keyCacheTtlMs },
  )
  let sync: LimitSync | null = null
  const guard = new Guardrails({
    sql,
    mode: { leasing: () => sync?.leasing() ?? false, share: () => sync?.share() ?? 1 / config.workerShare, nextSync: (soon) => sync?.nextSync(soon) ?? Promise.resolve() },
  })
  if (config.redisUrl) {
    sync = new LimitSync(
      { url: config.redisUrl, prefix: config.redisPrefix, intervalMs: config.limitSyncMs },
      { buckets: (now) => guard.rates.active(now, 10_000), budgets: (now) => guard.activeBudgets(now) },
    )
    sync.start()
  }
  let publish: (m: BusMessage) => void = () => {}
  const breakers = new Breakers({ threshold: config.breakerThreshold, coolDownMs: config.breakerCoolDownMs }, (c) => publish({ kind: 'breaker', ...c }))
  const gw: GatewayContext = {
    config,
    keys,
    catalog: { current: await loadCatalog(sql) },
    providers: createProviders(config.env),
    video: createVideoProviders(config.env),
    sql,
    meter,
    inflight: new Inflight(config.streamIdleTimeoutMs),
    guard,
    breakers,
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
    else if (m.kind === 'breaker') breakers.apply(m)
    else void reloadCatalog()
  })
  publish = (m) => bus.publish(m)
  const admin: AdminDeps = {
    sql,
    bus,
    catalog: gw.catalog,
    stripe,
    onCreditChange: (clientId, delta) => guard.creditChanged(clientId, delta, sync ? sync.adjustBudget : null),
    allowPrivateUrls: config.allowPrivateUrls,
    secretKeys: config.secretKeys,
  }
  const videoWorker = new VideoWorker(gw, (job, amount) => guard.refund(job, amount, sync ? sync.adjustBudget : null))
  videoWorker.start()
  const delivery = new AlertDelivery({ sql, retryBaseMs: config.webhookRetryBaseMs, allowPrivateUrls: config.allowPrivateUrls, secretKeys: config.secretKeys })
  delivery.start()
  const ledgerTimer = setInterval(() => void checkLedger(sql), 600_000)

  // The admin plane (GraphQL, MCP, docs and the gateway's other routes) loads on the first request that needs it:
  // a replica that only proxies stays at about half the memory.
  let app: Promise<App> | null = null
  const loadApp = (): Promise<App> => {
    if (app) return app
    const started = performance.now()
    app = import('./app.ts').then(
      (m) => {
        const built = m.createApp({ gw, db, admin, jwt: jwtConfig(config.env) })
        log.info('admin plane loaded', { ms: Math.round(performance.now() - started) })
        return built
      },
      (err: unknown) => {
        app = null
        throw err
      },
    )
    return app
  }
  const server = Bun.serve({
    port: config.port,
    hostname: config.host,
    routes: hotRoutes(gw, db),
    fetch: async (request) => {
      let handler: App
      try {
        handler = await loadApp()
      } catch (err) {
        return renderError(err, newId('req'), new URL(request.url).pathname)
      }
      return handler.fetch(request)
    },
    // The body limit is ours to enforce with an OpenAI-shaped 413; Bun's own check would answer with an empty body.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    // Upstreams may think for minutes before the first byte; our own timeouts govern, not the socket's.
    idleTimeout: 255,
    // Workers of one host share the port; the kernel spreads connections across them.
    reusePort: config.workerShare > 1,
  })
  const port = server.port!
  log.info('listening', { port, host: config.host, database: db.mode, url: `http://127.0.0.1:${port}` })

  let stopping: Promise<void> | null = null
  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      log.info('shutting down', { reason, inflight: gw.inflight.count })
      clearInterval(catalogTimer)
      clearInterval(ledgerTimer)
      const reloaderStopped = reloader.stop()
      const deliveryStopped = delivery.stop()
      void server.stop(false)
      await videoWorker.stop()
      if (!(await gw.inflight.drain(config.shutdownGraceMs))) {
        gw.inflight.abortAll()
        await gw.inflight.drain(2_000)
      }
      gw.inflight.stop()
      closeIdle()
      if (sync) {
        await sync.stop()
      }
      await meter.drain()
      await Promise.all([deliveryStopped, reloaderStopped])
      await bus.close()
      await db.close().catch((err: unknown) => log.warn('database close failed', { error: describeError(err) }))
      log.info('stopped')
    })()
    return stopping
  }
  return { port, shutdown }
}

/** Adapters with a firm's own keys; a key that cannot be opened (wrong VIAPI_SECRET_KEY) is skipped, and said so. */
function firmAdapters(own: StoredCredential[], config: Config): Partial<Record<ProviderId, ProviderAdapter>> {
  const out: Partial<Record<ProviderId, ProviderAdapter>> = {}
  for (const c of own) {
    const id = c.provider as ProviderId
    if (!Object.hasOwn(DEFAULT_BASE_URLS, id)) continue
    try {
      const apiKey = unseal(config.secretKeys, c.secretEnc)
      // Without its own endpoint a firm's key goes where the platform's would (ANTHROPIC_BASE_URL, …).
      const baseUrl = c.baseUrl ?? credentialsFor(id, config.env, DEFAULT_BASE_URLS[id]).baseUrl
      out[id] = adapterFor(id, { apiKey, baseUrl: baseUrl.replace(/\/+$/, '') }, config.env)
    } catch (err) {
      log.error('a firm provider key cannot be opened; using the platform key', { firm_id: c.firmId, provider: c.provider, error: describeError(err) })
    }
  }
  return out
}
