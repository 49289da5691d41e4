#!/usr/bin/env bun
/** @module The `viapi` command: serve, migrate, bootstrap. */
import { parseArgs } from 'node:util'
import { openReady } from './ready.ts'
import { tuneAllocator } from './shared/allocator.ts'
import { ConfigError, loadConfig, type Config } from './shared/config.ts'
import { GatewayError, InvalidRequest } from './shared/errors.ts'
import { configureLog, describeError, log } from './shared/log.ts'
import { needsReseal, openIfSealed, seal, unseal } from './shared/sealed.ts'
import { allCredentials, resealCredential } from './tenancy/credentials.ts'
import { bootstrap } from './tenancy/bootstrap.ts'
import { getFirm, resealWebhookSecret, webhookSecrets } from './tenancy/firms.ts'
import { createUser, findUserByEmail, setPassword } from './tenancy/users.ts'

const USAGE = `Usage: viapi <command> [options]

Commands:
  serve                         Run the gateway (applies pending migrations first)
  migrate                       Apply pending database migrations
  bootstrap --firm NAME --email EMAIL [--password P] [--demo] [--markup-percent N] [--json]
                                Create a firm, its admin and an admin token (vi_pat_);
                                with --demo also client "demo", a key and route "default"
  user create --email E --password P [--platform-admin] [--firm FIRM_ID]
                                Add an admin who can sign in (MCP, OAuth)
  user set-password --email E --password P
                                Set an admin's sign-in password
  secrets rotate                Re-seal firm provider keys with VIAPI_SECRET_KEY (opening them with
                                it or VIAPI_SECRET_KEY_PREVIOUS)
  mcp                           MCP server on stdio for agent CLIs (needs VIAPI_API_URL,
                                VIAPI_ADMIN_TOKEN=vi_pat_...)

Configuration comes from the environment (PORT, DATABASE_URL, REDIS_URL, ...): see README.md.`

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === 'serve') tuneAllocator()
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n')
    return command ? 0 : 2
  }
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`viapi: configuration error: ${err.message}\n`)
      return 2
    }
    throw err
  }
  configureLog(config.logLevel, command === 'serve' ? 'stdout' : 'stderr')
  switch (command) {
    case 'mcp':
      // Each command loads only its own modules: neither an MCP client nor a worker supervisor needs the gateway.
      return (await import('./mcp/stdio.ts')).runStdio(config.env)
    case 'user':
      return runUser(config, rest)
    case 'secrets':
      return runSecrets(config, rest)
    case 'serve':
      return runServe(config)
    case 'migrate': {
      const db = await openReady(config)
      await db.close()
      process.stderr.write('migrations are up to date\n')
      return 0
    }
    case 'bootstrap':
      return runBootstrap(config, rest)
    default:
      process.stderr.write(`viapi: unknown command "${command}"\n\n${USAGE}\n`)
      return 2
  }
}

async function runServe(config: Config): Promise<number> {
  const running = config.workers > 1 ? await (await import('./supervisor.ts')).supervise(config) : await (await import('./server.ts')).serve(config)
  await new Promise<void>((done) => {
    const stop = (signal: string) => void running.shutdown(signal).then(done)
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
  return 0
}

async function runBootstrap(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      firm: { type: 'string' },
      email: { type: 'string' },
      demo: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'markup-percent': { type: 'string' },
      password: { type: 'string' },
    },
    strict: true,
  })
  if (!values.firm || !values.email) {
    process.stderr.write('viapi bootstrap: --firm and --email are required\n')
    return 2
  }
  const markup = values['markup-percent']
  if (markup !== undefined && !/^\d+(\.\d{1,2})?$/.test(markup)) {
    process.stderr.write('viapi bootstrap: --markup-percent must be a number with at most 2 decimals, e.g. 30 or 12.5\n')
    return 2
  }
  const password = values.password === undefined ? null : checkedPassword(values.password)
  const db = await openReady(config, 1)
  try {
    const result = await bootstrap(db.sql, {
      firmName: values.firm,
      email: values.email,
      demo: values.demo,
      demoTarget: config.env.OPENAI_API_KEY ? 'openai:gpt-4o-mini' : 'mock:mock-1',
      markupBps: markup === undefined ? 0 : Math.round(Number(markup) * 100),
    })
    if (password) {
      const admin = await findUserByEmail(db.sql, values.email)
      if (admin) await setPassword(db.sql, admin.id, password)
    }
    if (values.json) process.stdout.write(JSON.stringify(result) + '\n')
    else {
      const lines = [`firm:        ${result.firm_id}`, `admin token: ${result.admin_token}   (shown once; keep it safe)`]
      if (result.client_id) lines.push(`client:      ${result.client_id} (demo)`, `api key:     ${result.api_key}   (shown once)`)
      process.stdout.write(lines.join('\n') + '\n')
    }
    return 0
  } finally {
    await db.close()
  }
}

