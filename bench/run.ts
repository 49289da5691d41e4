/**
 * The overhead benchmark. On loopback only: a mock upstream, a bare Bun proxy (the floor), the gateway (a real
 * tenant, key, route, limits, pricing and usage metering; with and without Redis; with N reusePort workers where
 * the machine has the cores) and, when installed, Portkey's gateway as a peer. Load comes from wrk (or
 * autocannon) in its own process, interleaved and rotated each round, so ratios compare like with like on a noisy
 * machine. Prints and saves a table and the targets met or missed. `--quick` is short; `--strict` exits 1 on a miss.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { cpuTicks, loadGenerator, postgresTicks, processTree, runLoad, treeRssMiB } from './load.ts'
import { startPortkey } from './peer.ts'
import { evaluate, type Summary } from './targets.ts'
import { PURGE_DELAY_MS } from '../src/shared/allocator.ts'
import { openDatabase } from '../src/shared/db.ts'
import { benchTenant, removeBenchTenant } from './tenant.ts'

const ROOT = join(import.meta.dir, '..')
const quick = process.argv.includes('--quick')
const strict = process.argv.includes('--strict')
const seconds = quick ? 2 : 6
/** Seconds of each one-connection latency run. */
const latencySeconds = quick ? 1 : 4
const rounds = 2
const conns = quick ? [32] : [32, 128]
const heldStreams = Number(process.env.BENCH_STREAMS ?? (quick ? 1000 : 10_000))
const BUN_ENV = { BUN_CONFIG_MAX_HTTP_REQUESTS: '65000' }

interface Target {
  name: string
  url: string
  headers: Record<string, string>
  pid: number
}

const procs: ReturnType<typeof Bun.spawn>[] = []

async function spawnListening(cmd: string[], env: Record<string, string>): Promise<{ port: number; proc: ReturnType<typeof Bun.spawn> }> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, env: { ...process.env, ...BUN_ENV, ...env }, stdout: 'pipe', stderr: 'inherit' })
  procs.push(proc)
  const reader = proc.stdout.getReader()
  let buf = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`${cmd.join(' ')} exited before listening`)
    buf += new TextDecoder().decode(value)
    const m = /"port":(\d+)/.exec(buf)
    if (m) {
      void (async () => {
        while (!(await reader.read()).done);
      })()
      return { port: Number(m[1]), proc }
    }
  }
}

async function freePort(): Promise<number> {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  return port
}

async function waitReady(url: string, what: string): Promise<void> {
  for (let i = 0; ; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return
    if (i > 300) throw new Error(`${what} did not become ready`)
    await Bun.sleep(100)
  }
}

async function runJson(cmd: string[], env: Record<string, string> = {}): Promise<Record<string, number>> {
  const p = Bun.spawn(cmd, { cwd: ROOT, env: { ...process.env, ...BUN_ENV, ...env }, stdout: 'pipe', stderr: 'inherit' })
  return JSON.parse(await new Response(p.stdout).text()) as Record<string, number>
}

