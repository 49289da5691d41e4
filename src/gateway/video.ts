/**
 * @module Async video jobs over HTTP: POST /v1/video/jobs holds the most the job can cost (refused with 429
 * insufficient_quota when that cannot be covered) and answers 202 at once; GET /v1/video/jobs/{id} shows the job to
 * its own client or its firm's admins. The worker (video-worker.ts) submits, polls and settles.
 */
import { createJob, getJob, type VideoJob } from '../billing/jobs.ts'
import { applyMarkup, mostBilled } from '../billing/pricing.ts'
import { describeError, log } from '../shared/log.ts'
import { BadGateway, InvalidRequest, NotFound, ServiceUnavailable } from '../shared/errors.ts'
import { nanoToUsd } from '../shared/money.ts'
import { publicOrigin } from '../shared/origin.ts'
import { KEY_PREFIX } from '../tenancy/keys.ts'
import { authenticate, extractKey } from './auth.ts'
import { readJsonBody } from './body.ts'
import { admitTargets } from './targets.ts'
import type { GatewayContext } from './context.ts'
import type { Target } from './resolve.ts'

export interface VideoRequest {
  model: string
  prompt: string
  durationSeconds: number | null
  image: string | null
  ratio: string | null
}

export function parseVideoRequest(body: Record<string, unknown>, needsPrompt = true): VideoRequest {
  if (typeof body.model !== 'string' || body.model === '') throw new InvalidRequest('you must provide a model parameter', 'model', 'missing_required_parameter')
  if (needsPrompt && (typeof body.prompt !== 'string' || body.prompt.trim() === '')) throw new InvalidRequest('you must provide a prompt parameter', 'prompt', 'missing_required_parameter')
  const d = body.duration_seconds
  if (d !== undefined && d !== null && (typeof d !== 'number' || !Number.isInteger(d) || d <= 0)) throw new InvalidRequest("'duration_seconds' must be a positive whole number.", 'duration_seconds', 'invalid_value')
  for (const f of ['image', 'ratio'] as const) {
    if (body[f] !== undefined && body[f] !== null && typeof body[f] !== 'string') throw new InvalidRequest(`'${f}' must be a string.`, f, 'invalid_type')
  }
  return { model: body.model, prompt: typeof body.prompt === 'string' ? body.prompt : '', durationSeconds: (d as number | null | undefined) ?? null, image: (body.image as string | undefined) ?? null, ratio: (body.ratio as string | undefined) ?? null }
}

/** The duration each target will be asked for (the request's, else the primary's default), which every target must offer. */
export function videoPlan(targets: readonly Target[], req: VideoRequest): { seconds: number; targets: readonly Target[] } {
  const video = targets.filter((t) => t.model.video)
  const seconds = req.durationSeconds ?? video[0]?.model.video?.defaultSeconds ?? 0
  const usable = video.filter((t) => t.model.video!.durations.includes(seconds))
  if (usable.length === 0) {
    const offered = video[0]?.model.video?.durations.join(', ') ?? 'none'
    throw new InvalidRequest(`The model "${req.model}" does not offer ${seconds}-second videos (it offers ${offered}).`, 'duration_seconds', 'invalid_value')
  }
  return { seconds, targets: usable }
}

/** The most a job can bill: its duration at the priciest target it may run on, with markup. */
export function videoHold(targets: readonly Target[], seconds: number, markupBps: number): bigint {
  return mostBilled(targets, markupBps, (t) => BigInt(seconds) * t.model.video!.perSecondNano)
}

export async function submitVideoJob(gw: GatewayContext, request: Request, headers: Record<string, string | number>): Promise<Response> {
  const now = Date.now()
  const entry = await authenticate(gw.keys, request.headers, now)
  const { body } = await readJsonBody(request, gw.config.bodyLimitBytes)
  const req = parseVideoRequest(body)
  const plan = videoPlan(admitTargets(gw, entry, req.model, 'video'), req)
  const primary = plan.targets.find((t) => gw.video[t.provider]?.configured)
  if (!primary) throw new ServiceUnavailable(`No provider for "${req.model}" is configured on this gateway.`, 'provider_not_configured')
  const hold = videoHold(plan.targets, plan.seconds, entry.ctx.markupBps)
  const admission = await gw.guard.admit(entry.ctx, hold, now, true)
  Object.assign(headers, admission.headers)
  let job: VideoJob
  try {
    job = await createJob(gw.sql, {
      firmId: entry.ctx.firmId,
      clientId: entry.ctx.clientId,
      keyId: entry.ctx.keyId,
      modelRequested: req.model,
      modelId: primary.modelId,
      provider: primary.provider,
      upstreamModel: primary.upstreamModel,
      request: { prompt: req.prompt, duration_seconds: plan.seconds, image: req.image, ratio: req.ratio },
      durationSeconds: plan.seconds,
      markupBps: entry.ctx.markupBps,
      perSecondNano: primary.model.video!.perSecondNano,
      reservedNano: hold,
      prepaid: entry.ctx.billingMode === 'prepaid',
      period: admission.month.label,
      deadlineAt: new Date(now + gw.config.videoTimeoutMs),
    })
  } catch (err) {
    gw.guard.settle(entry.ctx, admission, 0n, Date.now())
    log.error('video job not recorded', { error: describeError(err) })
    throw new ServiceUnavailable('The job could not be recorded; nothing was charged. Retry shortly.', 'database_unavailable')
  }
  // The hold now counts as spent until the worker settles the job (and refunds the difference).
  gw.guard.settle(entry.ctx, admission, hold, Date.now())
  log.info('video job submitted', { job_id: job.id, client_id: job.clientId, key: entry.ctx.keyPrefix, model: job.modelId, seconds: job.durationSeconds })
  return Response.json(renderJob(job), { status: 202 })
}

