/**
 * @module In-flight request tracking: counts requests for a graceful drain, and watches open upstream reads
 * for idleness with one sweeper instead of a timer per chunk.
 */

export interface Watched {
  lastActivity: number
  abort(reason: Error): void
}

export class UpstreamIdle extends Error {
  constructor(ms: number) {
    super(`the upstream sent nothing for ${ms} ms`)
  }
}

export class ShuttingDown extends Error {
  constructor() {
    super('the gateway is shutting down')
  }
}

export class Inflight {
  private readonly watched = new Set<Watched>()
  private requests = 0
  private idleWaiters: (() => void)[] = []
  private sweeper: ReturnType<typeof setInterval>

  constructor(private readonly idleTimeoutMs: number) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(5, Math.min(1000, Math.floor(idleTimeoutMs / 4))))
    this.sweeper.unref()
  }

  get count(): number {
    return this.requests
  }

  begin(): void {
    this.requests++
  }

  end(): void {
    this.requests--
    if (this.requests === 0) for (const w of this.idleWaiters.splice(0)) w()
  }

  watch(w: Watched): () => void {
    this.watched.add(w)
    return () => this.watched.delete(w)
  }

  private sweep(): void {
    const cutoff = performance.now() - this.idleTimeoutMs
    for (const w of this.watched) if (w.lastActivity < cutoff) w.abort(new UpstreamIdle(this.idleTimeoutMs))
  }

  /** Resolves when no request is in flight, or after `ms`, whichever is first; returns whether it drained. */
  async drain(ms: number): Promise<boolean> {
    if (this.requests === 0) return true
    let timer: ReturnType<typeof setTimeout> | undefined
    const drained = await Promise.race([
      new Promise<true>((resolve) => this.idleWaiters.push(() => resolve(true))),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ])
    clearTimeout(timer)
    return drained
  }

  /** Aborts every watched upstream read (the streams then close with an error event and settle). */
  abortAll(): void {
    for (const w of this.watched) w.abort(new ShuttingDown())
  }

  stop(): void {
    clearInterval(this.sweeper)
  }
}
