/**
 * Overhead benchmark: the same load sent directly to a mock upstream, through a bare Bun proxy, and through the
 * gateway (real tenant, key, route, pricing and usage metering), interleaved in one run so the ratios compare
 * like with like on a noisy machine. Loopback only. `--quick` for a short run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../src/shared/db.ts'
import { bootstrap } from '../src/tenancy/bootstrap.ts'

const ROOT = join(import.meta.dir, '..')
const quick = process.argv.includes('--quick')
const durationS = quick ? 3 : 8
const rounds = 2
const conns = quick ? [1, 32] : [1, 32, 128]

type Target = { name: string; url: string; headers: Record<string, string>; pid: number }
type Sample = { target: string; scenario: string; conns: number; round: number; rps: number; p50: number; p99: number; errors: number; cpuUsPerReq: number | null }

const procs: ReturnType<typeof Bun.spawn>[] = []

async function spawnJson(cmd: string[], env: Record<string, string>): Promise<{ port: number; proc: ReturnType<typeof Bun.spawn> }> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'inherit' })
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

function cpuTicks(pid: number): number | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return Number(f[11]) + Number(f[12]) // utime + stime, clock ticks (1/100 s)
  } catch {
    return null
  }
}

async function load(t: Target, body: string, c: number): Promise<{ rps: number; p50: number; p99: number; errors: number; total: number }> {
  const args = ['node', join(ROOT, 'node_modules/autocannon/autocannon.js'), '-j', '-c', String(c), '-d', String(durationS), '-m', 'POST', '-b', body, '-H', 'content-type=application/json']
  for (const [k, v] of Object.entries(t.headers)) args.push('-H', `${k}=${v}`)
  args.push(t.url)
  const p = Bun.spawn(args, { stdout: 'pipe', stderr: 'ignore' })
  const out = JSON.parse(await new Response(p.stdout).text()) as {
    requests: { average: number; total: number }
    latency: { p50: number; p99: number }
    errors: number
    non2xx: number
  }
  return { rps: out.requests.average, p50: out.latency.p50, p99: out.latency.p99, errors: out.errors + out.non2xx, total: out.requests.total }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

async function main() {
  const mock = await spawnJson([process.execPath, 'bench/mock-upstream.ts'], {})
  const upstreamUrl = `http://127.0.0.1:${mock.port}/v1`
  const bare = await spawnJson([process.execPath, 'bench/bare-proxy.ts'], { UPSTREAM_URL: upstreamUrl })

  const dataDir = mkdtempSync(join(tmpdir(), 'viapi-bench-'))
  // Seed the tenant before the gateways start; limits are raised so they never trip.
  const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir })
  const { migrate } = await import('../src/shared/migrate.ts')
  const { syncCatalog } = await import('../src/billing/catalog.ts')
  await migrate(db.sql)
  await syncCatalog(db.sql)
  const fx = await bootstrap(db.sql, { firmName: 'Bench', email: `bench-${Date.now()}@bench.local`, demo: true, demoTarget: 'openai:gpt-4o-mini', markupBps: 3000 })
  await db.sql`update clients set rpm = 10000000, rpd = 1000000000 where id = ${fx.client_id!}`
  await db.close()

  const gateway = async (name: string, extra: Record<string, string>): Promise<Target> => {
    const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    const port = probe.port
    probe.stop(true)
    const proc = Bun.spawn([process.execPath, 'src/cli.ts', 'serve'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', VIAPI_DATA_DIR: dataDir, OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: upstreamUrl, ...extra },
      stdout: 'inherit',
      stderr: 'inherit',
    })
    procs.push(proc)
    for (let i = 0; ; i++) {
      if (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)) break
      if (i > 300) throw new Error(`${name} did not become ready`)
      await Bun.sleep(100)
    }
    return { name, url: `http://127.0.0.1:${port}/v1/proxy/chat/completions`, headers: { authorization: `Bearer ${fx.api_key}` }, pid: proc.pid }
  }

  const targets: Target[] = [
    { name: 'direct', url: `${upstreamUrl}/chat/completions`, headers: {}, pid: mock.proc.pid },
    { name: 'bare-proxy', url: `http://127.0.0.1:${bare.port}/v1/chat/completions`, headers: {}, pid: bare.proc.pid },
  ]
  // Embedded mode serves one process per data dir, so the Redis variant needs DATABASE_URL.
  targets.push(await gateway('viapi', {}))
  if (process.env.DATABASE_URL && process.env.BENCH_REDIS_URL !== '') {
    targets.push(await gateway('viapi+redis', { REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', VIAPI_REDIS_PREFIX: `viapi-bench-${Date.now()}:` }))
  }

  const scenarios = [
    { name: 'json', body: JSON.stringify({ model: 'default', messages: [{ role: 'user', content: 'Hello!' }] }), conns },
    { name: 'stream', body: JSON.stringify({ model: 'default', stream: true, messages: [{ role: 'user', content: 'Hello!' }] }), conns: [32] },
  ]

  // warm-up
  for (const t of targets) await load({ ...t }, scenarios[0]!.body, 8).catch(() => null)

  const samples: Sample[] = []
  for (let round = 0; round < rounds; round++) {
    for (const sc of scenarios) {
      for (const c of sc.conns) {
        const order = targets.map((_, i) => targets[(i + round) % targets.length]!)
        for (const t of order) {
          const before = cpuTicks(t.pid)
          const r = await load(t, sc.body, c)
          const after = cpuTicks(t.pid)
          const cpu = before !== null && after !== null && r.total > 0 ? ((after - before) * 10_000) / r.total : null
          samples.push({ target: t.name, scenario: sc.name, conns: c, round, rps: r.rps, p50: r.p50, p99: r.p99, errors: r.errors, cpuUsPerReq: cpu })
          process.stderr.write(`round ${round + 1} ${sc.name} c=${c} ${t.name}: ${Math.round(r.rps)} req/s p50 ${r.p50} ms p99 ${r.p99} ms errors ${r.errors}\n`)
        }
      }
    }
  }

  const rows: string[] = ['| scenario | conns | target | req/s (median) | p50 ms | p99 ms | ratio to bare proxy | added p50 vs direct ms | CPU µs/req | errors |', '|---|---|---|---|---|---|---|---|---|---|']
  const summary: Record<string, unknown>[] = []
  for (const sc of scenarios) {
    for (const c of sc.conns) {
      const pick = (name: string) => samples.filter((s) => s.scenario === sc.name && s.conns === c && s.target === name)
      const agg = (name: string) => {
        const s = pick(name)
        return { rps: median(s.map((x) => x.rps)), p50: median(s.map((x) => x.p50)), p99: median(s.map((x) => x.p99)), errors: s.reduce((a, x) => a + x.errors, 0), cpu: median(s.map((x) => x.cpuUsPerReq ?? NaN)) }
      }
      const direct = agg('direct')
      const bareAgg = agg('bare-proxy')
      for (const t of targets) {
        const a = agg(t.name)
        const ratio = a.rps / bareAgg.rps
        summary.push({ scenario: sc.name, conns: c, target: t.name, ...a, ratioToBare: ratio, addedP50: a.p50 - direct.p50 })
        rows.push(`| ${sc.name} | ${c} | ${t.name} | ${Math.round(a.rps)} | ${a.p50.toFixed(2)} | ${a.p99.toFixed(2)} | ${ratio.toFixed(2)} | ${(a.p50 - direct.p50).toFixed(2)} | ${Number.isNaN(a.cpu) ? '-' : Math.round(a.cpu)} | ${a.errors} |`)
      }
    }
  }
  const table = rows.join('\n')
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  writeFileSync(join(ROOT, 'bench/results', `${stamp}.json`), JSON.stringify({ date: new Date().toISOString(), quick, durationS, rounds, samples, summary }, null, 2))
  writeFileSync(join(ROOT, 'bench/results', `${stamp}.md`), table + '\n')
  console.log(`\n${table}\n\nSaved bench/results/${stamp}.json and .md (absolute numbers depend on the machine; compare the ratios).`)
  rmSync(dataDir, { recursive: true, force: true })
}

try {
  await main()
} finally {
  for (const p of procs) p.kill('SIGTERM')
  await Promise.all(procs.map((p) => p.exited))
}