/** The job, if the caller may see it: its own client's key, or an admin of its firm; 404 for anyone else. */
async function visibleJob(gw: GatewayContext, request: Request, id: string, adminFirm: (request: Request) => Promise<string | undefined>): Promise<VideoJob> {
  let allowed: (job: VideoJob) => boolean
  if (extractKey(request.headers)?.startsWith(KEY_PREFIX)) {
    const entry = await authenticate(gw.keys, request.headers, Date.now())
    allowed = (job) => job.clientId === entry.ctx.clientId
  } else {
    // An admin token: the firm's admins see its jobs (a platform admin, undefined firm, sees all).
    const firm = await adminFirm(request)
    allowed = (job) => firm === undefined || job.firmId === firm
  }
  const job = /^vid_[0-9A-Za-z]{26}$/.test(id) ? await getJob(gw.sql, id) : null
  if (!job || !allowed(job)) throw new NotFound(`No video job ${JSON.stringify(id)}.`, 'job_not_found')
  return job
}

export async function readVideoJob(gw: GatewayContext, request: Request, id: string, adminFirm: (request: Request) => Promise<string | undefined>): Promise<Response> {
  return Response.json(renderJob(await visibleJob(gw, request, id, adminFirm), contentUrl(gw, request)))
}

/** GET /v1/video/jobs/{id}/content: the finished video, streamed with the provider's key where its URL needs one. */
export async function videoContent(gw: GatewayContext, request: Request, id: string, adminFirm: (request: Request) => Promise<string | undefined>): Promise<Response> {
  const job = await visibleJob(gw, request, id, adminFirm)
  if (job.status !== 'completed' || !job.resultUrl) throw new NotFound('This job has no video (yet).', 'content_not_ready')
  const adapter = gw.video[job.provider]
  if (!adapter?.download) return Response.redirect(job.resultUrl, 302)
  let res: Response
  try {
    res = await adapter.download(job.resultUrl, AbortSignal.any([request.signal, AbortSignal.timeout(gw.config.upstreamTimeoutMs)]))
  } catch {
    throw new BadGateway('The provider could not be reached for the video.', 'upstream_unreachable')
  }
  if (!res.ok || !res.body) throw new BadGateway(`The provider answered ${res.status} for the video.`)
  const headers: Record<string, string> = { 'content-type': res.headers.get('content-type') ?? 'video/mp4' }
  const length = res.headers.get('content-length')
  if (length) headers['content-length'] = length
  return new Response(res.body, { headers })
}

/** The gateway's own URL for a job's video: VIAPI_PUBLIC_URL when set, else the origin the request came to. */
function contentUrl(gw: GatewayContext, request: Request): (job: VideoJob) => string | null {
  const origin = publicOrigin(request, gw.config.env)
  return (job) => (gw.video[job.provider]?.download ? `${origin}/v1/video/jobs/${job.id}/content` : job.resultUrl)
}

/** `resultUrl` maps a finished job to the URL the client can fetch (the gateway's, where the provider's needs a key). */
export function renderJob(job: VideoJob, resultUrl: (job: VideoJob) => string | null = (j) => j.resultUrl) {
  const final = job.settledAt !== null
  return {
    viapi_job_id: job.id,
    object: 'video.job',
    status: job.status,
    model: job.modelRequested,
    prompt: job.request.prompt,
    duration_seconds: job.durationSeconds,
    created_at: Math.floor(job.createdAt.getTime() / 1000),
    ...(job.status === 'completed' ? { result_url: resultUrl(job) } : {}),
    ...(job.status === 'failed' ? { error: { code: job.errorCode, message: job.errorMessage } } : {}),
    viapi: {
      provider: job.provider,
      model_used: job.upstreamModel,
      estimated_cost_usd: nanoToUsd(applyMarkup(BigInt(job.durationSeconds) * job.perSecondNano, job.markupBps).billedNano),
      reserved_usd: final ? 0 : nanoToUsd(job.reservedNano),
      ...(final ? { cost_usd: nanoToUsd(job.costNano ?? 0n), markup_usd: nanoToUsd(job.markupNano ?? 0n), billed_usd: nanoToUsd(job.billedNano ?? 0n) } : {}),
    },
  }
}