/** The process's hard limit on open files, from /proc. */
function fdLimit(pid: number): number | null {
  try {
    const m = /^Max open files\s+\S+\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

async function main() {
  const mock = await spawnListening([process.execPath, 'bench/mock-upstream.ts'], {})
  const upstreamUrl = `http://127.0.0.1:${mock.port}/v1`
  // The same allocator setting `viapi serve` runs with (src/shared/allocator.ts): the floor is measured like for like.
  const bare = await spawnListening([process.execPath, 'bench/bare-proxy.ts'], { UPSTREAM_URL: upstreamUrl, MIMALLOC_PURGE_DELAY: process.env.MIMALLOC_PURGE_DELAY ?? PURGE_DELAY_MS })

  const { db, dataDir, firmId, apiKey } = await benchTenant('bench')
  await db.close()
  tenant = { dataDir, firmId }
  const auth = `Bearer ${apiKey}`

  const gateway = async (name: string, extra: Record<string, string>): Promise<Target> => {
    const port = await freePort()
    const proc = Bun.spawn([process.execPath, 'src/cli.ts', 'serve'], {
      cwd: ROOT,
      env: { ...process.env, ...BUN_ENV, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', VIAPI_DATA_DIR: dataDir, OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: upstreamUrl, ...extra },
      stdout: 'inherit',
      stderr: 'inherit',
    })
    procs.push(proc)
    await waitReady(`http://127.0.0.1:${port}/readyz`, name)
    return { name, url: `http://127.0.0.1:${port}/v1/proxy/chat/completions`, headers: { authorization: auth }, pid: proc.pid }
  }

  const targets: Target[] = [
    { name: 'direct', url: `${upstreamUrl}/chat/completions`, headers: {}, pid: mock.proc.pid },
    { name: 'bare-proxy', url: `http://127.0.0.1:${bare.port}/v1/chat/completions`, headers: {}, pid: bare.proc.pid },
  ]
  targets.push(await gateway('viapi', {}))
  // Embedded mode serves one database owner per data dir, so the Redis and worker variants need DATABASE_URL.
  if (process.env.DATABASE_URL && process.env.BENCH_REDIS_URL !== '') {
    targets.push(await gateway('viapi+redis', { REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', VIAPI_REDIS_PREFIX: `viapi-bench-${Date.now()}:` }))
  }
  const cores = cpus().length
  if (!quick && process.env.DATABASE_URL && cores > 1) targets.push(await gateway(`viapi-x${cores}`, { VIAPI_WORKERS: String(cores) }))
  const portkey = await startPortkey(upstreamUrl)
  if (portkey) {
    procs.push(portkey.proc)
    targets.push({ name: 'portkey', url: portkey.url, headers: portkey.headers, pid: portkey.proc.pid })
  }

  const body = (stream: boolean, extra: Record<string, unknown> = {}) => JSON.stringify({ model: 'default', stream, messages: [{ role: 'user', content: 'Hello!' }], ...extra })
  const bodyFor = (t: Target, stream: boolean, extra: Record<string, unknown> = {}) =>
    t.name === 'direct' || t.name === 'bare-proxy' || t.name === 'portkey' ? body(stream, { ...extra, model: 'gpt-4o-mini' }) : body(stream, extra)

  process.stderr.write(`load generator: ${loadGenerator}; targets: ${targets.map((t) => t.name).join(', ')}\n`)
  for (const t of targets) await runLoad({ url: t.url, body: bodyFor(t, false), headers: t.headers, conns: 8, seconds: 1, pid: t.pid }).catch(() => null)

  const rows: Summary[] = []
  const record = (r: Summary) => {
    rows.push(r)
    process.stderr.write(`${r.scenario} c=${r.conns} ${r.target}: ${Math.round(r.rps)} req/s p50 ${r.p50Ms.toFixed(3)} ms p99 ${r.p99Ms.toFixed(3)} ms errors ${r.errors}\n`)
  }
  /** A load run against one target, with its CPU and the database's per request. */
  const measure = async (scenario: string, t: Target, body: string, c: number, round: number) => {
    const before = cpuTicks(t.pid)
    const dbBefore = postgresTicks()
    const r = await runLoad({ url: t.url, body, headers: t.headers, conns: c, seconds, pid: t.pid })
    const after = cpuTicks(t.pid)
    const dbAfter = postgresTicks()
    const perRequest = (a: number | null, b: number | null) => (a !== null && b !== null && r.total > 0 ? ((b - a) * 10_000) / r.total : NaN)
    record({ scenario, conns: c, target: t.name, round, rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors, cpuUsPerReq: perRequest(before, after), dbCpuUsPerReq: perRequest(dbBefore, dbAfter), rssMidMiB: r.rssMidMiB, rssPeakMiB: r.rssPeakMiB })
  }
  // A long conversation: eight turns of 4 KB, text with quotes and newlines, as real histories and retrieved
  // documents make prompts. What a gateway does with the body shows here and not with a one-word prompt.
  const turn = 'The quick brown fox jumps over the lazy dog, and then considers the nature of "quoted" text.\n'.repeat(44)
  const longChat = Array.from({ length: 8 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: turn }))

  for (let round = 0; round < rounds; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]!)
    for (const stream of [false, true]) {
      for (const c of conns) {
        for (const t of order) await measure(stream ? 'stream' : 'json', t, bodyFor(t, stream), c, round)
      }
      // One connection, one request at a time, timed by a client with µs resolution.
      for (const t of order) {
        const r = await runJson([process.execPath, 'bench/latency.ts', t.url, JSON.stringify(t.headers), bodyFor(t, stream), String(latencySeconds)])
        record({ scenario: stream ? 'stream-1' : 'json-1', conns: 1, target: t.name, round, rps: r.requests! / latencySeconds, p50Ms: r.p50_ms!, p99Ms: r.p99_ms!, errors: r.errors!, cpuUsPerReq: NaN, dbCpuUsPerReq: NaN, rssMidMiB: null, rssPeakMiB: treeRssMiB(t.pid) })
      }
    }
    // Portkey, at a few hundred requests a second, would only lengthen the run here; --quick keeps the ratio alone.
    const long = order.filter((t) => t.name !== 'portkey' && (!quick || (round === 0 && (t.name === 'viapi' || t.name === 'bare-proxy'))))
    for (const t of long) await measure('json-32k', t, bodyFor(t, false, { messages: longChat }), conns[0]!, round)
    // Paced upstream (20 ms to answer, 5 ms between chunks): time to first byte and the gap between chunks.
    for (const t of order) {
      const r = await runJson([process.execPath, 'bench/paced.ts', t.url, JSON.stringify(t.headers), String(quick ? 20 : 50)], { PACE_BODY: bodyFor(t, true, { user: 'paced' }) })
      record({ scenario: 'paced', conns: 1, target: t.name, round, rps: NaN, p50Ms: r.ttfb_ms!, p99Ms: r.gap_ms!, errors: r.errors!, cpuUsPerReq: NaN, dbCpuUsPerReq: NaN, rssMidMiB: null, rssPeakMiB: null })
    }
  }

  // Many streams held open through the gateway at once. Each takes two descriptors in a gateway process (client and
  // upstream socket); where one process may not hold that many open files, the gateway runs as many reusePort
  // workers as it takes (as it would be deployed there), and RSS is the sum over its processes.
  const viapi = targets.find((t) => t.name === 'viapi')!
  const limit = fdLimit(viapi.pid)
  const workers = limit === null ? 1 : Math.max(1, Math.ceil((2 * heldStreams + 512) / limit))
  let holder = viapi
  const multi = targets.find((t) => t.name === `viapi-x${cores}`)
  if (workers > 1 && multi && cores >= workers) holder = multi
  else if (workers > 1) {
    // Embedded mode allows one owner per data dir: the single-process gateway hands it over first.
    const single = procs.find((p) => p.pid === viapi.pid)!
    single.kill('SIGTERM')
    await single.exited
    holder = await gateway(`viapi-x${workers}`, { VIAPI_WORKERS: String(workers) })
    await Bun.sleep(1000)
  }
  const tree = processTree(holder.pid)
  let peak = treeRssMiB(holder.pid, tree) ?? 0
  const sampler = setInterval(() => (peak = Math.max(peak, treeRssMiB(holder.pid, tree) ?? 0)), 100)
  const held = await runJson([process.execPath, 'bench/streams.ts', holder.url, JSON.stringify(holder.headers), String(heldStreams)])
  clearInterval(sampler)
  process.stderr.write(`${heldStreams} concurrent streams (${holder.name}): ok ${held.ok} errors ${held.errors} in ${held.seconds!.toFixed(1)} s, RSS peak ${peak.toFixed(0)} MiB\n`)

  const report = evaluate(rows, { held: { count: heldStreams, errors: held.errors!, rssPeakMiB: peak, fdLimit: limit, workers }, median })
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  writeFileSync(join(ROOT, 'bench/results', `${stamp}.json`), JSON.stringify({ date: new Date().toISOString(), quick, seconds, rounds, loadGenerator, cores, rows, targets: report.targets }, null, 2))
  writeFileSync(join(ROOT, 'bench/results', `${stamp}.md`), report.markdown + '\n')
  console.log(`\n${report.markdown}\n\nSaved bench/results/${stamp}.json and .md. Absolute numbers depend on the machine; compare the ratios.`)
  return report.missed
}

/** The run's tenant, removed at the end (its gateways have written their last usage by then). */
let tenant = null as { dataDir: string; firmId: string } | null

let missed = 0
try {
  missed = await main()
} finally {
  for (const p of procs) p.kill('SIGTERM')
  await Promise.all(procs.map((p) => p.exited))
  if (tenant && process.env.DATABASE_URL) {
    const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: tenant.dataDir })
    await removeBenchTenant(db, tenant.firmId).finally(() => db.close())
  }
  if (tenant) rmSync(tenant.dataDir, { recursive: true, force: true })
}
process.exit(strict && missed > 0 ? 1 : 0)
