/**
 * @module The meter every billable endpoint settles through. Events are queued in
 * memory and written in batches off the request path; a failed write keeps them queued, and at shutdown
 * whatever cannot be written is spilled to a file that the next start replays (ids make replays harmless).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Pool } from '../shared/db.ts'
import { describeError, log } from '../shared/log.ts'
import { insertUsage, type UsageRow } from './usage.ts'

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
  /** Most events held in memory while the database is unreachable; beyond it they spill to disk at once. */
  maxQueued?: number
  batchSize?: number
  /** Prepaid clients whose credit a batch just debited (auto-reload looks at them). */
  onDebited?: (clientIds: string[]) => void
}

type Row = UsageRow & { prepaid: boolean }

const toJson = (r: Row) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))

/** A spilled line: this version's shape, or the snake_case one earlier versions wrote. */
function fromJson(line: string): Row {
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
  private queue: Row[] = []
  private timer: ReturnType<typeof setInterval> | null = null
  private flushing: Promise<void> | null = null
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
    return this.queue.length
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.opts.flushMs)
  }

  /** Queues an event; never throws, never waits. */
  record(event: UsageEvent): void {
    this.queue.push(event)
    if (this.queue.length > this.maxQueued) this.spill(this.queue.splice(0, this.queue.length - this.maxQueued))
  }

  /** Writes everything queued; on failure the events stay queued for the next attempt. */
  flush(): Promise<void> {
    this.flushing ??= this.writeAll().finally(() => {
      this.flushing = null
    })
    return this.flushing
  }

  private async writeAll(): Promise<void> {
    // Take the whole queue at once; what fails goes back to its front, ahead of anything queued meanwhile.
    const pending = this.queue
    this.queue = []
    let done = 0
    try {
      while (done < pending.length) {
        const batch = pending.slice(done, done + this.batchSize)
        const debited = await insertUsage(this.sql, batch)
        done += batch.length
        if (debited.length > 0) this.opts.onDebited?.(debited)
      }
    } catch (err) {
      this.queue = done === 0 ? pending.concat(this.queue) : pending.slice(done).concat(this.queue)
      log.warn('usage events not written yet; will retry', { queued: this.queue.length, error: describeError(err) })
    }
  }

  /** Stops the timer and writes what is queued; what still cannot be written goes to the spill file. */
  async drain(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    if (this.flushing) await this.flushing
    await this.flush()
    if (this.queue.length > 0) this.spill(this.queue.splice(0))
  }

  private spill(rows: Row[]): void {
    mkdirSync(this.opts.spillDir, { recursive: true })
    const file = join(this.opts.spillDir, `usage-${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.jsonl`)
    writeFileSync(file, rows.map(toJson).join('\n') + '\n')
    log.error('usage events spilled to disk; they are replayed on the next start', { file, count: rows.length })
  }

  /** Replays spill files left by an earlier process, deleting each once written. */
  async replaySpilled(): Promise<number> {
    let files: string[]
    try {
      files = readdirSync(this.opts.spillDir).filter((f) => f.startsWith('usage-') && f.endsWith('.jsonl'))
    } catch {
      return 0
    }
    let n = 0
    for (const f of files) {
      const path = join(this.opts.spillDir, f)
      const rows = readFileSync(path, 'utf8').split('\n').filter(Boolean).map(fromJson)
      for (let i = 0; i < rows.length; i += this.batchSize) {
        await insertUsage(this.sql, rows.slice(i, i + this.batchSize))
      }
      rmSync(path)
      n += rows.length
    }
    if (n > 0) log.info('replayed spilled usage events', { count: n })
    return n
  }
}
