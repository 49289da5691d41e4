/** @module Applies the numbered SQL files in sql/ once each, in order, recorded in schema_migrations. */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Pool } from './db.ts'

const SQL_DIR = join(import.meta.dir, '..', '..', 'sql')
// Any constant works; it only has to be the same in every replica so concurrent starts apply migrations once.
const LOCK_KEY = 7_361_514_282

export interface Migration {
  version: number
  name: string
  text: string
}

export function listMigrations(dir: string = SQL_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .map((f) => ({ version: Number(f.split('_')[0]), name: f, text: readFileSync(join(dir, f), 'utf8') }))
    .sort((a, b) => a.version - b.version)
}

/** Applies pending migrations in one transaction under an advisory lock; returns the names applied. */
export async function migrate(sql: Pool, migrations: Migration[] = listMigrations()): Promise<string[]> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_KEY})`
    await tx`create table if not exists schema_migrations (
      version integer primary key, name text not null, applied_at timestamptz not null default now())`
    const done = new Set((await tx<{ version: number }[]>`select version from schema_migrations`).map((r) => r.version))
    const applied: string[] = []
    for (const m of migrations) {
      if (done.has(m.version)) continue
      await tx.unsafe(m.text)
      await tx`insert into schema_migrations (version, name) values (${m.version}, ${m.name})`
      applied.push(m.name)
    }
    return applied
  })
}
