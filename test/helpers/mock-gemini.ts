/** A local Generative Language API look-alike (generateContent, streamGenerateContent?alt=sse), recording requests. */
import { LocalServer } from './local-server.ts'

export interface GeminiScenario {
  text?: string
  functionCall?: { name: string; args: Record<string, unknown> }
  usage?: { promptTokenCount: number; candidatesTokenCount: number; thoughtsTokenCount?: number; cachedContentTokenCount?: number }
  status?: number
}

export class MockGemini extends LocalServer {
  scenario: GeminiScenario = {}
  requests: { path: string; search: string; body: Record<string, unknown>; headers: Record<string, string> }[] = []
  get baseUrl(): string {
    return this.origin
  }

  protected async handle(req: Request): Promise<Response> {
    const url = new URL(req.url)
    const body = (await req.json()) as Record<string, unknown>
    this.requests.push({ path: url.pathname, search: url.search, body, headers: Object.fromEntries(req.headers.entries()) })
    const s = this.scenario
    if (url.pathname.endsWith(':batchEmbedContents')) {
      return Response.json({ embeddings: (body.requests as unknown[]).map(() => ({ values: [0.5, 0.25] })) })
    }
    if (s.status) return Response.json({ error: { code: s.status, message: `mock gemini ${s.status}`, status: 'INVALID_ARGUMENT' } }, { status: s.status })
    const usage = { ...(s.usage ?? { promptTokenCount: 20, candidatesTokenCount: 10 }), totalTokenCount: 0 }
    const parts = [...(s.text !== '' ? [{ text: s.text ?? 'Hello from Gemini.' }] : []), ...(s.functionCall ? [{ functionCall: s.functionCall }] : [])]
    const whole = { candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }], usageMetadata: usage, modelVersion: 'gemini-2.5-flash', responseId: 'resp1' }
    if (url.pathname.endsWith(':generateContent')) return Response.json(whole)
    const pieces = (s.text ?? 'Hello from Gemini.').match(/\S+\s*/g) ?? []
    const chunks = pieces.map((p, i) => ({ candidates: [{ content: { role: 'model', parts: [{ text: p }] }, index: 0, ...(i === pieces.length - 1 && !s.functionCall ? { finishReason: 'STOP' } : {}) }], usageMetadata: { promptTokenCount: usage.promptTokenCount }, responseId: 'resp1' }))
    if (s.functionCall) chunks.push({ candidates: [{ content: { role: 'model', parts: [{ functionCall: s.functionCall } as never] }, index: 0, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: usage.promptTokenCount }, responseId: 'resp1' })
    chunks.push({ candidates: [], usageMetadata: usage, responseId: 'resp1' } as never)
    return new Response(chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join(''), { headers: { 'content-type': 'text/event-stream' } })
  }
}
