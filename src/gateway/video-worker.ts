/**
 * @module The video worker, one per gateway process: claims due jobs (one replica per job at a time), submits them
 * to their provider, polls with backoff, and settles each once — reconciling its hold to the bill on completion,
 * releasing it whole on failure or timeout. Jobs live in Postgres, so a restart picks up where it stopped.
 */
import { claimDueJobs, settleJob, updateJob, type JobOutcome, type VideoJob } from '../billing/jobs.ts'
import { applyMarkup } from '../billing/pricing.ts'
import { describeError, log } from '../shared/log.ts'
import { redact } from '../shared/secrets.ts'
import type { GatewayContext } from './context.ts'
import { VideoRejected } from './providers/video.ts'

const BATCH = 10

export class VideoWorker {
  private timer: ReturnType<typeof setInterval> | null = null
  private running: Promise<void> | null = null

  constructor(
    private readonly gw: GatewayContext,
    /** A settled job's unused hold, to give back to the in-memory counters. */
    private readonly onRefund: (job: VideoJob, amountNano: bigint) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.gw.config.videoPollMs)
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.running
  }

  /** One pass over the due jobs; overlapping passes are skipped. */
  tick(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = null))
    return this.running
  }

  private async pass(): Promise<void> {
    const poll = this.gw.config.videoPollMs
    let jobs: VideoJob[]
    try {
      // The lease outlives the longest provider call, so no other replica takes a job that is still being worked.
      jobs = await claimDueJobs(this.gw.sql, BATCH, Math.max(poll * 10, this.gw.config.upstreamTimeoutMs * 2 + 10_000))
    } catch (err) {
      log.warn('video jobs not claimed', { error: describeError(err) })
      return
    }
    await Promise.all(jobs.map((j) => this.work(j).catch((err: unknown) => log.error('video job step failed', { job_id: j.id, error: describeError(err) }))))
  }

  private async work(job: VideoJob): Promise<void> {
    const adapter = this.gw.video[job.provider]
    if (!adapter?.configured) return this.fail(job, 'provider_not_configured', `The provider "${job.provider}" is not configured on this gateway.`, 503)
    if (Date.now() > job.deadlineAt.getTime()) return this.fail(job, 'timeout', 'The provider did not finish the video in time.', 504)
    const signal = AbortSignal.timeout(this.gw.config.upstreamTimeoutMs)
    const backoff = this.gw.config.videoPollMs * 2 ** Math.min(job.polls, 3)
    try {
      if (!job.providerJobId) {
        const r = job.request
        const providerJobId = await adapter.submit({
          model: job.upstreamModel,
          prompt: String(r.prompt ?? ''),
          durationSeconds: job.durationSeconds,
          image: typeof r.image === 'string' ? r.image : null,
          ratio: typeof r.ratio === 'string' ? r.ratio : null,
          signal,
        })
        log.info('video job sent', { job_id: job.id, provider: job.provider })
        return updateJob(this.gw.sql, job.id, { status: 'queued', providerJobId, nextPollInMs: this.gw.config.videoPollMs, polled: false })
      }
      const p = await adapter.poll(job.providerJobId, signal)
      if (p.status === 'failed') return this.fail(job, p.code, redact(p.message), 502)
      if (p.status !== 'completed') return updateJob(this.gw.sql, job.id, { status: p.status, nextPollInMs: backoff, polled: true })
      // Billed by the seconds the provider reports, never more than were held for.
      const seconds = Math.min(p.seconds ?? job.durationSeconds, job.durationSeconds)
      const charge = applyMarkup(BigInt(seconds) * job.perSecondNano, job.markupBps)
      return this.settle(job, { status: 'completed', resultUrl: p.resultUrl, ...charge, httpStatus: 200 })
    } catch (err) {
      if (err instanceof VideoRejected) return this.fail(job, 'upstream_rejected', redact(err.message), err.status)
      // Transient (5xx, 429, unreachable, timeout): try again later; the deadline bounds it.
      log.warn('video provider call failed; retrying', { job_id: job.id, provider: job.provider, error: describeError(err) })
      return updateJob(this.gw.sql, job.id, { status: job.status, nextPollInMs: backoff, polled: true })
    }
  }

  private fail(job: VideoJob, code: string, message: string, httpStatus: number): Promise<void> {
    return this.settle(job, { status: 'failed', errorCode: code, errorMessage: message, costNano: 0n, markupNano: 0n, billedNano: 0n, httpStatus })
  }

  private async settle(job: VideoJob, o: JobOutcome): Promise<void> {
    const done = await settleJob(this.gw.sql, job, o)
    if (!done) return
    log.info('video job settled', { job_id: job.id, status: o.status, billed_nano: String(o.billedNano), released_nano: String(job.reservedNano - o.billedNano) })
    this.onRefund(done, job.reservedNano - o.billedNano)
  }
}
