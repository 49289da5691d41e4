/**
 * @module Video providers: submit a generation task, poll it. Runway's task API, OpenAI's videos API (Sora) and
 * Google's Veo (Gemini API long-running operations), configured by the same <ID>_API_KEY / <ID>_BASE_URL rule as
 * the chat providers; a deterministic mock for the demo.
 */
import { credentialsFor, type Credentials } from './types.ts'
import { upstreamText } from '../upstream-body.ts'

export interface VideoSubmit {
  model: string
  prompt: string
  durationSeconds: number
  /** An image to animate (URL or data URL), where the provider takes one. */
  image: string | null
  ratio: string | null
  signal: AbortSignal
}

export type VideoPoll =
  | { status: 'queued' | 'running' }
  | { status: 'completed'; resultUrl: string; seconds: number | null }
  | { status: 'failed'; code: string; message: string }

/** A refusal the provider will repeat (4xx): the job fails at once instead of being retried. */
export class VideoRejected extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export interface VideoAdapter {
  readonly configured: boolean
  submit(s: VideoSubmit): Promise<string>
  poll(providerJobId: string, signal: AbortSignal): Promise<VideoPoll>
  /** Where the provider's result needs its key to download: fetches it, for the gateway to stream to the client. */
  download?(resultUrl: string, signal: AbortSignal): Promise<Response>
}

type VideoProviderId = 'runway' | 'openai' | 'gemini' | 'mock'

const DEFAULT_BASE_URLS = {
  runway: 'https://api.dev.runwayml.com',
  openai: 'https://api.openai.com/v1',
  gemini: 'https://generativelanguage.googleapis.com',
  mock: 'http://mock.invalid',
} as const satisfies Record<VideoProviderId, string>

export const RUNWAY_VERSION = '2024-11-06'

/** A job's submit or status answer is a small JSON object: past this it is not one. */
const ANSWER_LIMIT = 4 * 1024 * 1024

async function send(url: string, init: RequestInit): Promise<Record<string, unknown>> {
  const res = await fetch(url, { ...init, redirect: 'manual' })
  const text = await upstreamText(res, ANSWER_LIMIT)
  let body: Record<string, unknown> = {}
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    if (res.ok) throw new Error(`invalid JSON from ${new URL(url).host}`)
  }
  if (res.status >= 400 && res.status < 500 && res.status !== 429) {
    const e = body.error
    const message = typeof e === 'string' ? e : typeof (e as { message?: unknown } | undefined)?.message === 'string' ? (e as { message: string }).message : `the provider answered ${res.status}`
    throw new VideoRejected(res.status, message)
  }
  if (!res.ok) throw new Error(`the provider answered ${res.status}`)
  return body
}

/** The key goes only to the provider's own origin, whatever URL its answer named; redirects are not followed with it. */
async function fetchWithKey(url: string, baseUrl: string, auth: Record<string, string>, signal: AbortSignal): Promise<Response> {
  if (new URL(url).origin !== new URL(baseUrl).origin) return fetch(url, { signal })
  const res = await fetch(url, { headers: auth, signal, redirect: 'manual' })
  const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null
  // A signed storage URL: fetched without the key.
  return location ? fetch(new URL(location, url), { signal }) : res
}

