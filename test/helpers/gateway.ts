/** Starts real gateway processes and databases for integration tests, and tears them down. */
import { afterAll, beforeAll } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { openDatabase, type Database, type Pool } from '../../src/shared/db.ts'
import { migrate } from '../../src/shared/migrate.ts'
import { syncCatalog } from '../../src/billing/catalog.ts'

export type DbMode = 'embedded' | 'postgres'

const ROOT = join(import.meta.dir, '..', '..')
const ADMIN_URL = process.env.VIAPI_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test'

/** A fresh database (Postgres: a new database on the test server; embedded: a new data dir). */
export interface TestDb {
  mode: DbMode
  env: Record<string, string>
  /** Connects for fixtures and assertions; in embedded mode only while a gateway serves the data dir, or before one starts. */
  connect(): Promise<Database>
  drop(): Promise<void>
}

export async function testDb(mode: DbMode): Promise<TestDb> {
  if (mode === 'postgres') {
    const name = `viapi_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
    const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} })
    await admin.unsafe(`create database ${name}`)
    await admin.end()
    const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`)
    return {
      mode,
      env: { DATABASE_URL: url },
      connect: () => openDatabase({ databaseUrl: url, dataDir: '' }),
      async drop() {
        const a = postgres(ADMIN_URL, { max: 1, onnotice: () => {} })
        await a.unsafe(`drop database if exists ${name} with (force)`)
        await a.end()
      },
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'viapi-test-'))
  return {
    mode,
    env: { VIAPI_DATA_DIR: dir },
    connect: () => openDatabase({ databaseUrl: undefined, dataDir: dir }),
    async drop() {
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Opens, migrates and syncs the catalog, as `viapi serve` would. */
export async function readyDb(db: TestDb): Promise<Database> {
  const conn = await db.connect()
  await migrate(conn.sql)
  await syncCatalog(conn.sql)
  return conn
}

/** For in-process tests: a fresh, migrated Postgres database for the calling test file, dropped after its tests. */
export function postgresForFile(): { readonly sql: Pool } {
  let db: TestDb
  let conn: Database
  beforeAll(async () => {
    db = await testDb('postgres')
    conn = await readyDb(db)
  })
  afterAll(async () => {
    await conn.close()
    await db.drop()
  })
  return {
    get sql() {
      return conn.sql
    },
  }
}

export interface GatewayProcess {
  url: string
  port: number
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>
  proc: ReturnType<typeof Bun.spawn>
}

export async function startGateway(env: Record<string, string>, timeoutMs = 30_000): Promise<GatewayProcess> {
  const proc = Bun.spawn([process.execPath, join(ROOT, 'src', 'cli.ts'), 'serve'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let out = ''
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const c of s) out += new TextDecoder().decode(c)
  }
  const pumping = Promise.all([pump(proc.stdout), pump(proc.stderr)])
  const deadline = Date.now() + timeoutMs
  let port = 0
  while (!port) {
    const m = /"msg":"listening","port":(\d+)/.exec(out)
    if (m) port = Number(m[1])
    else if (proc.exitCode !== null) throw new Error(`gateway exited with ${proc.exitCode}:\n${out}`)
    else if (Date.now() > deadline) {
      proc.kill()
      throw new Error(`gateway did not start in ${timeoutMs} ms:\n${out}`)
    }
    else await Bun.sleep(20)
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    output: () => out,
    proc,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null) proc.kill(signal)
      const code = await proc.exited
      await pumping
      return code
    },
  }
}

/** Polls until `fn` returns a truthy value or the deadline passes. */
export async function until<T>(fn: () => Promise<T> | T, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(25)
  }
}

/** The `viapi` block of a completion, chunk or image response (the SDK's types do not know it). */
export const viapi = (o: unknown) => (o as { viapi: Record<string, unknown> }).viapi
