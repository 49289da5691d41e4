/**
 * @module Shares limits across replicas through Redis without a round trip per request. Every few tens of ms while
 * it serves (about once a second while idle) one script call per replica: heartbeats the replica (so each knows N,
 * the live count), pushes the money billed since the last call, and reads back the global bucket levels and
 * counters. Between calls each replica works alone on its 1/N share. When Redis is unreachable the replica keeps its
 * last known share, says so (logs, /readyz), and resyncs by itself when Redis answers again.
 */
import { RedisClient } from 'bun'
import { describeError, log } from '../../shared/log.ts'
import type { Budget } from './budget.ts'
import { DAY } from './bucket.ts'
import { wanted, type LocalBucket } from './rate.ts'

const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local live = tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - live)
redis.call('PEXPIRE', KEYS[1], live * 10)
local out = { redis.call('ZCARD', KEYS[1]) }
local nb = tonumber(ARGV[2])
local nm = tonumber(ARGV[3])
local a = 5
for i = 1, nb do
  local key = KEYS[1 + i]
  local cap = tonumber(ARGV[a])
  local rate = tonumber(ARGV[a + 1])
  local give = tonumber(ARGV[a + 2])
  local want = tonumber(ARGV[a + 3])
  local ttl = tonumber(ARGV[a + 4])
  a = a + 5
  local s = redis.call('HMGET', key, 't', 'ts')
  local tokens = tonumber(s[1]) or cap
  local ts = tonumber(s[2]) or now
  if now > ts then tokens = tokens + (now - ts) * rate end
  tokens = tokens + give
  if tokens > cap then tokens = cap end
  local grant = 0
  if tokens >= 1 then grant = math.min(want, math.floor(tokens)) end
  tokens = tokens - grant
  redis.call('HSET', key, 't', string.format('%.6f', tokens), 'ts', now)
  redis.call('PEXPIRE', key, ttl)
  out[#out + 1] = grant
  out[#out + 1] = string.format('%.6f', tokens)
end
for i = 1, nm do
  local key = KEYS[1 + nb + i]
  local ttl = tonumber(ARGV[a + 2])
  redis.call('SET', key, ARGV[a], 'NX')
  local v = redis.call('INCRBY', key, ARGV[a + 1])
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
  a = a + 3
  out[#out + 1] = tostring(v)
end
return out`

export type SyncStatus = 'ok' | 'degraded'

export interface SyncSources {
  buckets(now: number): LocalBucket[]
  budgets(now: number): Budget[]
}

export interface SyncOptions {
  url: string
  prefix: string
  intervalMs: number
  /** A replica not heard from for this long no longer counts. */
  liveMs?: number
}

const SPEND_TTL_MS = 40 * DAY
const CREDIT_TTL_MS = 30 * DAY

export class LimitSync {
  readonly replicaId = crypto.randomUUID()
  private readonly client: RedisClient
  private sha: string | null = null
  private timer: ReturnType<typeof setInterval> | null = null
  private round: Promise<void> | null = null
  private replicas = 1
  status: SyncStatus = 'ok'
  lastError: string | null = null
  private waiters: (() => void)[] = []
  /** A round is due as soon as possible (see nextSync). */
  private early = false
  private lastRoundAt = 0
  private stopped = false
  private readonly liveMs: number
  private readonly heartbeatMs: number

  constructor(
    private readonly opts: SyncOptions,
    private readonly sources: SyncSources,
  ) {
    this.liveMs = opts.liveMs ?? 3000
    // Well inside liveMs, so an idle replica is never counted out.
    this.heartbeatMs = Math.min(1000, this.liveMs / 3)
    this.client = new RedisClient(opts.url, { autoReconnect: true, maxRetries: 4_294_967_295, enableOfflineQueue: false, connectionTimeout: 1000 })
    this.client.onclose = () => {
      this.sha = null
    }
  }

  /** This replica's fraction of every shared limit: 1 / live replicas (last known when Redis is away). */
  share = (): number => 1 / this.replicas

  get liveReplicas(): number {
    return this.replicas
  }

  start(): void {
    this.timer ??= setInterval(() => this.onTimer(), this.opts.intervalMs)
    void this.tick()
  }

  /**
   * The timer's round, unless nothing happened since the last one (no request admitted or waiting, no spend to
   * push) and that one was less than a heartbeat ago: an idle replica calls Redis about once a second, not 40
   * times. What it would read meanwhile (other replicas' spend) only matters once a request comes, and that
   * request's demand makes the next tick a round again.
   */
  private onTimer(): void {
    const now = Date.now()
    if (this.waiters.length === 0 && now - this.lastRoundAt < this.heartbeatMs && this.idle(now)) return
    void this.tick(now)
  }

  private idle(now: number): boolean {
    for (const b of this.sources.buckets(now)) if (b.admitted > 0 || b.waiting > 0) return false
    for (const b of this.sources.budgets(now)) if (b.unsynced !== 0n) return false
    return true
  }

  /**
   * Stops syncing after one last round, so what this replica counted since the previous round reaches Redis. A
   * round already under way is waited for first: closing the connection under it would drop its counts (and
   * log Redis as unreachable when it is not).
   */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    if (this.round) await this.round
    await this.tick()
    this.client.close()
  }

  /**
   * Resolves after a sync round that started after this call (so it carries the caller's demand). `soon`: that
   * round starts now, or as soon as the one under way ends, instead of on the timer (a request waits one Redis
   * round trip, not up to an interval). Waiters arriving together share one round.
   */
  nextSync(soon = false): Promise<void> {
    const p = new Promise<void>((resolve) => this.waiters.push(resolve))
    if (soon && !this.early) {
      this.early = true
      const run = () => {
        this.early = false
        // After stop() the connection is closed: its last round has carried every waiter there was.
        if (!this.stopped) void this.tick()
      }
      if (this.round) void this.round.then(run)
      else setImmediate(run)
    }
    return p
  }

  /** True while Redis answers: rate buckets are leased from it. */
  leasing = (): boolean => this.status === 'ok'

  /** One sync round (none when one is under way); never throws. */
  tick(now = Date.now()): Promise<void> {
    if (this.round) return this.round
    this.round = this.syncRound(now).finally(() => {
      this.round = null
    })
    return this.round
  }

  private async syncRound(now: number): Promise<void> {
    const waiters = this.waiters.splice(0)
    const leasing = this.leasing()
    const buckets = leasing ? this.sources.buckets(now) : []
    const scale = Math.max(1, this.opts.intervalMs / Math.max(1, now - this.lastRoundAt))
    this.lastRoundAt = now
    const budgets = this.sources.budgets(now)
    const asks = buckets.map((b) => {
      const ask = { give: Math.max(0, b.lease), want: wanted(b, scale), held: b.lease }
      b.admitted = 0
      return ask
    })
    for (const b of budgets) {
      b.sending = b.unsynced
      b.unsynced = 0n
    }
    try {
      if (!this.client.connected) await withTimeout(this.client.connect(), 1000, 'redis connect')
      const p = this.opts.prefix
      const keys = [`${p}replicas`, ...buckets.map((b) => `${p}rl:${b.id}`), ...budgets.map((b) => `${p}b:${b.id}`)]
      const args = [this.replicaId, String(buckets.length), String(budgets.length), String(this.liveMs)]
      buckets.forEach((b, i) => args.push(String(b.capacity), String(b.ratePerMs), String(asks[i]!.give), String(asks[i]!.want), String(Math.ceil((b.capacity / b.ratePerMs) * 2))))
      for (const b of budgets) args.push(b.seed.toString(), (b.kind === 'spend' ? b.sending : -b.sending).toString(), String(b.kind === 'spend' ? SPEND_TTL_MS : CREDIT_TTL_MS))
      const out = (await withTimeout(this.eval(keys, args), Math.max(1000, this.opts.intervalMs * 20), 'redis sync')) as (number | string)[]
      this.replicas = Math.max(1, Number(out[0]))
      buckets.forEach((b, i) => {
        // Tokens used while the sync was under way came out of what we handed back: they count against the grant.
        const usedMeanwhile = asks[i]!.held - b.lease
        b.lease = Number(out[1 + 2 * i]) - usedMeanwhile
        b.pool = Number(out[2 + 2 * i])
      })
      budgets.forEach((b, i) => {
        b.global = BigInt(String(out[1 + 2 * buckets.length + i]))
        b.sending = 0n
      })
      if (this.status !== 'ok') log.info('redis is back: limits are shared across replicas again', { replicas: this.replicas })
      this.status = 'ok'
      this.lastError = null
    } catch (err) {
      for (const b of budgets) {
        b.unsynced += b.sending
        b.sending = 0n
      }
      if (this.status === 'ok') log.warn('redis unreachable: each replica now enforces its share of every limit alone', { replicas: this.replicas, error: describeError(err) })
      this.status = 'degraded'
      this.lastError = describeError(err)
    } finally {
      for (const w of waiters) w()
    }
  }

  /** Moves a shared budget (if Redis holds it; else it will be seeded from Postgres, which already has the change). */
  adjustBudget = (budgetId: string, delta: bigint): void => {
    const key = `${this.opts.prefix}b:${budgetId}`
    withTimeout(this.client.send('EVAL', ["if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end return 0", '1', key, delta.toString()]), 2000, 'redis adjust').catch((err: unknown) =>
      log.warn('shared credit not adjusted; replicas see the change when the counter is next seeded', { budget: budgetId, error: describeError(err) }),
    )
  }

  private async eval(keys: string[], args: string[]): Promise<unknown> {
    if (this.sha) {
      try {
        return await this.client.send('EVALSHA', [this.sha, String(keys.length), ...keys, ...args])
      } catch (err) {
        if (!String(err).includes('NOSCRIPT')) throw err
      }
    }
    this.sha = (await this.client.send('SCRIPT', ['LOAD', SCRIPT])) as string
    return this.client.send('EVALSHA', [this.sha, String(keys.length), ...keys, ...args])
  }
}

/** Rejects when `p` has not settled in `ms`: a stalled connection must not stall the sync loop. */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer))
}
