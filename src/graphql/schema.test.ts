import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { renderSchema, SCHEMA_FILE } from './print-schema.ts'

test('schema.graphql is up to date (run ./scripts/print-schema)', () => {
  expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(renderSchema())
})

test('the public operation names exist', () => {
  const sdl = renderSchema()
  for (const q of ['me', 'firm', 'clients', 'client', 'keys', 'routes', 'models', 'spendingLimit', 'usage', 'creditBalance', 'auditLog']) expect(sdl).toMatch(new RegExp(`\\n  ${q}[(:]`))
  for (const m of ['createClient', 'updateClient', 'mintGuardrailedKey', 'updateKey', 'revokeKey', 'createRoute', 'deleteRoute', 'setSpendingLimit', 'setClientRateLimits', 'setMarkup']) {
    expect(sdl).toMatch(new RegExp(`\\n  ${m}\\(`))
  }
})
