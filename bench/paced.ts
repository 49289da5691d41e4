/**
 * Time to first byte and inter-chunk gap of streamed responses, measured by a plain client in its own process:
 * `bun bench/paced.ts URL HEADERS_JSON COUNT` (body from PACE_BODY) prints {"ttfb_ms":…,"gap_ms":…,"errors":…} (medians over COUNT streams).
 */
const [url, headersJson, countArg] = process.argv.slice(2)
const count = Number(countArg ?? 20)
const body = process.env.PACE_BODY ?? JSON.stringify({ model: 'default', stream: true, user: 'paced', messages: [{ role: 'user', content: 'Hello!' }] })
const ttfb: number[] = []
const gaps: number[] = []
let errors = 0
for (let i = 0; i < count; i++) {
  const t0 = performance.now()
  try {
    const res = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json', ...(JSON.parse(headersJson || '{}') as Record<string, string>) }, body })
    const reader = res.body!.getReader()
    let first = 0
    let last = 0
    let chunks = 0
    for (;;) {
      const { done } = await reader.read()
      if (done) break
      const now = performance.now()
      if (!first) first = now
      else gaps.push(now - last)
      last = now
      chunks++
    }
    if (res.status !== 200 || chunks === 0) errors++
    else ttfb.push(first - t0)
  } catch {
    errors++
  }
}
const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN)
console.log(JSON.stringify({ ttfb_ms: median(ttfb), gap_ms: median(gaps), errors }))
export {}
