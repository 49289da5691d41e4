/**
 * @module The meter every billable endpoint settles through. Events are queued in memory and written in batches
 * off the request path; a failed write keeps them queued. What cannot be held (past `maxQueued` while the database
 * is away) or written (at shutdown) is spilled to files, replayed by the next start or, in a running process, once
 * its writes succeed again (ids make replays harmless).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Pool } from '../shared/db.ts'
import { describeError, log } from '../shared/log.ts'
import { insertBatch, insertUsage, type UsageRow } from './usage.ts'
import { UsageBatch, type HeldRow } from './usage-batch.ts'

export type Outcome = 'ok' | 'upstream_error' | 'upstream_rejected' | 'timeout' | 'client_abort' | 'shutdown' | 'internal_error'

/** A settled request (or failed attempt) as the meter queues it. */
export interface UsageEvent extends UsageRow {
  outcome: Outcome
  /** The client was on prepaid billing when the request ran: its credit is debited by the billed amount. */
  prepaid: boolean
}

export interface MeterOptions {
  flushMs: number
  spillDir: string
  /** Most events held in memory while the database is unreachable; past it the oldest half spills to disk. */
  maxQueued?: number
  batchSize?: number
  /** Prepaid clients whose credit a batch just debited (auto-reload looks at them). */
  onDebited?: (clientIds: string[]) => void
}

const toJson = (r: HeldRow) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))

/** A spilled line: this version's shape, or the snake_case one earlier versions wrote. */
function fromJson(line: string): HeldRow {
  const o = JSON.parse(line) as Record<string, unknown>
  const f = (camel: string, snake: string): unknown => (camel in o ? o[camel] : o[snake])
  return {
    id: o.id as string,
    firmId: f('firmId', 'firm_id') as string,
    clientId: f('clientId', 'client_id') as string,
    keyId: f('keyId', 'key_id') as string,
    endpoint: o.endpoint as string,
    modelRequested: f('modelRequested', 'model_requested') as string,
    modelUsed: (f('modelUsed', 'model_used') ?? null) as string | null,
    provider: (o.provider ?? null) as string | null,
    promptTokens: f('promptTokens', 'prompt_tokens') as number,
    completionTokens: f('completionTokens', 'completion_tokens') as number,
    cachedTokens: f('cachedTokens', 'cached_tokens') as number,
    costNano: BigInt(f('costNano', 'cost_nano') as string),
    markupNano: BigInt(f('markupNano', 'markup_nano') as string),
    billedNano: BigInt(f('billedNano', 'billed_nano') as string),
    status: o.status as number,
    outcome: o.outcome as string,
    errorCode: (f('errorCode', 'error_code') ?? null) as string | null,
    usageEstimated: f('usageEstimated', 'usage_estimated') === true,
    stream: o.stream === true,
    latencyMs: f('latencyMs', 'latency_ms') as number,
    createdAt: new Date(f('createdAt', 'created_at') as string),
    attempt: typeof o.attempt === 'number' ? o.attempt : 0,
    prepaid: o.prepaid === true,
  }
}

export class UsageMeter {
  /** Events being queued now. */
  private queue = new UsageBatch()
  /** Earlier events whose write failed, oldest first: written before the queue. */
  private held: UsageBatch[] = []
  private timer: ReturnType<typeof setInterval> | null = null
  private flushing: Promise<void> | null = null
  private replaying: Promise<number> | null = null
  /** This process spilled since its last replay: replay once writes succeed again. */
  private spilled = false
  private readonly maxQueued: number
  private readonly batchSize: number

  constructor(
    private readonly sql: Pool,
    private readonly opts: MeterOptions,
  ) {
    this.maxQueued = opts.maxQueued ?? 200_000
    this.batchSize = opts.batchSize ?? 500
  }

