/**
 * Portkey's open-source gateway as a peer, when installed by `./scripts/bench --with-portkey` (into bench/.peer,
 * with @hono/node-server pinned to 1.13.x, which its streaming needs). It runs on Node and is pointed at the mock
 * per request with x-portkey-provider / x-portkey-custom-host.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'

const ENTRY = join(import.meta.dir, '.peer', 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js')

export async function startPortkey(upstreamUrl: string): Promise<{ url: string; headers: Record<string, string>; proc: ReturnType<typeof Bun.spawn> } | null> {
  if (!existsSync(ENTRY)) return null
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  const proc = Bun.spawn(['node', ENTRY, `--port=${port}`, '--headless'], { cwd: join(import.meta.dir, '.peer'), stdout: 'ignore', stderr: 'ignore', env: { ...process.env, PORT: String(port) } })
  const headers = { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstreamUrl, authorization: 'Bearer sk-bench' }
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}' }).then((r) => r.ok, () => false)
    if (ok) return { url: `http://127.0.0.1:${port}/v1/chat/completions`, headers, proc }
    await Bun.sleep(200)
  }
  proc.kill()
  process.stderr.write('portkey did not start; skipping the peer\n')
  return null
}
