/**
 * The gateway's own JavaScript cost per proxied request (`bun bench/hot-path.ts [--stream] [--long]`): the real chat route
 * (authentication, limits, routing, settlement, the meter writing each round's rows to Postgres) driven in-process,
 * 32 requests at a time, with the upstream answering from memory. No sockets and no other process, so an A/B of a hot-path change
 * reads to about ±1 µs here where the loopback rig wanders by ±2. Uses DATABASE_URL, else an embedded Postgres.
 */
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { completion, streamEvents } from './answers.ts'
import { benchTenant, removeBenchTenant } from './tenant.ts'
import { loadCatalog } from '../src/billing/catalog.ts'
import { UsageMeter } from '../src/billing/meter.ts'
import { Breakers } from '../src/gateway/breaker.ts'
import type { GatewayContext } from '../src/gateway/context.ts'
import { Inflight } from '../src/gateway/inflight.ts'
import { KeyCache } from '../src/gateway/key-cache.ts'
import { Guardrails } from '../src/gateway/limits/guard.ts'
import { createProviders } from '../src/gateway/providers/index.ts'
import type { ChatDispatch } from '../src/gateway/providers/types.ts'
import type { UpstreamReply } from '../src/gateway/upstream-body.ts'
import { hotRoutes } from '../src/hot-routes.ts'
import { loadConfig } from '../src/shared/config.ts'
import { tuneAllocator } from '../src/shared/allocator.ts'
import { configureLog } from '../src/shared/log.ts'
import { hashSecret } from '../src/shared/secrets.ts'
import { findKeyContext } from '../src/tenancy/keys.ts'

const MEASURE_BEGIN = 'hot-path: measured rounds begin'
const MEASURE_END = 'hot-path: measured rounds end'

if (process.argv.includes('--alloc')) await allocationRun()

// As `viapi serve` runs (src/shared/allocator.ts).
tuneAllocator()
const stream = process.argv.includes('--stream')
configureLog('warn')
const { db, dataDir, firmId, apiKey: key } = await benchTenant('hot-path')
const ctx = (await findKeyContext(db.sql, hashSecret(key)))!

// What the mock upstream of the loopback rig answers (bench/mock-upstream.ts).
const json = completion
const sse = new TextEncoder().encode(streamEvents(20).join(''))

/** An upstream answer already in memory, as the pooled client hands one over: the whole stream in one read. */
function reply(call: ChatDispatch): UpstreamReply {
  call.json()
  let given = false
  const read = () => (given ? { done: true as const } : ((given = true), { done: false as const, value: sse }))
  return {
    status: 200,
    ok: true,
    headers: { get: (n) => (n === 'content-type' ? (call.stream ? 'text/event-stream' : 'application/json') : null), has: () => false },
    text: async () => json,
    textNow: () => json,
    reader: () => ({ read: async () => read(), tryRead: read }),
    cancel() {},
  }
}

const config = loadConfig({ ...process.env, OPENAI_API_KEY: 'sk-hot-path' })
const providers = createProviders({ OPENAI_API_KEY: 'sk-hot-path' })
providers.openai = { ...providers.openai, chat: async (call) => reply(call) }
const meter = new UsageMeter(db.sql, { flushMs: config.usageFlushMs, spillDir: join(dataDir, 'spill') })
meter.start()
const keys = new KeyCache(async () => ({ ctx, routes: new Map([['default', { targets: ['openai:gpt-4o-mini'], weights: null }]]) }), { ttlMs: 3_600_000 })
await keys.load(hashSecret(key))
const gw: GatewayContext = {
  config,
  keys,
  catalog: { current: await loadCatalog(db.sql) },
  providers,
  video: {},
  sql: db.sql,
  meter,
  inflight: new Inflight(config.streamIdleTimeoutMs),
  guard: new Guardrails({ sql: db.sql, mode: { leasing: () => false, share: () => 1, nextSync: () => Promise.resolve() } }),
  breakers: new Breakers({ threshold: 5, coolDownMs: 30_000 }),
  sync: null,
}
const chat = hotRoutes(gw, db)['/v1/proxy/chat/completions'].POST
// `--long`: a 32 KB conversation (the rig's json-32k) instead of a one-word prompt.
const turn = 'The quick brown fox jumps over the lazy dog, and then considers the nature of "quoted" text.\n'.repeat(44)
const messages = process.argv.includes('--long') ? Array.from({ length: 8 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: turn })) : [{ role: 'user', content: 'Hello!' }]
const body = JSON.stringify({ model: 'default', stream, messages })
const init = { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, body }

