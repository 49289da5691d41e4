/**
 * @module Owns the video_jobs table: a job's submission with its hold, claims by the worker loop across replicas,
 * progress, and the one settlement that reconciles the hold to the bill (usage event, ledger) in one transaction.
 */
import type { Pool, Sql } from '../shared/db.ts'
import { newId } from '../shared/ids.ts'
import { nanoToUsd } from '../shared/money.ts'
import { recordAlert } from './alerts.ts'
import { appendEntry } from './ledger.ts'
import { insertUsageIn } from './usage.ts'

export type JobStatus = 'queued' | 'running' | 'completed' | 'failed'

export interface VideoJob {
  id: string
  firmId: string
  clientId: string
  keyId: string
  modelRequested: string
  modelId: string
  provider: string
  upstreamModel: string
  request: Record<string, unknown>
  durationSeconds: number
  status: JobStatus
  providerJobId: string | null
  resultUrl: string | null
  errorCode: string | null
  errorMessage: string | null
  markupBps: number
  perSecondNano: bigint
  reservedNano: bigint
  prepaid: boolean
  period: string
  costNano: bigint | null
  markupNano: bigint | null
  billedNano: bigint | null
  polls: number
  deadlineAt: Date
  createdAt: Date
  updatedAt: Date
  settledAt: Date | null
}

interface Row {
  id: string
  firm_id: string
  client_id: string
  key_id: string
  model_requested: string
  model_id: string
  provider: string
  upstream_model: string
  request: Record<string, unknown>
  duration_seconds: number
  status: JobStatus
  provider_job_id: string | null
  result_url: string | null
  error_code: string | null
  error_message: string | null
  markup_bps: number
  per_second_nano: bigint
  reserved_nano: bigint
  prepaid: boolean
  period: string
  cost_nano: bigint | null
  markup_nano: bigint | null
  billed_nano: bigint | null
  polls: number
  deadline_at: Date
  created_at: Date
  updated_at: Date
  settled_at: Date | null
}

const toJob = (r: Row): VideoJob => ({
  id: r.id,
  firmId: r.firm_id,
  clientId: r.client_id,
  keyId: r.key_id,
  modelRequested: r.model_requested,
  modelId: r.model_id,
  provider: r.provider,
  upstreamModel: r.upstream_model,
  request: r.request,
  durationSeconds: r.duration_seconds,
  status: r.status,
  providerJobId: r.provider_job_id,
  resultUrl: r.result_url,
  errorCode: r.error_code,
  errorMessage: r.error_message,
  markupBps: r.markup_bps,
  perSecondNano: r.per_second_nano,
  reservedNano: r.reserved_nano,
  prepaid: r.prepaid,
  period: r.period,
  costNano: r.cost_nano,
  markupNano: r.markup_nano,
  billedNano: r.billed_nano,
  polls: r.polls,
  deadlineAt: r.deadline_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  settledAt: r.settled_at,
})

export type NewJob = Pick<
  VideoJob,
  'firmId' | 'clientId' | 'keyId' | 'modelRequested' | 'modelId' | 'provider' | 'upstreamModel' | 'request' | 'durationSeconds' | 'markupBps' | 'perSecondNano' | 'reservedNano' | 'prepaid' | 'period' | 'deadlineAt'
>

/** Records a job and, for a prepaid client, holds its reservation on the credit balance — one transaction. */
export async function createJob(sql: Pool, j: NewJob): Promise<VideoJob> {
  return sql.begin(async (tx) => {
    const id = newId('vid')
    const [row] = await tx<Row[]>`
      insert into video_jobs (id, firm_id, client_id, key_id, model_requested, model_id, provider, upstream_model, request,
        duration_seconds, markup_bps, per_second_nano, reserved_nano, prepaid, period, deadline_at)
      values (${id}, ${j.firmId}, ${j.clientId}, ${j.keyId}, ${j.modelRequested}, ${j.modelId}, ${j.provider}, ${j.upstreamModel},
        ${tx.json(j.request as never)}, ${j.durationSeconds}, ${j.markupBps}, ${j.perSecondNano}, ${j.reservedNano}, ${j.prepaid}, ${j.period}, ${j.deadlineAt})
      returning *`
    if (j.prepaid && j.reservedNano > 0n) {
      await appendEntry(tx, { clientId: j.clientId, firmId: j.firmId, kind: 'hold', amountNano: -j.reservedNano, reason: `video job ${id}`, actor: 'meter' })
    }
    return toJob(row!)
  })
}

export async function getJob(sql: Sql, id: string): Promise<VideoJob | null> {
  const [row] = await sql<Row[]>`select * from video_jobs where id = ${id}`
  return row ? toJob(row) : null
}

/** A client's jobs, newest first; `after` is the last id of the previous page. */
export async function listJobs(sql: Sql, clientId: string, page: { after: string | null; limit: number }): Promise<VideoJob[]> {
  const rows = await sql<Row[]>`
    select * from video_jobs where client_id = ${clientId} ${page.after ? sql`and id < ${page.after}` : sql``}
    order by id desc limit ${page.limit}`
  return rows.map(toJob)
}

