/**
 * Async video jobs through real gateway processes against local Runway, Sora and Veo look-alikes: the docs'
 * submit-and-poll example, holds reconciled on completion and released on failure or timeout, a restart in the
 * middle of a job, two gateways sharing the queue, job privacy, refusal of a hold that cannot be covered, and
 * estimates equal to the bill.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Database } from '../src/shared/db.ts'
import { bootstrap, type BootstrapResult } from '../src/tenancy/bootstrap.ts'
import { createRoute } from '../src/tenancy/routes.ts'
import { ok, prepaidClient } from './helpers/admin.ts'
import { readyDb, startGateway, testDb, until, type GatewayProcess, type TestDb } from './helpers/gateway.ts'
import { MockVideo } from './helpers/mock-video.ts'

const video = new MockVideo()
let db: TestDb
let conn: Database
let gw: GatewayProcess
let fx: BootstrapResult
let env: Record<string, string>

type Job = { viapi_job_id: string; status: string; result_url?: string | null; error?: { code: string; message: string }; viapi: Record<string, number | string> }

async function submit(body: Record<string, unknown>, key = fx.api_key!, url = gw.url): Promise<{ status: number; body: Job & { error?: { code: string; message: string } } }> {
  const res = await fetch(`${url}/v1/video/jobs`, { method: 'POST', headers: { 'X-Viapi-Key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, body: (await res.json()) as Job }
}

async function read(id: string, auth: Record<string, string> = { 'X-Viapi-Key': fx.api_key! }, url = gw.url): Promise<{ status: number; body: Job }> {
  const res = await fetch(`${url}/v1/video/jobs/${id}`, { headers: auth })
  return { status: res.status, body: (await res.json()) as Job }
}

async function final(id: string, key = fx.api_key!, url = gw.url): Promise<Job> {
  return until(
    async () => {
      const { body } = await read(id, { 'X-Viapi-Key': key }, url)
      return body.status === 'completed' || body.status === 'failed' ? body : null
    },
    15_000,
    `job ${id} final`,
  )
}

const prepaid = (slug: string, cents: number) => prepaidClient(gw.url, fx.admin_token, slug, cents)

const ledger = (clientId: string) => conn.sql<{ kind: string; amount_nano: bigint }[]>`select kind, amount_nano from credit_ledger where client_id = ${clientId} and kind <> 'adjustment' order by id`
const balance = async (clientId: string) => (await conn.sql<{ b: bigint }[]>`select balance_nano as b from credit_accounts where client_id = ${clientId}`)[0]!.b

beforeAll(async () => {
  video.start()
  db = await testDb('postgres')
  conn = await readyDb(db)
  fx = await bootstrap(conn.sql, { firmName: 'Reel', email: 'reel@x.test', demo: true, demoTarget: 'openai:gpt-4o', markupBps: 0 })
  await createRoute(conn.sql, { firmId: fx.firm_id, clientId: fx.client_id!, alias: 'clip', target: 'openai:sora-2' })
  await conn.sql`update clients set rpm = 100000 where id = ${fx.client_id!}`
  env = {
    ...db.env,
    RUNWAY_API_KEY: 'rw-test-SECRET',
    RUNWAY_BASE_URL: video.origin,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: `${video.origin}/v1`,
    GEMINI_API_KEY: 'gem-test',
    GEMINI_BASE_URL: video.origin,
    VIAPI_VIDEO_POLL_MS: '30',
    VIAPI_VIDEO_TIMEOUT_MS: '4000',
    VIAPI_USAGE_FLUSH_MS: '50',
    VIAPI_ALLOW_PRIVATE_URLS: 'true',
  }
  gw = await startGateway(env)
})
afterAll(async () => {
  await gw?.stop()
  await conn?.close()
  await video.stop()
  await db?.drop()
})

describe('video jobs', () => {
  test("the docs' example: 202 with a job id at once, polled to completed with a result URL, billed 5 s × $0.05", async () => {
    video.reset()
    const job = await submit({ model: 'runway-gen3-alpha', prompt: 'A cinematic drone shot over a city at dusk', duration_seconds: 5 })
    expect(job.status).toBe(202)
    expect(job.body).toMatchObject({ status: 'queued', viapi: { provider: 'runway', model_used: 'gen3a_turbo', estimated_cost_usd: 0.25, reserved_usd: 0.25 } })
    const id = job.body.viapi_job_id
    expect(id).toMatch(/^vid_/)
    const done = await final(id)
    expect(done).toMatchObject({ status: 'completed', result_url: expect.stringMatching(/^https:\/\/cdn\.example\.test\/task\d+\.mp4$/), viapi: { cost_usd: 0.25, billed_usd: 0.25, reserved_usd: 0 } })
    const sent = video.submitted.at(-1)!
    expect(sent.path).toBe('/v1/text_to_video')
    expect(sent.headers['x-runway-version']).toBe('2024-11-06')
    expect(sent.headers.authorization).toBe('Bearer rw-test-SECRET')
    expect(sent.body).toMatchObject({ model: 'gen3a_turbo', promptText: 'A cinematic drone shot over a city at dusk', duration: 5 })
    const [ev] = await conn.sql<{ endpoint: string; billed_nano: bigint; model_used: string }[]>`select endpoint, billed_nano, model_used from usage_events where id = ${id}`
    expect(ev).toEqual({ endpoint: 'video.jobs', billed_nano: 250_000_000n, model_used: 'runway-gen3-alpha' })
    expect(gw.output()).not.toContain('rw-test-SECRET')
  })

  test('an image makes it image_to_video; an unoffered duration or a missing prompt is refused', async () => {
    video.reset()
    const job = await submit({ model: 'runway-gen4-turbo', prompt: 'waves', duration_seconds: 10, image: 'https://img.example.test/a.png', ratio: '960:960' })
    await final(job.body.viapi_job_id)
    expect(video.submitted.at(-1)!).toMatchObject({ path: '/v1/image_to_video', body: { model: 'gen4_turbo', promptImage: 'https://img.example.test/a.png', duration: 10, ratio: '960:960' } })
    expect(await submit({ model: 'runway-gen3-alpha', prompt: 'x', duration_seconds: 7 })).toMatchObject({ status: 400, body: { error: { code: 'invalid_value' } } })
    expect(await submit({ model: 'runway-gen3-alpha', duration_seconds: 5 })).toMatchObject({ status: 400, body: { error: { code: 'missing_required_parameter' } } })
    expect(await submit({ model: 'gpt-4o', prompt: 'x' })).toMatchObject({ status: 400, body: { error: { code: 'model_not_supported' } } })
  })

  test('prepaid: the hold is taken at submission, reconciled to the seconds delivered, the rest refunded', async () => {
    video.reset()
    video.hold = true
    video.reportSeconds = 4
    const c = await prepaid('reconcile', 200)
    // sora-2 at $0.10/s × 8 s: an 80-cent hold
    const job = await submit({ model: 'sora-2', prompt: 'a fox', duration_seconds: 8 }, c.key)
    expect(job.status).toBe(202)
    await until(async () => (await ledger(c.id)).length === 1, 5000, 'hold')
    expect(await balance(c.id)).toBe(1_200_000_000n)
    video.hold = false
    const done = await final(job.body.viapi_job_id, c.key)
    expect(done.viapi).toMatchObject({ estimated_cost_usd: 0.8, cost_usd: 0.4, billed_usd: 0.4 })
    expect((await ledger(c.id)).map((e) => [e.kind, e.amount_nano])).toEqual([
      ['hold', -800_000_000n],
      ['release', 800_000_000n],
      ['usage', -400_000_000n],
    ])
    expect(await balance(c.id)).toBe(1_600_000_000n)
    expect(video.submitted.at(-1)!).toMatchObject({ path: '/v1/videos', body: { model: 'sora-2', prompt: 'a fox', seconds: '8' } })
    expect(video.submitted.at(-1)!.headers['content-type']).toStartWith('multipart/form-data; boundary=')
    const file = await fetch(done.result_url!, { headers: { 'X-Viapi-Key': c.key } })
    expect(await file.text()).toMatch(/^video bytes of \/v1\/videos\/task\d+\/content$/)
    expect(video.downloads.at(-1)!.key).toBe('Bearer sk-test')
    // The refund reached the gateway's own counters too: a $1.60 hold (veo-3, 4 s) fits only with it.
    const next = await submit({ model: 'veo-3', prompt: 'x', duration_seconds: 4 }, c.key)
    expect(next.status).toBe(202)
    expect((await submit({ model: 'sora-2', prompt: 'x', duration_seconds: 4 }, c.key)).status).toBe(429)
    expect((await final(next.body.viapi_job_id, c.key)).status).toBe('completed')
  })

  test('a failed job is released in full and bills nothing; so is one refused by the provider', async () => {
    video.reset()
    video.script = ['running', 'failed']
    const c = await prepaid('fails', 100)
    const job = await submit({ model: 'runway-gen3-alpha', prompt: 'x', duration_seconds: 5 }, c.key)
    expect(await final(job.body.viapi_job_id, c.key)).toMatchObject({ status: 'failed', error: { code: 'safety', message: 'Content moderation' }, viapi: { billed_usd: 0, reserved_usd: 0 } })
    expect((await ledger(c.id)).map((e) => [e.kind, e.amount_nano])).toEqual([
      ['hold', -250_000_000n],
      ['release', 250_000_000n],
    ])
    expect(await balance(c.id)).toBe(1_000_000_000n)

    video.reset()
    video.submitStatus = 400
    const refused = await submit({ model: 'runway-gen3-alpha', prompt: 'x', duration_seconds: 5 }, c.key)
    expect((await final(refused.body.viapi_job_id, c.key)).error).toMatchObject({ code: 'upstream_rejected' })
    expect(await balance(c.id)).toBe(1_000_000_000n)
  })

  test('a job the provider never finishes times out and is released', async () => {
    video.reset()
    video.hold = true
    const c = await prepaid('slow', 100)
    const job = await submit({ model: 'runway-gen3-alpha', prompt: 'x', duration_seconds: 5 }, c.key)
    const done = await final(job.body.viapi_job_id, c.key)
    expect(done.status).toBe('failed')
    expect(done.error).toMatchObject({ code: 'timeout' })
    expect(await balance(c.id)).toBe(1_000_000_000n)
    video.hold = false
  })

  test('a hold the client cannot cover is refused with 429 insufficient_quota, and no job is recorded', async () => {
    const c = await prepaid('poor', 20)
    const r = await submit({ model: 'runway-gen3-alpha', prompt: 'x', duration_seconds: 5 }, c.key)
    expect(r.status).toBe(429)
    expect(r.body.error).toMatchObject({ code: 'insufficient_quota' })
    expect((await conn.sql`select 1 from video_jobs where client_id = ${c.id}`).length).toBe(0)
    expect(await balance(c.id)).toBe(200_000_000n)
  })

  test('only the owning client and its firm’s admins can see a job', async () => {
    video.reset()
    const job = await submit({ model: 'clip', prompt: 'x', duration_seconds: 4 })
    const other = await prepaid('nosy', 100)
    expect(await read(job.body.viapi_job_id, { 'X-Viapi-Key': other.key })).toMatchObject({ status: 404, body: { error: { code: 'job_not_found' } } })
    expect((await read(job.body.viapi_job_id, { authorization: `Bearer ${fx.admin_token}` })).status).toBe(200)
    const stranger = await bootstrap(conn.sql, { firmName: 'Else', email: 'else@x.test', demo: true, demoTarget: 'openai:gpt-4o' })
    expect((await read(job.body.viapi_job_id, { authorization: `Bearer ${stranger.admin_token}` })).status).toBe(404)
    expect((await read(job.body.viapi_job_id, { 'X-Viapi-Key': stranger.api_key! })).status).toBe(404)
    expect((await read('vid_nope')).status).toBe(404)
    // Admins list a client's jobs through GraphQL; another firm's admin cannot.
    const listed = await ok<{ videoJobs: { edges: { node: { id: string; model: string; provider: string; durationSeconds: number } }[] } }>(gw.url, fx.admin_token, 'query($c: ID!) { videoJobs(clientId: $c, first: 100) { edges { node { id model provider durationSeconds status reservedUsd billedUsd } } } }', { c: fx.client_id })
    expect(listed.videoJobs.edges.map((e) => e.node)).toContainEqual(expect.objectContaining({ id: job.body.viapi_job_id, model: 'clip', provider: 'openai', durationSeconds: 4 }))
    const foreign = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${stranger.admin_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ query: 'query($c: ID!) { videoJobs(clientId: $c) { edges { node { id } } } }', variables: { c: fx.client_id } }) })
    expect(((await foreign.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('NOT_FOUND')
    expect((await read(job.body.viapi_job_id, {})).status).toBe(401)
    await final(job.body.viapi_job_id)
  })

  test('Veo through its long-running operations', async () => {
    video.reset()
    const job = await submit({ model: 'veo-3', prompt: 'rain on a window', duration_seconds: 8 })
    const done = await final(job.body.viapi_job_id)
    // Veo's file needs the Gemini key: the client gets the gateway's URL, which streams it.
    expect(done).toMatchObject({ status: 'completed', result_url: `${gw.url}/v1/video/jobs/${job.body.viapi_job_id}/content`, viapi: { billed_usd: 3.2 } })
    const file = await fetch(done.result_url!, { headers: { 'X-Viapi-Key': fx.api_key! } })
    expect(file.status).toBe(200)
    expect(file.headers.get('content-type')).toBe('video/mp4')
    expect(await file.text()).toMatch(/^video bytes of \/storage\/v1beta\/files\/op\d+\.mp4$/)
    // The key went to Google's origin only, not to the signed storage URL it redirected to.
    expect(video.downloads.slice(-2).map((d) => d.key)).toEqual(['gem-test', null])
    const other = await prepaid('peek', 10)
    expect((await fetch(done.result_url!, { headers: { 'X-Viapi-Key': other.key } })).status).toBe(404)
    expect(video.submitted.at(-1)!).toMatchObject({ path: '/v1beta/models/veo-3.0-generate-001:predictLongRunning', body: { instances: [{ prompt: 'rain on a window' }], parameters: { durationSeconds: 8 } } })
    expect(video.submitted.at(-1)!.headers['x-goog-api-key']).toBe('gem-test')
  })

  test('the estimate for a video is the later bill', async () => {
    video.reset()
    const res = await fetch(`${gw.url}/v1/estimate`, { method: 'POST', headers: { 'X-Viapi-Key': fx.api_key!, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'runway-gen3-alpha', prompt: 'x', duration_seconds: 10 }) })
    const e = (await res.json()) as { estimated_cost_cents: number; provider: string }
    expect(e).toMatchObject({ estimated_cost_cents: 50, provider: 'runway', assumptions: { duration_seconds: 10 } })
    const job = await submit({ model: 'runway-gen3-alpha', prompt: 'x', duration_seconds: 10 })
    expect(Number((await final(job.body.viapi_job_id)).viapi.billed_usd) * 100).toBe(e.estimated_cost_cents)
  })
})

describe('firm webhook', () => {
  test('a finished job is announced to the firm’s webhook', async () => {
    const received: { type: string; data: Record<string, unknown> }[] = []
    const receiver = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: async (req) => (received.push((await req.json()) as (typeof received)[number]), new Response('ok')) })
    try {
      await ok(gw.url, fx.admin_token, 'mutation($u: String) { setFirmWebhook(input: {url: $u}) { secret } }', { u: `http://127.0.0.1:${receiver.port}/hook` })
      video.reset()
      const job = await submit({ model: 'runway-gen3-alpha', prompt: 'x', duration_seconds: 5 })
      await final(job.body.viapi_job_id)
      const event = await until(() => received.find((e) => e.data.viapi_job_id === job.body.viapi_job_id), 10_000, 'webhook')
      expect(event).toMatchObject({ type: 'video_job.completed', data: { status: 'completed', model: 'runway-gen3-alpha', billed_usd: 0.25, result_url: expect.stringContaining('https://cdn.example.test/') } })
    } finally {
      await ok(gw.url, fx.admin_token, 'mutation { setFirmWebhook(input: {url: null}) { secret } }').catch(() => null)
      await receiver.stop(true)
    }
  })
})

describe('durability', () => {
  test('a gateway restart in the middle of a job: picked up again, charged once', async () => {
    video.reset()
    video.hold = true
    const c = await prepaid('restart', 100)
    const job = await submit({ model: 'runway-gen3-alpha', prompt: 'x', duration_seconds: 5 }, c.key)
    await until(() => video.submitted.length === 1 && video.polls > 0, 5000, 'job sent and polled')
    expect(await gw.stop()).toBe(0)
    video.hold = false
    gw = await startGateway(env)
    const done = await final(job.body.viapi_job_id, c.key)
    expect(done.status).toBe('completed')
    expect(done.viapi).toMatchObject({ billed_usd: 0.25 })
    expect(video.submitted).toHaveLength(1)
    await Bun.sleep(300)
    expect((await conn.sql`select 1 from usage_events where id = ${job.body.viapi_job_id}`).length).toBe(1)
    expect((await ledger(c.id)).map((e) => e.kind)).toEqual(['hold', 'release', 'usage'])
    expect(await balance(c.id)).toBe(750_000_000n)
  })

  test('two gateways share the queue: every job is submitted to the provider exactly once', async () => {
    video.reset()
    const second = await startGateway(env)
    try {
      const jobs = await Promise.all(Array.from({ length: 8 }, (_, i) => submit({ model: 'runway-gen3-alpha', prompt: `p${i}`, duration_seconds: 5 }, fx.api_key!, i % 2 ? second.url : gw.url)))
      for (const j of jobs) expect(j.status).toBe(202)
      for (const j of jobs) expect((await final(j.body.viapi_job_id)).status).toBe('completed')
      expect(video.submitted).toHaveLength(8)
      expect(new Set(video.submitted.map((s) => s.body.promptText)).size).toBe(8)
      const ids = jobs.map((j) => j.body.viapi_job_id)
      const events = await conn.sql<{ n: number }[]>`select count(*)::int as n from usage_events where id = any(${ids})`
      expect(events[0]!.n).toBe(8)
    } finally {
      await second.stop()
    }
  })
})