async function run(n: number): Promise<void> {
  let left = n
  const worker = async () => {
    while (left-- > 0) {
      const res = await chat(new Request('http://127.0.0.1/v1/proxy/chat/completions', init))
      if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`)
      await res.arrayBuffer()
    }
  }
  await Promise.all(Array.from({ length: 32 }, worker))
}

await run(20_000)
await meter.flush()
/** CPU µs this thread has used (Linux: the main thread's task is the process id; elsewhere, null). */
function threadCpuUs(): number | null {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(f[11]) + Number(f[12])) * 10_000
  } catch {
    return null
  }
}

const perRequest: number[] = []
const onThread: number[] = []
const ROUNDS = 7
// Markers for --alloc, which reads the collections logged between them.
const marking = process.env.BUN_JSC_logGC !== undefined
if (marking) console.error(MEASURE_BEGIN)
for (let round = 0; round < ROUNDS; round++) {
  const before = process.cpuUsage()
  const threadBefore = threadCpuUs()
  await run(40_000)
  // The round's usage rows are written inside it: their batches' JavaScript cost is the request's.
  await meter.flush()
  const used = process.cpuUsage(before)
  const threadAfter = threadCpuUs()
  perRequest.push((used.user + used.system) / 40_000)
  if (threadBefore !== null && threadAfter !== null) onThread.push((threadAfter - threadBefore) / 40_000)
}
const spread = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return { median: +s[s.length >> 1]!.toFixed(2), min: +s[0]!.toFixed(2), max: +s[s.length - 1]!.toFixed(2) }
}
// The whole process (all threads), and the request thread alone (what saturates first); 10 ms resolution.
if (marking) console.error(MEASURE_END)
console.log(JSON.stringify({ scenario: stream ? 'stream' : 'json', requests: ROUNDS * 40_000, cpu_us_per_request: spread(perRequest), ...(onThread.length ? { request_thread_us_per_request: spread(onThread) } : {}) }))
await meter.drain()
gw.inflight.stop()
await removeBenchTenant(db, firmId)
await db.close()
rmSync(dataDir, { recursive: true, force: true })
process.exit(0)

/**
 * `--alloc`: the same run in a child process that logs each garbage collection (BUN_JSC_logGC), and the JavaScript
 * heap allocated per request over the measured rounds, from the heap's size before each collection against its
 * size after the one before. On the loopback bench a request's allocations cost several times what they cost here
 * (40 small objects a request: ~1.3 µs in-process, ~11 µs there), so this is a figure to watch beside the CPU.
 */
async function allocationRun(): Promise<never> {
  const args = process.argv.slice(2).filter((a) => a !== '--alloc')
  const child = Bun.spawn([process.execPath, import.meta.path, ...args], { env: { ...process.env, BUN_JSC_logGC: '1' }, stdout: 'pipe', stderr: 'pipe' })
  const [out, log] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()])
  if ((await child.exited) !== 0) throw new Error(`hot-path run failed:\n${log.slice(-2000)}`)
  const result = JSON.parse(out.trim().split('\n').pop()!) as { requests: number }
  const measured = log.slice(log.indexOf(MEASURE_BEGIN), log.indexOf(MEASURE_END))
  console.log(JSON.stringify({ ...result, heap_kb_allocated_per_request: +(allocatedKb(measured) / result.requests).toFixed(2) }))
  process.exit(0)
}

/** KB allocated between collections in a JSC GC log: each START's heap size less the size the previous cycle ended at. */
function allocatedKb(log: string): number {
  let total = 0
  let endedAt: number | null = null
  let startedAt: number | null = null
  for (const line of log.split('\n')) {
    const start = /START M (\d+)kb/.exec(line)
    if (start) startedAt = Number(start[1])
    const end = /=> (\d+)kb, p=[\d.]+ms \(max [\d.]+\), cycle [\d.]+ms END/.exec(line)
    if (end && startedAt !== null) {
      if (endedAt !== null) total += Math.max(0, startedAt - endedAt)
      endedAt = Number(end[1])
      startedAt = null
    }
  }
  return total
}