/** Runway: POST /v1/text_to_video or /v1/image_to_video, then GET /v1/tasks/{id}. */
function runway(c: Credentials): VideoAdapter {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${c.apiKey ?? ''}`, 'x-runway-version': RUNWAY_VERSION }
  return {
    configured: Boolean(c.apiKey),
    async submit(s) {
      const path = s.image ? 'image_to_video' : 'text_to_video'
      const body = { model: s.model, promptText: s.prompt, duration: s.durationSeconds, ratio: s.ratio ?? (s.model.startsWith('gen3') ? '1280:768' : '1280:720'), ...(s.image ? { promptImage: s.image } : {}) }
      const out = await send(`${c.baseUrl}/v1/${path}`, { method: 'POST', headers, body: JSON.stringify(body), signal: s.signal })
      if (typeof out.id !== 'string') throw new Error('no task id')
      return out.id
    },
    async poll(id, signal) {
      const t = await send(`${c.baseUrl}/v1/tasks/${encodeURIComponent(id)}`, { headers, signal })
      switch (t.status) {
        case 'SUCCEEDED': {
          const url = Array.isArray(t.output) ? t.output[0] : undefined
          return typeof url === 'string' ? { status: 'completed', resultUrl: url, seconds: null } : { status: 'failed', code: 'no_output', message: 'The provider finished without a video.' }
        }
        case 'FAILED':
        case 'CANCELLED':
          return { status: 'failed', code: String(t.failureCode ?? t.status).toLowerCase(), message: String(t.failure ?? 'The provider could not generate the video.') }
        case 'RUNNING':
          return { status: 'running' }
        default:
          return { status: 'queued' }
      }
    },
  }
}

/** OpenAI videos (Sora): POST /videos (multipart), GET /videos/{id}; the file is at /videos/{id}/content behind the key. */
function sora(c: Credentials): VideoAdapter {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${c.apiKey ?? ''}` }
  return {
    configured: Boolean(c.apiKey),
    async submit(s) {
      // multipart/form-data, as OpenAI documents it (and its SDKs send it).
      const form = new FormData()
      form.set('model', s.model)
      form.set('prompt', s.prompt)
      form.set('seconds', String(s.durationSeconds))
      const out = await send(`${c.baseUrl}/videos`, { method: 'POST', headers: { authorization: headers.authorization }, body: form, signal: s.signal })
      if (typeof out.id !== 'string') throw new Error('no video id')
      return out.id
    },
    async poll(id, signal) {
      const v = await send(`${c.baseUrl}/videos/${encodeURIComponent(id)}`, { headers, signal })
      if (v.status === 'completed') return { status: 'completed', resultUrl: `${c.baseUrl}/videos/${encodeURIComponent(id)}/content`, seconds: Number(v.seconds) || null }
      if (v.status === 'failed') {
        const e = (v.error ?? {}) as { code?: string; message?: string }
        return { status: 'failed', code: e.code ?? 'failed', message: e.message ?? 'The provider could not generate the video.' }
      }
      return { status: v.status === 'in_progress' ? 'running' : 'queued' }
    },
    download: (url, signal) => fetchWithKey(url, c.baseUrl, { authorization: headers.authorization }, signal),
  }
}

/** Veo: POST /v1beta/models/{model}:predictLongRunning, then GET /v1beta/{operation}. */
function veo(c: Credentials): VideoAdapter {
  const headers = { 'content-type': 'application/json', 'x-goog-api-key': c.apiKey ?? '' }
  return {
    configured: Boolean(c.apiKey),
    async submit(s) {
      const body = { instances: [{ prompt: s.prompt }], parameters: { durationSeconds: s.durationSeconds, ...(s.ratio ? { aspectRatio: s.ratio } : {}) } }
      const out = await send(`${c.baseUrl}/v1beta/models/${encodeURIComponent(s.model)}:predictLongRunning`, { method: 'POST', headers, body: JSON.stringify(body), signal: s.signal })
      if (typeof out.name !== 'string') throw new Error('no operation name')
      return out.name
    },
    async poll(name, signal) {
      const op = await send(`${c.baseUrl}/v1beta/${name.split('/').map(encodeURIComponent).join('/')}`, { headers, signal })
      if (op.done !== true) return { status: 'running' }
      const err = op.error as { code?: number; message?: string } | undefined
      if (err) return { status: 'failed', code: String(err.code ?? 'failed'), message: err.message ?? 'The provider could not generate the video.' }
      const samples = ((op.response as { generateVideoResponse?: { generatedSamples?: { video?: { uri?: string } }[] } } | undefined)?.generateVideoResponse?.generatedSamples ?? [])
      const uri = samples[0]?.video?.uri
      return uri ? { status: 'completed', resultUrl: uri, seconds: null } : { status: 'failed', code: 'no_output', message: 'The provider finished without a video.' }
    },
    download: (url, signal) => fetchWithKey(url, c.baseUrl, { 'x-goog-api-key': headers['x-goog-api-key'] }, signal),
  }
}

/** Completes on the second poll with a fixed URL: enough for the demo tenant. */
function mock(): VideoAdapter {
  const polls = new Map<string, number>()
  return {
    configured: true,
    async submit() {
      const id = `mockvid_${crypto.randomUUID()}`
      polls.set(id, 0)
      return id
    },
    async poll(id) {
      const n = (polls.get(id) ?? 1) + 1
      polls.set(id, n)
      return n < 2 ? { status: 'running' } : { status: 'completed', resultUrl: `https://videos.mock.invalid/${id}.mp4`, seconds: null }
    },
  }
}

const BUILD = { runway, openai: sora, gemini: veo, mock: () => mock() } as const satisfies Record<VideoProviderId, (c: Credentials) => VideoAdapter>

export type VideoRegistry = Partial<Record<string, VideoAdapter>>

export function createVideoProviders(env: Record<string, string | undefined>): VideoRegistry {
  const out: VideoRegistry = {}
  for (const id of Object.keys(BUILD) as VideoProviderId[]) out[id] = BUILD[id](credentialsFor(id, env, DEFAULT_BASE_URLS[id]))
  return out
}
