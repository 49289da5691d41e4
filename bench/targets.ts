/** Aggregates benchmark samples into the report table and judges them against the targets (met or missed). */

export interface Summary {
  scenario: string
  conns: number
  target: string
  round: number
  rps: number
  p50Ms: number
  p99Ms: number
  errors: number
  cpuUsPerReq: number
  /** The local Postgres server's CPU over the run, per request (NaN when the database is not a local server). */
  dbCpuUsPerReq: number
  rssMidMiB: number | null
  rssPeakMiB: number | null
}

export interface TargetResult {
  name: string
  target: string
  value: string
  met: boolean | null
}

interface Agg {
  rps: number
  rpsMin: number
  rpsMax: number
  p50: number
  p99: number
  cpu: number
  dbCpu: number
  errors: number
  rssMid: number
  rssPeak: number
}

const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '-')

export function evaluate(rows: Summary[], o: { held: { count: number; errors: number; rssPeakMiB: number; fdLimit: number | null; workers: number }; median: (xs: number[]) => number }) {
  const { median } = o
  const agg = (scenario: string, conns: number, target: string): Agg | null => {
    const s = rows.filter((r) => r.scenario === scenario && r.conns === conns && r.target === target)
    if (s.length === 0) return null
    return {
      rps: median(s.map((x) => x.rps)),
      rpsMin: Math.min(...s.map((x) => x.rps)),
      rpsMax: Math.max(...s.map((x) => x.rps)),
      p50: median(s.map((x) => x.p50Ms)),
      p99: median(s.map((x) => x.p99Ms)),
      cpu: median(s.map((x) => x.cpuUsPerReq)),
      dbCpu: median(s.map((x) => x.dbCpuUsPerReq)),
      errors: s.reduce((a, x) => a + x.errors, 0),
      rssMid: median(s.map((x) => x.rssMidMiB ?? NaN)),
      rssPeak: Math.max(...s.map((x) => x.rssPeakMiB ?? 0)),
    }
  }
  const names = [...new Set(rows.map((r) => r.target))]
  const combos = [...new Set(rows.map((r) => `${r.scenario}|${r.conns}`))].map((k) => k.split('|') as [string, string])

  const lines = [
    '| scenario | conns | target | req/s median (min–max) | p50 ms | p99 ms | added p50 / p99 vs direct, ms | ratio to bare proxy | CPU µs/req | DB CPU µs/req | RSS mid / peak MiB | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const [scenario, c] of combos) {
    if (scenario === 'paced') continue
    const conns = Number(c)
    const direct = agg(scenario, conns, 'direct')
    const bare = agg(scenario, conns, 'bare-proxy')
    for (const n of names) {
      const a = agg(scenario, conns, n)
      if (!a) continue
      lines.push(
        `| ${scenario} | ${conns} | ${n} | ${Math.round(a.rps)} (${Math.round(a.rpsMin)}–${Math.round(a.rpsMax)}) | ${fmt(a.p50, 3)} | ${fmt(a.p99, 3)} | ${direct ? `${fmt(a.p50 - direct.p50, 3)} / ${fmt(a.p99 - direct.p99, 3)}` : '-'} | ${bare ? fmt(a.rps / bare.rps) : '-'} | ${fmt(a.cpu, 0)} | ${fmt(a.dbCpu, 1)} | ${fmt(a.rssMid, 0)} / ${fmt(a.rssPeak, 0)} | ${a.errors} |`,
      )
    }
  }
  lines.push('', '| paced stream (upstream 20 ms, 5 ms gaps) | time to first byte ms | added TTFB vs direct ms | inter-chunk gap ms | errors |', '|---|---|---|---|---|')
  const pacedDirect = agg('paced', 1, 'direct')
  for (const n of names) {
    const a = agg('paced', 1, n)
    if (a) lines.push(`| ${n} | ${fmt(a.p50, 3)} | ${pacedDirect ? fmt(a.p50 - pacedDirect.p50, 3) : '-'} | ${fmt(a.p99, 3)} | ${a.errors} |`)
  }

  const targets: TargetResult[] = []
  const check = (name: string, target: string, value: number, ok: (v: number) => boolean, digits = 2) =>
    targets.push({ name, target, value: Number.isFinite(value) ? value.toFixed(digits) : 'n/a', met: Number.isFinite(value) ? ok(value) : null })
  const ratio = (scenario: string, conns: number, a: string, b: string) => {
    const x = agg(scenario, conns, a)
    const y = agg(scenario, conns, b)
    return x && y ? x.rps / y.rps : NaN
  }
  const added = (scenario: string, field: 'p50' | 'p99') => {
    const x = agg(scenario, 1, 'viapi')
    const d = agg(scenario, 1, 'direct')
    return x && d ? x[field] - d[field] : NaN
  }
  const cpuRatio = (scenario: string, conns: number) => {
    const x = agg(scenario, conns, 'viapi')
    const b = agg(scenario, conns, 'bare-proxy')
    return x && b ? x.cpu / b.cpu : NaN
  }
  for (const c of [32, 128]) check(`non-streaming req/s ÷ bare proxy (${c} conns)`, '≥ 0.90', ratio('json', c, 'viapi', 'bare-proxy'), (v) => v >= 0.9)
  check('streaming req/s ÷ bare proxy (32 conns)', '≥ 0.85', ratio('stream', 32, 'viapi', 'bare-proxy'), (v) => v >= 0.85)
  check('added p50 at 1 connection, non-streaming (ms)', '≤ 0.25', added('json-1', 'p50'), (v) => v <= 0.25, 3)
  check('added p50 at 1 connection, streaming (ms)', '≤ 0.35', added('stream-1', 'p50'), (v) => v <= 0.35, 3)
  check('proxy CPU µs/req ÷ bare proxy, non-streaming', '≤ 1.15', cpuRatio('json', 32), (v) => v <= 1.15)
  check('proxy CPU µs/req ÷ bare proxy, streaming', '≤ 1.3', cpuRatio('stream', 32), (v) => v <= 1.3)
  check('req/s ÷ Portkey gateway (json, 32 conns)', '≥ 20', ratio('json', 32, 'viapi', 'portkey'), (v) => v >= 20, 1)
  const ttfb = agg('paced', 1, 'viapi')
  const ttfbDirect = agg('paced', 1, 'direct')
  check('added time-to-first-byte, paced stream (ms)', '≤ 1', ttfb && ttfbDirect ? ttfb.p50 - ttfbDirect.p50 : NaN, (v) => v <= 1, 3)
  targets.push({
    name: `${o.held.count.toLocaleString('en-US')} concurrent paced streams${o.held.workers > 1 ? ` (${o.held.workers} workers: a process may hold ${o.held.fdLimit} open files, 2 per stream)` : ''}`,
    target: '0 errors, RSS ≤ 600 MiB',
    value: `${o.held.errors} errors, ${o.held.rssPeakMiB.toFixed(0)} MiB`,
    met: o.held.count >= 10_000 ? o.held.errors === 0 && o.held.rssPeakMiB <= 600 : null,
  })
  check('req/s with REDIS_URL ÷ without (json, 32 conns)', '≥ 0.95', ratio('json', 32, 'viapi+redis', 'viapi'), (v) => v >= 0.95)
  check('added p99 at 1 connection, non-streaming (ms)', '≤ 0.5', added('json-1', 'p99'), (v) => v <= 0.5, 3)

  lines.push('', '| target | goal | measured | result |', '|---|---|---|---|')
  for (const t of targets) lines.push(`| ${t.name} | ${t.target} | ${t.value} | ${t.met === null ? 'not measured' : t.met ? 'met' : 'MISSED'} |`)
  const missed = targets.filter((t) => t.met === false).length
  return { markdown: lines.join('\n'), targets, missed }
}
