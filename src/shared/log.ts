/** @module Structured JSON logs, one line per event; the sink is stdout unless told otherwise (stdio MCP needs stderr). */
import type { LogLevel } from './config.ts'

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

type Fields = Record<string, unknown>

let threshold = RANK.info
let sink: (line: string) => void = (line) => process.stdout.write(line)

export function configureLog(level: LogLevel, to: 'stdout' | 'stderr' = 'stdout'): void {
  threshold = RANK[level]
  sink = to === 'stdout' ? (line) => process.stdout.write(line) : (line) => process.stderr.write(line)
}

function emit(level: Exclude<LogLevel, 'silent'>, msg: string, fields?: Fields): void {
  if (RANK[level] < threshold) return
  sink(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n')
}

export const log = {
  enabled: (level: Exclude<LogLevel, 'silent'>): boolean => RANK[level] >= threshold,
  debug: (msg: string, fields?: Fields) => emit('debug', msg, fields),
  info: (msg: string, fields?: Fields) => emit('info', msg, fields),
  warn: (msg: string, fields?: Fields) => emit('warn', msg, fields),
  error: (msg: string, fields?: Fields) => emit('error', msg, fields),
}

/** Renders an unknown thrown value for a log line without its stack unless at debug. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`
  return String(err)
}
