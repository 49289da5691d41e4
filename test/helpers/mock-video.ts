/**
 * Local video providers the tests control, speaking their documented shapes: Runway's task API
 * (POST /v1/text_to_video | /v1/image_to_video, GET /v1/tasks/{id}), OpenAI's videos API (POST /v1/videos,
 * GET /v1/videos/{id}) and Veo's long-running operations (POST /v1beta/models/{m}:predictLongRunning,
 * GET /v1beta/operations/{id}). Each task walks through a script of states, one per poll; `hold` freezes every
 * task where it is until released.
 */
import { LocalServer } from './local-server.ts'

export type Step = 'queued' | 'running' | 'completed' | 'failed'

interface Task {
  id: string
  kind: 'runway' | 'sora' | 'veo'
  script: Step[]
  polls: number
  seconds: number | null
}

export interface Submitted {
  path: string
  headers: Record<string, string>
  body: Record<string, unknown>
  taskId: string
}

export class MockVideo extends LocalServer {
  /** The states the next tasks walk through, one per poll; the last state stays. */
  script: Step[] = ['queued', 'running', 'completed']
  /** Seconds the next Sora tasks report (null: the requested). */
  reportSeconds: number | null = null
  /** Answer submissions with this status instead (4xx: a refusal, 5xx: a transient failure). */
  submitStatus: number | null = null
  /** While true, polls answer "running" and tasks do not advance. */
  hold = false
  submitted: Submitted[] = []
  downloads: { path: string; key: string | null }[] = []
  polls = 0
  private tasks = new Map<string, Task>()
  private seq = 0

  reset(): void {
    this.script = ['queued', 'running', 'completed']
    this.reportSeconds = null
    this.submitStatus = null
    this.hold = false
    this.submitted = []
    this.downloads = []
    this.polls = 0
  }

  protected async handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname
    if (req.method === 'POST') {
      const multipart = (req.headers.get('content-type') ?? '').startsWith('multipart/form-data')
      const body = multipart ? Object.fromEntries([...(await req.formData()).entries()].map(([k, v]) => [k, String(v)])) : ((await req.json()) as Record<string, unknown>)
      if (this.submitStatus) return Response.json({ error: `mock refusal ${this.submitStatus}` }, { status: this.submitStatus })
      const kind = path.startsWith('/v1/videos') ? 'sora' : path.startsWith('/v1beta') ? 'veo' : 'runway'
      const id = kind === 'veo' ? `operations/op${++this.seq}` : `task${++this.seq}`
      this.tasks.set(id, { id, kind, script: [...this.script], polls: 0, seconds: kind === 'sora' ? (this.reportSeconds ?? Number(body.seconds)) : null })
      this.submitted.push({ path, headers: Object.fromEntries(req.headers.entries()), body, taskId: id })
      if (kind === 'veo') return Response.json({ name: id })
      if (kind === 'sora') return Response.json({ id, object: 'video', status: 'queued', model: body.model, seconds: body.seconds })
      return Response.json({ id })
    }
    if (path.endsWith('/content') || path.endsWith(':download') || path.startsWith('/storage/')) {
      const key = req.headers.get('authorization') ?? req.headers.get('x-goog-api-key')
      this.downloads.push({ path, key })
      // Veo's download answers with a signed storage URL, as Google's does.
      if (path.endsWith(':download') && key) return new Response(null, { status: 302, headers: { location: `/storage${path.replace(':download', '.mp4')}?sig=abc` } })
      if (!key && !path.startsWith('/storage/')) return new Response('no key', { status: 401 })
      return new Response(`video bytes of ${path}`, { headers: { 'content-type': 'video/mp4' } })
    }
    const id = path.startsWith('/v1/tasks/') ? path.slice('/v1/tasks/'.length) : path.startsWith('/v1/videos/') ? path.slice('/v1/videos/'.length) : path.slice('/v1beta/'.length)
    const task = this.tasks.get(decodeURIComponent(id))
    if (!task) return Response.json({ error: 'not found' }, { status: 404 })
    this.polls++
    const step: Step = this.hold ? 'running' : (task.script[Math.min(task.polls++, task.script.length - 1)] ?? 'running')
    if (task.kind === 'runway') {
      const status = { queued: 'PENDING', running: 'RUNNING', completed: 'SUCCEEDED', failed: 'FAILED' }[step]
      return Response.json({ id: task.id, status, ...(step === 'completed' ? { output: [`https://cdn.example.test/${task.id}.mp4`] } : {}), ...(step === 'failed' ? { failure: 'Content moderation', failureCode: 'SAFETY' } : {}) })
    }
    if (task.kind === 'sora') {
      const status = { queued: 'queued', running: 'in_progress', completed: 'completed', failed: 'failed' }[step]
      return Response.json({ id: task.id, object: 'video', status, seconds: String(task.seconds), ...(step === 'failed' ? { error: { code: 'moderation_blocked', message: 'blocked' } } : {}) })
    }
    if (step === 'completed') return Response.json({ name: task.id, done: true, response: { generateVideoResponse: { generatedSamples: [{ video: { uri: `${this.origin}/v1beta/files/${task.id.slice('operations/'.length)}:download` } }] } } })
    if (step === 'failed') return Response.json({ name: task.id, done: true, error: { code: 3, message: 'prompt rejected' } })
    return Response.json({ name: task.id, done: false })
  }
}
