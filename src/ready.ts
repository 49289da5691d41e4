/**
 * @module What every command that touches the database starts with, kept apart from the gateway's modules so the
 * CLI and the worker supervisor load only this.
 */
import { syncCatalog } from './billing/catalog.ts'
import type { Config } from './shared/config.ts'
import { openDatabase, type Database } from './shared/db.ts'
import { log } from './shared/log.ts'
import { migrate } from './shared/migrate.ts'

export interface Running {
  port: number
  shutdown(reason: string): Promise<void>
}

/** Opens the database (migrating it and syncing the catalog) for any command that needs it. */
export async function openReady(config: Config, poolMax?: number): Promise<Database> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax })
  const applied = await migrate(db.sql)
  if (applied.length > 0) log.info('migrations applied', { applied })
  await syncCatalog(db.sql)
  return db
}
