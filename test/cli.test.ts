/** The viapi command line: bootstrap, migrate, configuration errors. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { listMigrations } from '../src/shared/migrate.ts'
import { readyDb, testDb, type TestDb } from './helpers/gateway.ts'

const CLI = join(import.meta.dir, '..', 'src', 'cli.ts')
let db: TestDb

async function viapi(args: string[], env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { stdout, stderr, code }
}

beforeAll(async () => {
  db = await testDb('postgres')
})
afterAll(async () => {
  await db.drop()
})

test('bootstrap --demo --json prints one JSON object, and a second firm with --demo works in the same database', async () => {
  const first = await viapi(['bootstrap', '--firm', 'Acme', '--email', 'dawn@acme.test', '--demo', '--json'], db.env)
  expect(first.code).toBe(0)
  const a = JSON.parse(first.stdout) as Record<string, string>
  expect(Object.keys(a).sort()).toEqual(['admin_token', 'api_key', 'client_id', 'firm_id'])
  expect(a.firm_id).toMatch(/^firm_/)
  expect(a.client_id).toMatch(/^cli_/)
  expect(a.admin_token).toMatch(/^vi_pat_[A-Za-z0-9]{32,}$/)
  expect(a.api_key).toMatch(/^vi_live_[A-Za-z0-9]{32,}$/)

  const second = await viapi(['bootstrap', '--firm', 'Beta', '--email', 'ops@beta.test', '--demo', '--json'], db.env)
  expect(second.code).toBe(0)
  const b = JSON.parse(second.stdout) as Record<string, string>
  expect(b.firm_id).not.toBe(a.firm_id)

  const conn = await db.connect()
  const routes = await conn.sql<{ alias: string; target: string }[]>`select alias, target from routes where client_id = ${a.client_id!}`
  const keys = await conn.sql<{ key_hash: string; prefix: string }[]>`select key_hash, prefix from api_keys where client_id = ${a.client_id!}`
  await conn.close()
  expect([...routes]).toEqual([{ alias: 'default', target: 'mock:mock-1' }])
  // stored as a hash and a 12-character prefix, never the secret
  expect(keys[0]!.prefix).toBe(a.api_key!.slice(0, 12))
  expect(keys[0]!.key_hash).not.toContain(a.api_key!.slice(8))
})

test('bootstrap without --demo prints no client or key; the demo route uses OpenAI when a key is configured', async () => {
  const plain = await viapi(['bootstrap', '--firm', 'Gamma', '--email', 'g@gamma.test', '--json'], db.env)
  expect(Object.keys(JSON.parse(plain.stdout) as object).sort()).toEqual(['admin_token', 'firm_id'])
  const withOpenAi = await viapi(['bootstrap', '--firm', 'Delta', '--email', 'd@delta.test', '--demo', '--json'], { ...db.env, OPENAI_API_KEY: 'sk-test' })
  const d = JSON.parse(withOpenAi.stdout) as Record<string, string>
  const conn = await db.connect()
  const [route] = await conn.sql<{ target: string }[]>`select target from routes where client_id = ${d.client_id!}`
  await conn.close()
  expect(route!.target).toBe('openai:gpt-4o-mini')
})

test('bootstrap refuses a duplicate admin email with a clear message', async () => {
  await viapi(['bootstrap', '--firm', 'One', '--email', 'dup@x.test', '--json'], db.env)
  const again = await viapi(['bootstrap', '--firm', 'Two', '--email', 'DUP@x.test', '--json'], db.env)
  expect(again.code).toBe(1)
  expect(again.stderr).toContain('already exists')
})

test('migrate applies the schema once and is idempotent', async () => {
  const fresh = await testDb('postgres')
  try {
    expect((await viapi(['migrate'], fresh.env)).code).toBe(0)
    expect((await viapi(['migrate'], fresh.env)).code).toBe(0)
    const conn = await readyDb(fresh)
    const applied = await conn.sql<{ name: string }[]>`select name from schema_migrations`
    const [models] = await conn.sql<{ n: bigint }[]>`select count(*)::bigint as n from models where id = 'gpt-4o-mini' and input_nano_per_mtok = 150000000 and output_nano_per_mtok = 600000000`
    await conn.close()
    expect(applied.map((r) => r.name)).toEqual(listMigrations().map((m) => m.name))
    expect(applied.length).toBeGreaterThanOrEqual(2)
    expect(models!.n).toBe(1n)
  } finally {
    await fresh.drop()
  }
})

test.each([
  [{ PORT: 'eighty' }, 'PORT must be a whole number'],
  [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must use postgres: or postgresql:'],
  [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of'],
  [{ VIAPI_BODY_LIMIT_BYTES: '10' }, 'VIAPI_BODY_LIMIT_BYTES must be between'],
  [{ OPENAI_BASE_URL: 'not a url' }, 'OPENAI_BASE_URL is not a valid URL'],
])('a bad setting stops the command with a message naming it: %p', async (env, message) => {
  const r = await viapi(['serve'], env)
  expect(r.code).toBe(2)
  expect(r.stderr).toContain(message)
})

test('unknown command: usage and exit 2', async () => {
  const r = await viapi(['frobnicate'], {})
  expect(r.code).toBe(2)
  expect(r.stderr).toContain('Usage: viapi')
})
