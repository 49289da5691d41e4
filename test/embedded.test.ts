/** The embedded Postgres server: several client connections share one PGlite session without mixing statements. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { openDatabase, type Database } from '../src/shared/db.ts'

const dir = mkdtempSync(join(tmpdir(), 'viapi-embedded-'))
let owner: Database
let port: number

beforeAll(async () => {
  owner = await openDatabase({ databaseUrl: undefined, dataDir: dir })
  await owner.sql`create table t (id serial primary key, who text not null, n int not null)`
  port = Number(JSON.parse(await Bun.file(join(dir, 'embedded.json')).text()).port)
})
afterAll(async () => {
  await owner.close()
  rmSync(dir, { recursive: true, force: true })
})

const client = () => postgres({ host: '127.0.0.1', port, database: 'postgres', username: 'postgres', max: 1, onnotice: () => {} })

test('two connections interleaving parameterized queries and transactions get their own answers', async () => {
  const a = client()
  const b = client()
  try {
    const work = (sql: postgres.Sql, who: string) =>
      Promise.all(
        Array.from({ length: 150 }, async (_, i) => {
          if (i % 10 === 0) {
            await sql.begin(async (tx) => {
              await tx`insert into t (who, n) values (${who}, ${i})`
              await tx`insert into t (who, n) values (${who}, ${i + 1000})`
            })
            return i
          }
          const [r] = await sql<{ v: number; w: string }[]>`select ${i}::int * 2 as v, ${who}::text as w`
          expect(r).toEqual({ v: i * 2, w: who })
          return i
        }),
      )
    await Promise.all([work(a, 'a'), work(b, 'b'), work(owner.sql as unknown as postgres.Sql, 'o')])
    const rows = await owner.sql<{ who: string; c: bigint }[]>`select who, count(*)::bigint as c from t group by who order by who`
    expect([...rows]).toEqual([
      { who: 'a', c: 30n },
      { who: 'b', c: 30n },
      { who: 'o', c: 30n },
    ])
  } finally {
    await a.end()
    await b.end()
  }
})

test('a client that disconnects inside a transaction leaves nothing behind and blocks no one', async () => {
  const a = client()
  const begun = a.begin(async (tx) => {
    await tx`insert into t (who, n) values ('ghost', 1)`
    await new Promise(() => {}) // never commits
  })
  begun.catch(() => {})
  await Bun.sleep(100)
  await a.end({ timeout: 0 })
  const [r] = await owner.sql<{ c: bigint }[]>`select count(*)::bigint as c from t where who = 'ghost'`
  expect(r!.c).toBe(0n)
})