  get queued(): number {
    let n = this.queue.length
    for (const h of this.held) n += h.length
    return n
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.opts.flushMs)
  }

  /** Queues an event; never throws, never waits. */
  record(event: UsageEvent): void {
    try {
      this.queue.push(event)
    } catch (err) {
      // An amount no bigint column holds: Postgres would refuse the whole batch with it.
      log.error('usage event not recorded', { request_id: event.id, error: describeError(err) })
      return
    }
    // The oldest half goes in one file: one spill per maxQueued / 2 events, not a file write per request.
    if (this.queued > this.maxQueued) this.spillOldest(this.queued - (this.maxQueued >> 1))
  }

  /** Writes everything queued; on failure the events stay queued for the next attempt. */
  flush(): Promise<void> {
    this.flushing ??= this.writeAll().finally(() => {
      this.flushing = null
    })
    return this.flushing
  }

  private async writeAll(): Promise<void> {
    // Take everything queued at once; what fails stays ahead of anything queued meanwhile.
    const pending = [...this.held, this.queue]
    const total = this.queued
    this.held = []
    // Sized for a flush like this one, so a steady load does not regrow the columns every interval.
    this.queue = new UsageBatch(Math.min(1 << 16, Math.max(256, this.queue.length)))
    for (let b = 0; b < pending.length; b++) {
      const batch = pending[b]!
      let done = 0
      try {
        while (done < batch.length) {
          const end = Math.min(batch.length, done + this.batchSize)
          const debited = await insertBatch(this.sql, batch, done, end)
          done = end
          if (debited.length > 0) this.opts.onDebited?.(debited)
        }
      } catch (err) {
        // The write that failed may have committed unacknowledged: the next one looks its ids up first.
        if (done === 0) batch.mayRepeat = true
        this.held = [done === 0 ? batch : batch.slice(done), ...pending.slice(b + 1)]
        log.warn('usage events not written yet; will retry', { queued: this.queued, error: describeError(err) })
        return
      }
    }
    // Writes succeed again: what this process spilled meanwhile need not wait for a restart.
    if (this.spilled && this.timer && total > 0) {
      this.spilled = false
      void this.replaySpilled().catch((e: unknown) => {
        this.spilled = true
        log.warn('spilled usage events not replayed yet; will retry', { error: describeError(e) })
      })
    }
  }

  /** Stops the timer and writes what is queued; what still cannot be written goes to the spill file. */
  async drain(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    if (this.flushing) await this.flushing
    await this.flush()
    if (this.queued > 0) this.spillOldest(this.queued)
  }

  /** Spills the oldest `count` queued events (only while the database is away, or at shutdown). */
  private spillOldest(count: number): void {
    const rows = [...this.held, this.queue].flatMap((b) => b.rows())
    const retried = this.held.length > 0
    this.spill(rows.slice(0, count))
    this.held = []
    this.queue = UsageBatch.of(rows.slice(count))
    this.queue.mayRepeat = retried
  }

  private spill(rows: HeldRow[]): void {
    mkdirSync(this.opts.spillDir, { recursive: true })
    const file = join(this.opts.spillDir, `usage-${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.jsonl`)
    // Written aside and renamed: a replay never reads a file still being written.
    writeFileSync(`${file}.tmp`, rows.map(toJson).join('\n') + '\n')
    renameSync(`${file}.tmp`, file)
    this.spilled = true
    log.error('usage events spilled to disk; they are written once the database takes them again', { file, count: rows.length })
  }

  /**
   * Replays spill files (an earlier process's, or this one's), deleting each once written. Each file is claimed by
   * renaming it first, so workers sharing a data dir never replay one file twice at once; a claim left by a
   * process that died is taken over. A line that does not parse (a torn write) is skipped and logged.
   */
  replaySpilled(): Promise<number> {
    this.replaying ??= this.replayFiles().finally(() => {
      this.replaying = null
    })
    return this.replaying
  }

  private async replayFiles(): Promise<number> {
    let files: string[]
    try {
      files = readdirSync(this.opts.spillDir)
    } catch {
      return 0
    }
    const token = Math.random().toString(36).slice(2, 10)
    liveClaims.add(token)
    try {
      return await this.replayClaimed(files, token)
    } finally {
      liveClaims.delete(token)
    }
  }

  private async replayClaimed(files: string[], token: string): Promise<number> {
    let n = 0
    for (const f of files) {
      // usage-<time>-<writer pid>-<random>.jsonl, possibly claimed (.<pid>-<token>.replaying) or torn in its writing (.tmp)
      const m = /^(usage-\d+-(\d+)-\w+\.jsonl)(?:\.(\d+)-(\w+)\.replaying|(\.tmp))?$/.exec(f)
      if (!m) continue
      if (m[3] && !claimAbandoned(Number(m[3]), m[4]!)) continue
      // This process writes its spill files synchronously: a .tmp with its pid is a container restart's leftover.
      if (m[5] && Number(m[2]) !== process.pid && processAlive(Number(m[2]))) continue
      const claimed = join(this.opts.spillDir, `${m[1]}.${process.pid}-${token}.replaying`)
      try {
        renameSync(join(this.opts.spillDir, f), claimed)
      } catch {
        continue // another process claimed it first
      }
      const rows: HeldRow[] = []
      for (const line of readFileSync(claimed, 'utf8').split('\n')) {
        if (!line) continue
        try {
          rows.push(fromJson(line))
        } catch {
          log.error('a spilled usage line does not parse; skipped', { file: m[1], line: line.slice(0, 200) })
        }
      }
      try {
        for (let i = 0; i < rows.length; i += this.batchSize) await insertUsage(this.sql, rows.slice(i, i + this.batchSize))
      } catch (err) {
        renameSync(claimed, join(this.opts.spillDir, m[1]!))
        throw err
      }
      rmSync(claimed)
      n += rows.length
    }
    if (n > 0) log.info('replayed spilled usage events', { count: n })
    return n
  }
}

/** Replays under way in this process, by claim token. */
const liveClaims = new Set<string>()

/** A claim whose replayer is gone: its process died, or it carries this process's pid (a restart reusing it) but no live replay. */
function claimAbandoned(pid: number, token: string): boolean {
  if (pid === process.pid) return !liveClaims.has(token)
  return !processAlive(pid)
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM'
  }
}
