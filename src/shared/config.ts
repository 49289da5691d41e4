/** @module Process configuration, read once from the environment and validated up front. */
import { parseSecretKey, SecretKeyError, type SealingKey } from './sealed.ts'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

export interface Config {
  port: number
  host: string
  databaseUrl: string | undefined
  redisUrl: string | undefined
  redisPrefix: string
  dataDir: string
  logLevel: LogLevel
  /** Largest accepted request body, bytes. */
  bodyLimitBytes: number
  /** Time allowed until the upstream's first byte, ms. */
  upstreamTimeoutMs: number
  /** Largest upstream answer read whole (JSON answers, error bodies), decompressed; streams pass through unbounded. */
  upstreamBodyLimitBytes: number
  /** Longest silence allowed inside an upstream stream, ms. */
  streamIdleTimeoutMs: number
  /** How often queued usage events are written, ms. */
  usageFlushMs: number
  /** How long a graceful shutdown waits for in-flight requests, ms. */
  shutdownGraceMs: number
  /** Backstop lifetime of cached keys when no invalidation arrives, ms. */
  keyCacheTtlMs: number
  /** How often limits and spend are synced with Redis, ms. */
  limitSyncMs: number
  /** First retry of a failed firm webhook delivery or auto-reload, ms (doubles each time). */
  webhookRetryBaseMs: number
  /** How often each replica looks for prepaid clients below their auto-reload threshold that no debit brought up. */
  reloadSweepMs: number
  /** Lets webhooks and upstreams point at loopback and private addresses (local setups, tests). */
  allowPrivateUrls: boolean
  /** Tries per upstream target (1: no retry on the same target), and the backoff between them, ms. */
  retryAttempts: number
  retryBaseMs: number
  /** Longest Retry-After honoured (and total retry waiting per request), ms; a longer one fails over. */
  retryMaxWaitMs: number
  /** Consecutive failures that open a target's circuit breaker, and how long it stays open, ms. */
  breakerThreshold: number
  breakerCoolDownMs: number
  /** How often the video worker looks for due jobs, and the first poll interval of a job (backing off from there). */
  videoPollMs: number
  /** A video job not finished this long after submission fails and is released. */
  videoTimeoutMs: number
  /** VIAPI_SECRET_KEY (seals firm-owned provider keys), then VIAPI_SECRET_KEY_PREVIOUS during a rotation. */
  secretKeys: SealingKey[]
  /** reusePort worker processes `viapi serve` runs (1: serve in this process). */
  workers: number
  /** In a worker: how many workers share the host, so per-process limits hold the host's total. */
  workerShare: number
  /** NODE_ENV=production: no GraphiQL, introspection only for authenticated callers. */
  production: boolean
  env: Record<string, string | undefined>
}

export class ConfigError extends Error {}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent']

function int(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got "${raw}"`)
  const n = Number(raw)
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`)
  return n
}

function url(env: Record<string, string | undefined>, name: string, schemes: readonly string[]): string | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    throw new ConfigError(`${name} is not a valid URL`)
  }
  if (!schemes.includes(parsed.protocol)) throw new ConfigError(`${name} must use ${schemes.join(' or ')}, got ${parsed.protocol}`)
  return raw
}

/** Reads and validates the environment; throws ConfigError with a message naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  try {
    return readConfig(env)
  } catch (err) {
    if (err instanceof SecretKeyError) throw new ConfigError(err.message)
    throw err
  }
}

function readConfig(env: Record<string, string | undefined>): Config {
  const level = (env.LOG_LEVEL ?? 'info').toLowerCase()
  if (!LEVELS.includes(level as LogLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`)
  url(env, 'OPENAI_BASE_URL', ['http:', 'https:'])
  url(env, 'VIAPI_JWKS_URL', ['http:', 'https:'])
  return {
    port: int(env, 'PORT', 8787, 0, 65535),
    host: env.HOST || '0.0.0.0',
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: env.VIAPI_REDIS_PREFIX ?? 'viapi:',
    dataDir: env.VIAPI_DATA_DIR || './.viapi',
    logLevel: level as LogLevel,
    bodyLimitBytes: int(env, 'VIAPI_BODY_LIMIT_BYTES', 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    upstreamTimeoutMs: int(env, 'VIAPI_UPSTREAM_TIMEOUT_MS', 60_000, 1, 3_600_000),
    upstreamBodyLimitBytes: int(env, 'VIAPI_UPSTREAM_BODY_LIMIT_BYTES', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    streamIdleTimeoutMs: int(env, 'VIAPI_STREAM_IDLE_TIMEOUT_MS', 120_000, 1, 3_600_000),
    usageFlushMs: int(env, 'VIAPI_USAGE_FLUSH_MS', 1000, 10, 3_600_000),
    shutdownGraceMs: int(env, 'VIAPI_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    keyCacheTtlMs: int(env, 'VIAPI_KEY_CACHE_TTL_MS', 30_000, 100, 3_600_000),
    limitSyncMs: int(env, 'VIAPI_LIMIT_SYNC_MS', 25, 5, 10_000),
    webhookRetryBaseMs: int(env, 'VIAPI_WEBHOOK_RETRY_BASE_MS', 5000, 10, 3_600_000),
    reloadSweepMs: int(env, 'VIAPI_RELOAD_SWEEP_MS', 60_000, 10, 3_600_000),
    allowPrivateUrls: env.VIAPI_ALLOW_PRIVATE_URLS === 'true',
    retryAttempts: int(env, 'VIAPI_RETRY_ATTEMPTS', 2, 1, 10),
    retryBaseMs: int(env, 'VIAPI_RETRY_BASE_MS', 200, 1, 60_000),
    retryMaxWaitMs: int(env, 'VIAPI_RETRY_MAX_WAIT_MS', 10_000, 0, 600_000),
    breakerThreshold: int(env, 'VIAPI_BREAKER_THRESHOLD', 5, 1, 1000),
    breakerCoolDownMs: int(env, 'VIAPI_BREAKER_COOLDOWN_MS', 30_000, 100, 3_600_000),
    videoPollMs: int(env, 'VIAPI_VIDEO_POLL_MS', 5000, 10, 600_000),
    videoTimeoutMs: int(env, 'VIAPI_VIDEO_TIMEOUT_MS', 1_800_000, 100, 86_400_000),
    secretKeys: [
      ...(env.VIAPI_SECRET_KEY ? [parseSecretKey(env.VIAPI_SECRET_KEY)] : []),
      ...(env.VIAPI_SECRET_KEY_PREVIOUS ? [parseSecretKey(env.VIAPI_SECRET_KEY_PREVIOUS, 'VIAPI_SECRET_KEY_PREVIOUS')] : []),
    ],
    workers: int(env, 'VIAPI_WORKERS', 1, 1, 256),
    workerShare: int(env, 'VIAPI_WORKER_SHARE', 1, 1, 256),
    production: env.NODE_ENV === 'production',
    env,
  }
}
