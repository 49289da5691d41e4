/**
 * @module Database connection: a Postgres server from DATABASE_URL, or an embedded PGlite served on a loopback
 * socket so the same driver and SQL run in both modes.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import postgres from 'postgres'
import { EmbeddedPostgresServer } from './embedded-server.ts'
import { log } from './log.ts'

/** A connection pool. */
export type Pool = postgres.Sql<{ bigint: bigint }>
/** Anything that runs queries: the pool or a transaction. Query functions take this first. */
export type Sql = Pool | postgres.TransactionSql<{ bigint: bigint }>

export interface Database {
  sql: Pool
  mode: 'postgres' | 'embedded'
  close(): Promise<void>
}

interface EmbeddedInfo {
  pid: number
  port: number
}

const driverOptions = {
  types: { bigint: postgres.BigInt },
  onnotice: () => {},
  connection: { application_name: 'viapi' },
} as const

/**
 * Opens the database. Embedded mode: the first process to open the data dir serves it on 127.0.0.1 and records
 * the port in `<dataDir>/embedded.json`; a later process (a CLI command while the gateway runs) connects to that.
 */
export async function openDatabase(opts: { databaseUrl: string | undefined; dataDir: string; poolMax?: number }): Promise<Database> {
  if (opts.databaseUrl) {
    const sql = postgres(opts.databaseUrl, { ...driverOptions, max: opts.poolMax ?? 10 }) as Pool
    return { sql, mode: 'postgres', close: () => sql.end({ timeout: 5 }) }
  }
  const dir = resolve(opts.dataDir)
  const running = liveEmbedded(dir)
  if (running) {
    // PGlite runs one session: keep this client to one connection so it never holds two.
    const sql = postgres({ ...driverOptions, host: '127.0.0.1', port: running.port, database: 'postgres', username: 'postgres', max: 1 }) as Pool
    return { sql, mode: 'embedded', close: () => sql.end({ timeout: 5 }) }
  }
  return startEmbedded(dir)
}

function infoPath(dir: string): string {
  return join(dir, 'embedded.json')
}

function liveEmbedded(dir: string): EmbeddedInfo | null {
  const path = infoPath(dir)
  if (!existsSync(path)) return null
  let info: EmbeddedInfo
  try {
    info = JSON.parse(readFileSync(path, 'utf8')) as EmbeddedInfo
  } catch {
    return null
  }
  if (info.pid === process.pid) return null
  try {
    process.kill(info.pid, 0)
    return info
  } catch {
    return null
  }
}

async function startEmbedded(dir: string): Promise<Database> {
  mkdirSync(dir, { recursive: true })
  const { PGlite } = await import('@electric-sql/pglite')
  const db = await PGlite.create({ dataDir: join(dir, 'pgdata') })
  // Other processes (CLI commands, tests) may connect while the gateway serves; the server keeps their statements apart.
  const server = new EmbeddedPostgresServer(db)
  const port = await server.start()
  writeFileSync(infoPath(dir), JSON.stringify({ pid: process.pid, port } satisfies EmbeddedInfo))
  log.debug('embedded postgres started', { dir, port })
  const sql = postgres({ ...driverOptions, host: '127.0.0.1', port, database: 'postgres', username: 'postgres', max: 1 }) as Pool
  return {
    sql,
    mode: 'embedded',
    async close() {
      await sql.end({ timeout: 5 })
      await server.stop()
      await db.close()
      rmSync(infoPath(dir), { force: true })
    },
  }
}
