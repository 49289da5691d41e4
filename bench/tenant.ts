/** A bench's database and tenant: migrated, catalog synced, one firm with a demo key whose rate limits never bind. */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { syncCatalog } from '../src/billing/catalog.ts'
import { openDatabase, type Database } from '../src/shared/db.ts'
import { migrate } from '../src/shared/migrate.ts'
import { bootstrap } from '../src/tenancy/bootstrap.ts'

export async function benchTenant(name: string): Promise<{ db: Database; dataDir: string; firmId: string; clientId: string; apiKey: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), `viapi-${name}-`))
  const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir })
  await migrate(db.sql)
  await syncCatalog(db.sql)
  const fx = await bootstrap(db.sql, { firmName: `Bench ${name}`, email: `${name}-${Date.now()}@bench.local`, demo: true, demoTarget: 'openai:gpt-4o-mini', markupBps: 3000 })
  await db.sql`update clients set rpm = 100000000, rpd = 1000000000 where id = ${fx.client_id!}`
  return { db, dataDir, firmId: fx.firm_id, clientId: fx.client_id!, apiKey: fx.api_key! }
}

/**
 * Removes what benchTenant made from a shared database (DATABASE_URL): the firm with all that cascades from it, its
 * usage rows and its audit trail: a full run writes a million or more usage rows, and one run's data should not
 * be the next one's baseline.
 */
export async function removeBenchTenant(db: Database, firmId: string): Promise<void> {
  // By client: usage is indexed by client and time, not by firm.
  await db.sql`delete from usage_chunks where client_id in (select id from clients where firm_id = ${firmId})`
  await db.sql`delete from audit_log where firm_id = ${firmId}`
  await db.sql`delete from firms where id = ${firmId}`
}
