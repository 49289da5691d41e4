/** A private redis-server on a spare port, for tests that kill and restart it. */
import { until } from './gateway.ts'

export async function freePort(): Promise<number> {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  return port
}

export class PrivateRedis {
  private proc: ReturnType<typeof Bun.spawn> | null = null
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  async start(): Promise<this> {
    this.proc = Bun.spawn(['redis-server', '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdout: 'ignore', stderr: 'ignore' })
    await until(async () => {
      const p = Bun.spawn(['redis-cli', '-p', String(this.port), 'ping'], { stdout: 'pipe', stderr: 'ignore' })
      return (await new Response(p.stdout).text()).includes('PONG')
    }, 10_000, 'redis-server to answer')
    return this
  }

  async kill(): Promise<void> {
    this.proc?.kill('SIGKILL')
    await this.proc?.exited
    this.proc = null
  }
}
