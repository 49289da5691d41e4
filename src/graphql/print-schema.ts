/** @module Prints the GraphQL schema to schema.graphql (run by scripts/print-schema; a test fails when it is stale). */
import { printSchema } from 'graphql'
import { join } from 'node:path'
import { schema } from './schema/index.ts'

export const SCHEMA_FILE = join(import.meta.dir, '..', '..', 'schema.graphql')

export function renderSchema(): string {
  return printSchema(schema) + '\n'
}

if (import.meta.main) {
  await Bun.write(SCHEMA_FILE, renderSchema())
  process.stderr.write(`wrote ${SCHEMA_FILE}\n`)
}
