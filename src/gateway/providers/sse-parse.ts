/** @module Upstream SSE streams the adapters translate (Anthropic, Gemini): a small parser and the chunk stream built on it. */
import type { UpstreamReply } from '../upstream-body.ts'

/** Splits an SSE byte stream into (event, data) pairs; keeps what is incomplete for the next push. */
export class SseParser {
  private buf = ''

  push(text: string): { event: string; data: string }[] {
    this.buf += text.replace(/\r\n?/g, '\n')
    const out: { event: string; data: string }[] = []
    let at = this.buf.indexOf('\n\n')
    while (at !== -1) {
      const block = this.buf.slice(0, at)
      this.buf = this.buf.slice(at + 2)
      let event = 'message'
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim()
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
      }
      if (data.length > 0) out.push({ event, data: data.join('\n') })
      at = this.buf.indexOf('\n\n')
    }
    return out
  }

  get pending(): number {
    return this.buf.length
  }
}

/** Turns one upstream's events into OpenAI chunks. */
export interface ChunkTranslator {
  /** The OpenAI chunks for one event (`event` is the SSE event name, else the data's `type`). */
  event(event: string, data: Record<string, unknown>): object[]
  /** True once the upstream's own end event arrived: the stream ends there, with [DONE]. */
  readonly ended?: boolean
  /**
   * At the upstream's end of body: the last chunks before [DONE]; null to close without [DONE] (the gateway then
   * reports the break); an Error to fail the stream. `pendingBytes` is what was left of an incomplete event.
   */
  atEnd(pendingBytes: number): object[] | null | Error
}

const enc = new TextEncoder()
const frame = (o: unknown) => enc.encode(`data: ${JSON.stringify(o)}\n\n`)
const DONE = enc.encode('data: [DONE]\n\n')

/** An upstream SSE body as an OpenAI chunk stream, translated event by event as it arrives. */
export function translatedStream(reply: UpstreamReply, t: ChunkTranslator): Response {
  const reader = reply.reader()
  const parser = new SseParser()
  const decoder = new TextDecoder()
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) {
          const last = t.atEnd(parser.pending)
          if (last instanceof Error) return controller.error(last)
          if (last) {
            for (const p of last) controller.enqueue(frame(p))
            controller.enqueue(DONE)
          }
          return controller.close()
        }
        let sent = false
        for (const ev of parser.push(decoder.decode(value, { stream: true }))) {
          let data: Record<string, unknown>
          try {
            data = JSON.parse(ev.data) as Record<string, unknown>
          } catch {
            controller.error(new Error('the upstream sent an event that is not JSON'))
            reply.cancel()
            return
          }
          for (const p of t.event(ev.event !== 'message' ? ev.event : String(data.type ?? ''), data)) {
            controller.enqueue(frame(p))
            sent = true
          }
          if (t.ended) {
            controller.enqueue(DONE)
            controller.close()
            reply.cancel()
            return
          }
        }
        if (sent) return
      }
    },
    cancel() {
      reply.cancel()
    },
  })
  return new Response(stream, { headers: { 'content-type': 'text/event-stream' } })
}

/** The upstream's Retry-After, passed on with its error. */
export function retryAfterHeader(res: Pick<UpstreamReply, 'headers'>): Record<string, string> {
  const v = res.headers.get('retry-after')
  return v ? { 'retry-after': v } : {}
}
