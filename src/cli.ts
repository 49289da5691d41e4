#!/usr/bin/env bun
/** @module The `viapi` command: serve, migrate, bootstrap. */
import { parseArgs } from 'node:util'
import { openReady, serve, supervise } from './server.ts'
import { ConfigError, loadConfig, type Config } from './shared/config.ts'
import { GatewayError } from './shared/errors.ts'
import { configureLog, describeError, log } from './shared/log.ts'
import { bootstrap } from './tenancy/bootstrap.ts'

const USAGE = `Usage: viapi <command> [options]

Commands:
  serve                         Run the gateway (applies pending migrations first)
  migrate                       Apply pending database migrations
  bootstrap --firm NAME --email EMAIL [--demo] [--markup-percent N] [--json]
                                Create a firm, its admin and an admin token (vi_pat_);
                                with --demo also client "demo", a key and route "default"

Configuration comes from the environment (PORT, DATABASE_URL, REDIS_URL, ...): see README.md.`

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
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
  const running = config.workers > 1 ? await supervise(config) : await serve(config)
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
  const db = await openReady(config, 1)
  try {
    const result = await bootstrap(db.sql, {
      firmName: values.firm,
      email: values.email,
      demo: values.demo,
      demoTarget: config.env.OPENAI_API_KEY ? 'openai:gpt-4o-mini' : 'mock:mock-1',
      markupBps: markup === undefined ? 0 : Math.round(Number(markup) * 100),
    })
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof GatewayError) process.stderr.write(`viapi: ${err.message}\n`)
    else if (err instanceof TypeError && /parseArgs|Unknown option|ERR_PARSE_ARGS/.test(String((err as { code?: string }).code ?? err.message))) process.stderr.write(`viapi: ${err.message}\n`)
    else log.error('fatal', { error: describeError(err) })
    process.exit(1)
  },
)
