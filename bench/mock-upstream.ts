/**
 * Benchmark upstream: an OpenAI look-alike with precomputed answers, as cheap as possible so the proxy is what
 * gets measured. Knobs: MOCK_DELAY_MS (before answering), MOCK_GAP_MS (between stream chunks), MOCK_CHUNKS.
 * Prints {"port": N} once listening.
 */
// A request whose body says "user":"paced" or "user":"hold" gets that pacing whatever the knobs: the
// gateway forwards the body, so one mock serves every scenario.
const PACES: Record<string, { delay: number; gap: number }> = { paced: { delay: 20, gap: 5 }, hold: { delay: 0, gap: 200 } }
const knobs = { delay: Number(process.env.MOCK_DELAY_MS ?? 0), gap: Number(process.env.MOCK_GAP_MS ?? 0) }
const nChunks = Number(process.env.MOCK_CHUNKS ?? 20)

const json = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1714000000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 18, total_tokens: 30 },
})
const chunk = (delta: object, finish: string | null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1714000000, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }], usage: null })}\n\n`
const events = [chunk({ role: 'assistant', content: '' }, null)]
for (let i = 0; i < nChunks; i++) events.push(chunk({ content: ` token${i}` }, null))
events.push(chunk({}, 'stop'))
events.push(`data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1714000000, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 12, completion_tokens: nChunks, total_tokens: 12 + nChunks } })}\n\n`)
events.push('data: [DONE]\n\n')
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