/**
 * Claims up to `limit` due jobs for `leaseMs`: rows locked by another replica's claim are skipped, and a claim
 * whose holder died expires with its lease, so a job is worked by one replica at a time and never abandoned.
 */
export async function claimDueJobs(sql: Sql, limit: number, leaseMs: number): Promise<VideoJob[]> {
  const rows = await sql<Row[]>`
    update video_jobs set claimed_until = now() + ${leaseMs} * interval '1 millisecond'
    where id in (
      select id from video_jobs
      where settled_at is null and next_poll_at <= now() and (claimed_until is null or claimed_until < now())
      order by next_poll_at limit ${limit}
      for update skip locked)
    returning *`
  return rows.map(toJob)
}

/** Progress that settles nothing: the provider's id and status, the next poll; the claim is released. */
export async function updateJob(sql: Sql, id: string, p: { status: JobStatus; providerJobId?: string | null; nextPollInMs: number; polled: boolean }): Promise<void> {
  await sql`
    update video_jobs set status = ${p.status}, provider_job_id = coalesce(${p.providerJobId ?? null}, provider_job_id),
      polls = polls + ${p.polled ? 1 : 0}, next_poll_at = now() + ${p.nextPollInMs} * interval '1 millisecond',
      claimed_until = null, updated_at = now()
    where id = ${id} and settled_at is null`
}

export interface JobOutcome {
  status: 'completed' | 'failed'
  resultUrl?: string | null
  errorCode?: string | null
  errorMessage?: string | null
  costNano: bigint
  markupNano: bigint
  billedNano: bigint
  /** Upstream status for the usage event. */
  httpStatus: number
}

/**
 * Final state, once: marks the job settled, writes its usage event (dated at submission, so it counts in the month
 * the hold did) and the firm's video_job alert and, for prepaid, releases the hold and debits the bill. Returns null when it was already settled.
 */
export async function settleJob(sql: Pool, job: VideoJob, o: JobOutcome): Promise<VideoJob | null> {
  return sql.begin(async (tx) => {
    const [row] = await tx<Row[]>`
      update video_jobs set status = ${o.status}, result_url = ${o.resultUrl ?? null}, error_code = ${o.errorCode ?? null},
        error_message = ${o.errorMessage ?? null}, cost_nano = ${o.costNano}, markup_nano = ${o.markupNano},
        billed_nano = ${o.billedNano}, settled_at = now(), claimed_until = null, updated_at = now()
      where id = ${job.id} and settled_at is null
      returning *`
    if (!row) return null
    await insertUsageIn(tx, [
      {
        id: job.id,
        firmId: job.firmId,
        clientId: job.clientId,
        keyId: job.keyId,
        endpoint: 'video.jobs',
        modelRequested: job.modelRequested,
        modelUsed: job.modelId,
        provider: job.provider,
        promptTokens: 0,
        completionTokens: 0,
        cachedTokens: 0,
        costNano: o.costNano,
        markupNano: o.markupNano,
        billedNano: o.billedNano,
        status: o.httpStatus,
        outcome: o.status === 'completed' ? 'ok' : 'upstream_error',
        errorCode: o.errorCode ?? null,
        usageEstimated: false,
        stream: false,
        latencyMs: Date.now() - job.createdAt.getTime(),
        createdAt: job.createdAt,
        attempt: 0,
      },
    ])
    // The firm's webhook hears of every finished job (delivered, signed and retried like the other alerts).
    await recordAlert(tx, {
      firmId: job.firmId,
      clientId: job.clientId,
      keyId: job.keyId,
      type: o.status === 'completed' ? 'video_job.completed' : 'video_job.failed',
      period: job.id,
      data: { viapi_job_id: job.id, status: o.status, model: job.modelRequested, result_url: o.resultUrl ?? null, error_code: o.errorCode ?? null, billed_usd: nanoToUsd(o.billedNano) },
    })
    if (job.prepaid) {
      if (job.reservedNano > 0n) await appendEntry(tx, { clientId: job.clientId, firmId: job.firmId, kind: 'release', amountNano: job.reservedNano, reason: `video job ${job.id}`, actor: 'meter' })
      if (o.billedNano > 0n) await appendEntry(tx, { clientId: job.clientId, firmId: job.firmId, kind: 'usage', amountNano: -o.billedNano, reason: `video job ${job.id}`, actor: 'meter' })
    }
    return toJob(row)
  })
}

/** Holds of jobs not yet settled, since `from`: spend the month's counters must include. */
export async function openHolds(sql: Sql, q: { keyId: string; clientId: string; from: Date }): Promise<{ key: bigint; client: bigint }> {
  const [r] = await sql<{ key: bigint | null; client: bigint | null }[]>`
    select sum(reserved_nano) filter (where key_id = ${q.keyId})::bigint as key, sum(reserved_nano)::bigint as client
    from video_jobs where client_id = ${q.clientId} and settled_at is null and created_at >= ${q.from}`
  return { key: r?.key ?? 0n, client: r?.client ?? 0n }
}
