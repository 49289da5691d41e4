/**
 * Benchmark upstream: an OpenAI look-alike with precomputed answers, as cheap as possible so the proxy is what
 * gets measured. Knobs: MOCK_DELAY_MS (before answering), MOCK_GAP_MS (between stream chunks), MOCK_CHUNKS.
 * Prints {"port": N} once listening.
 */
// A request whose body says "user":"paced" or "user":"hold" gets that pacing whatever the knobs: the
// gateway forwards the body, so one mock serves every scenario.
import { completion, streamEvents } from './answers.ts'

const PACES: Record<string, { delay: number; gap: number }> = { paced: { delay: 20, gap: 5 }, hold: { delay: 0, gap: 200 } }
const knobs = { delay: Number(process.env.MOCK_DELAY_MS ?? 0), gap: Number(process.env.MOCK_GAP_MS ?? 0) }
const nChunks = Number(process.env.MOCK_CHUNKS ?? 20)

const json = completion
const events = streamEvents(nChunks)
const encoded = events.map((e) => new TextEncoder().encode(e))
const whole = new TextEncoder().encode(events.join(''))

const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: '127.0.0.1',
  idleTimeout: 0,
  async fetch(req) {
    const body = await req.text()
    const pace = body.includes('"user":"') ? (PACES[/"user":"(\w+)"/.exec(body)?.[1] ?? ''] ?? knobs) : knobs
    const { delay, gap } = pace
    if (delay > 0) await Bun.sleep(delay)
    if (!body.includes('"stream":true')) return new Response(json, { headers: { 'content-type': 'application/json' } })
    if (gap === 0) return new Response(whole, { headers: { 'content-type': 'text/event-stream' } })
    let i = 0
    return new Response(
      new ReadableStream({
        async pull(c) {
          if (i > 0) await Bun.sleep(gap)
          const e = encoded[i++]
          if (e) c.enqueue(e)
          else c.close()
        },
      }),
      { headers: { 'content-type': 'text/event-stream' } },
    )
  },
})
console.log(JSON.stringify({ port: server.port }))
export {}
