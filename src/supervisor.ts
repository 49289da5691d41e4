/** @module The worker supervisor: it loads none of the gateway's modules, so it stays small beside its workers. */
import type { Config } from './shared/config.ts'
import { log } from './shared/log.ts'
import { openReady, type Running } from './ready.ts'

/**
 * `viapi serve` with VIAPI_WORKERS > 1: this process owns the database (in embedded mode it serves it to the
 * workers), migrates once, and runs N workers on one port with reusePort. Signals are passed on; it exits when
 * they all have. Without Redis each worker enforces 1/N of every limit, so the host holds the total.
 */
export async function supervise(config: Config): Promise<Running> {
  const db = await openReady(config)
  const port = config.port === 0 ? await freePort(config.host) : config.port
  const workers = Array.from({ length: config.workers }, (_, i) =>
    Bun.spawn([process.execPath, import.meta.dir + '/cli.ts', 'serve'], {
      env: { ...config.env, PORT: String(port), VIAPI_WORKERS: '1', VIAPI_WORKER_SHARE: String(config.workers), VIAPI_WORKER_INDEX: String(i) },
      stdout: 'inherit',
      stderr: 'inherit',
    }),
  )
  log.info('supervising workers', { workers: workers.length, port })
  const exited = Promise.all(workers.map((w) => w.exited))
  let stopping: Promise<void> | null = null
  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      log.info('stopping workers', { reason })
      for (const w of workers) w.kill('SIGTERM')
      await exited
      await db.close()
    })()
    return stopping
  }
  void exited.then(() => shutdown('all workers exited'))
  return { port, shutdown }
}

async function freePort(host: string): Promise<number> {
  const probe = Bun.listen({ hostname: host, port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  return port
}
