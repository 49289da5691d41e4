/** Runs one load test in a separate process (wrk when installed, else autocannon) while sampling the target's RSS. */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = join(import.meta.dir, '..')

export interface LoadResult {
  rps: number
  p50Ms: number
  p99Ms: number
  errors: number
  total: number
  rssMidMiB: number | null
  rssPeakMiB: number | null
}

export const loadGenerator = Bun.which('wrk') ? 'wrk' : 'autocannon'

export function rssMiB(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : null
  } catch {
    return null
  }
}

/** A process and all its descendants (a supervisor and its workers). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue
    try {
      const parent = Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1])
      children.set(parent, [...(children.get(parent) ?? []), Number(p)])
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = []
  const visit = (p: number) => {
    out.push(p)
    for (const c of children.get(p) ?? []) visit(c)
  }
  visit(pid)
  return out
}

/** RSS summed over a process and its descendants; null when the process is gone. */
export function treeRssMiB(pid: number, tree = processTree(pid)): number | null {
  let total: number | null = null
  for (const p of tree) {
    const r = rssMiB(p)
    if (r !== null) total = (total ?? 0) + r
  }
  return total
}

/** User plus system CPU ticks (1/100 s) from a /proc/<pid>/stat line. */
const statTicks = (stat: string) => {
  const f = stat.split(') ')[1]!.split(' ')
  return Number(f[11]) + Number(f[12])
}

/** CPU ticks (1/100 s) a process and its descendants have used so far; null when the process is gone. */
export function cpuTicks(pid: number): number | null {
  let total: number | null = null
  for (const p of processTree(pid)) {
    try {
      total = (total ?? 0) + statTicks(readFileSync(`/proc/${p}/stat`, 'utf8'))
    } catch {
      // exited while we looked
    }
  }
  return total
}

/**
 * CPU ticks used so far by the machine's Postgres server processes (backends, WAL writer, checkpointer...), or null
 * when none runs here: what the gateway's usage writes cost the database, which shares the cores in the bench.
 */
export function postgresTicks(): number | null {
  let total: number | null = null
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      if (stat.includes(' (postgres) ')) total = (total ?? 0) + statTicks(stat)
    } catch {
      // exited while we looked
    }
  }
  return total
}

export async function runLoad(o: { url: string; body: string; headers: Record<string, string>; conns: number; seconds: number; pid: number }): Promise<LoadResult> {
  let peak: number | null = null
  let mid: number | null = null
  const started = Date.now()
  // The tree is read once: scanning /proc every sample would cost the machine more than the sample is worth.
  const tree = processTree(o.pid)
  const sampler = setInterval(() => {
    const r = treeRssMiB(o.pid, tree)
    if (r !== null && (peak === null || r > peak)) peak = r
    if (mid === null && Date.now() - started >= (o.seconds * 1000) / 2) mid = r
  }, 100)
  try {
    if (loadGenerator === 'wrk') {
      const threads = Math.min(2, o.conns)
      const p = Bun.spawn(['wrk', '-t', String(threads), '-c', String(o.conns), '-d', `${o.seconds}s`, '--latency', '-s', join(import.meta.dir, 'wrk.lua'), o.url], {
        env: { ...process.env, BODY: o.body, HEADERS: Object.entries(o.headers).map(([k, v]) => `${k}: ${v}`).join('\n') },
        stdout: 'pipe',
        stderr: 'ignore',
      })
      const out = await new Response(p.stdout).text()
      const line = out.split('\n').find((l) => l.startsWith('{"requests"'))
      if (!line) throw new Error(`wrk printed no summary:\n${out}`)
      const s = JSON.parse(line) as { requests: number; duration_us: number; p50_us: number; p99_us: number; errors: number }
      return { rps: s.requests / (s.duration_us / 1e6), p50Ms: s.p50_us / 1000, p99Ms: s.p99_us / 1000, errors: s.errors, total: s.requests, rssMidMiB: mid, rssPeakMiB: peak }
    }
    const args = ['node', join(ROOT, 'node_modules/autocannon/autocannon.js'), '-j', '-c', String(o.conns), '-d', String(o.seconds), '-m', 'POST', '-b', o.body, '-H', 'content-type=application/json']
    for (const [k, v] of Object.entries(o.headers)) args.push('-H', `${k}=${v}`)
    args.push(o.url)
    const p = Bun.spawn(args, { stdout: 'pipe', stderr: 'ignore' })
    const out = JSON.parse(await new Response(p.stdout).text()) as { requests: { average: number; total: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number }
    return { rps: out.requests.average, p50Ms: out.latency.p50, p99Ms: out.latency.p99, errors: out.errors + out.non2xx, total: out.requests.total, rssMidMiB: mid, rssPeakMiB: peak }
  } finally {
    clearInterval(sampler)
  }
}