function checkedPassword(p: string): string {
  if (p.length < 10) throw new InvalidRequest('--password must be at least 10 characters', 'password')
  return p
}

async function runUser(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args
  const { values } = parseArgs({
    args: rest,
    options: { email: { type: 'string' }, password: { type: 'string' }, 'platform-admin': { type: 'boolean', default: false }, firm: { type: 'string' } },
    strict: true,
  })
  if ((sub !== 'create' && sub !== 'set-password') || !values.email || !values.password) {
    process.stderr.write('viapi user: create --email E --password P [--platform-admin] [--firm FIRM_ID] | set-password --email E --password P\n')
    return 2
  }
  const password = checkedPassword(values.password)
  const db = await openReady(config, 1)
  try {
    if (sub === 'create') {
      const platform = values['platform-admin']
      if (!platform && !values.firm) throw new InvalidRequest('--firm is required for a firm admin', 'firm')
      if (values.firm && !(await getFirm(db.sql, values.firm))) throw new InvalidRequest(`no firm ${values.firm}`, 'firm')
      if (await findUserByEmail(db.sql, values.email)) throw new InvalidRequest(`a user with the email ${values.email} already exists`, 'email')
      const user = await createUser(db.sql, { email: values.email, role: platform ? 'platform_admin' : 'firm_admin', firmId: platform ? null : values.firm! })
      await setPassword(db.sql, user.id, password)
      process.stdout.write(JSON.stringify({ user_id: user.id, email: user.email, role: user.role }) + '\n')
      return 0
    }
    const user = await findUserByEmail(db.sql, values.email)
    if (!user) throw new InvalidRequest(`no user with the email ${values.email}`, 'email')
    await setPassword(db.sql, user.id, password)
    process.stderr.write(`password set for ${user.email}\n`)
    return 0
  } finally {
    await db.close()
  }
}

async function runSecrets(config: Config, args: string[]): Promise<number> {
  if (args[0] !== 'rotate') {
    process.stderr.write('viapi secrets: rotate\n')
    return 2
  }
  const current = config.secretKeys[0]
  if (!current) {
    process.stderr.write('viapi secrets rotate: set VIAPI_SECRET_KEY (the new key) and VIAPI_SECRET_KEY_PREVIOUS (the old one)\n')
    return 2
  }
  const db = await openReady(config, 1)
  try {
    let resealed = 0
    for (const c of await allCredentials(db.sql)) {
      if (!needsReseal(current, c.secretEnc)) continue
      await resealCredential(db.sql, c.firmId, c.provider, seal(current, unseal(config.secretKeys, c.secretEnc)))
      resealed++
    }
    let hooks = 0
    // Webhook signing secrets too, including ones stored before any key was set.
    for (const w of await webhookSecrets(db.sql)) {
      if (!needsReseal(current, w.stored)) continue
      await resealWebhookSecret(db.sql, w.firmId, w.stored, seal(current, openIfSealed(config.secretKeys, w.stored)))
      hooks++
    }
    process.stderr.write(`re-sealed ${resealed} provider key${resealed === 1 ? '' : 's'} and ${hooks} webhook secret${hooks === 1 ? '' : 's'} with the current VIAPI_SECRET_KEY\n`)
    return 0
  } finally {
    await db.close()
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof GatewayError) process.stderr.write(`viapi: ${err.message}\n`)
    else if (err instanceof TypeError && /parseArgs|Unknown option|ERR_PARSE_ARGS/.test(String((err as { code?: string }).code ?? err.message))) process.stderr.write(`viapi: ${err.message}\n`)
    else log.error('fatal', { error: describeError(err) })
    process.exit(1)
  },
)
