/**
 * Many concurrent streams held open: `bun bench/streams.ts URL HEADERS_JSON COUNT` opens COUNT streamed requests at once
 * (paced upstream: "user":"hold") and reads each to its end; prints {"ok","errors","seconds"}.
 */
const [url, headersJson, countArg] = process.argv.slice(2)
const count = Number(countArg ?? 10_000)
const body = JSON.stringify({ model: 'default', stream: true, user: 'hold', messages: [{ role: 'user', content: 'Hello!' }] })
const t0 = performance.now()
let ok = 0
let errors = 0
await Promise.all(
  Array.from({ length: count }, async () => {
    try {
      const res = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json', ...(JSON.parse(headersJson || '{}') as Record<string, string>) }, body })
      const text = await res.text()
      if (res.status === 200 && text.includes('[DONE]')) ok++
      else errors++
    } catch {
      errors++
    }
  }),
)
console.log(JSON.stringify({ ok, errors, seconds: (performance.now() - t0) / 1000 }))
export {}
