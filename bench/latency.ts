/**
 * Precise single-connection latency: `bun bench/latency.ts URL HEADERS_JSON BODY SECONDS` sends requests one after another
 * on one keep-alive connection and prints {"p50_ms","p99_ms","requests","errors"} (µs resolution).
 */
const [url, headersJson, body, secondsArg] = process.argv.slice(2)
const until = performance.now() + Number(secondsArg ?? 3) * 1000
const samples: number[] = []
let errors = 0
while (performance.now() < until) {
  const t0 = performance.now()
  try {
    const res = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json', ...(JSON.parse(headersJson || '{}') as Record<string, string>) }, body: body! })
    await res.arrayBuffer()
    if (res.status !== 200) errors++
    else samples.push(performance.now() - t0)
  } catch {
    errors++
  }
}
samples.sort((a, b) => a - b)
const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(samples.length * q))] ?? NaN
console.log(JSON.stringify({ p50_ms: at(0.5), p99_ms: at(0.99), requests: samples.length, errors }))
export {}
