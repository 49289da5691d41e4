import { expect, test } from 'bun:test'
import type { CatalogModel } from '../billing/catalog.ts'
import { allowedTargets, orderTargets, resolveTargets } from './resolve.ts'

const model = (id: string, provider: string): CatalogModel => ({
  id,
  provider,
  upstreamModel: id,
  kind: 'chat',
  contextWindow: 1000,
  maxOutputTokens: 100,
  zdr: true,
  prices: { inputPerMtok: 1n, cachedInputPerMtok: null, outputPerMtok: 1n },
  image: null,
  video: null,
})
const catalog = new Map([
  ['gpt-4o', model('gpt-4o', 'openai')],
  ['gpt-4o-mini', model('gpt-4o-mini', 'openai')],
  ['mock-1', model('mock-1', 'mock')],
])
const plain = (...targets: string[]) => ({ targets, weights: null })
const routes = new Map([
  ['default', plain('openai:gpt-4o', 'openai:gpt-4o-mini')],
  ['broken', plain('openai:nope', 'mock:mock-1')],
  ['gpt-4o', plain('mock:mock-1')],
])

test.each([
  ['alias with fallback', 'default', ['openai:gpt-4o', 'openai:gpt-4o-mini']],
  ['alias skips unpriced targets', 'broken', ['mock:mock-1']],
  ['alias shadows a catalog id', 'gpt-4o', ['mock:mock-1']],
  ['catalog id', 'gpt-4o-mini', ['openai:gpt-4o-mini']],
  ['provider-qualified id', 'mock:mock-1', ['mock:mock-1']],
  ['wrong provider for id', 'mock:gpt-4o', []],
  ['unknown', 'gpt-9', []],
  ['empty', '', []],
])('%s', (_name, requested, expected) => {
  expect(resolveTargets(requested, routes, catalog).map((t) => `${t.provider}:${t.modelId}`)).toEqual(expected)
})

test.each([
  ['no lists', 'default', [null, null], ['openai:gpt-4o', 'openai:gpt-4o-mini']],
  ['alias listed', 'default', [['default'], null], ['openai:gpt-4o', 'openai:gpt-4o-mini']],
  ['one target listed: fallback narrowed', 'default', [['gpt-4o-mini'], null], ['openai:gpt-4o-mini']],
  ['provider-qualified', 'default', [['openai:gpt-4o'], null], ['openai:gpt-4o']],
  ['both lists must permit', 'default', [['gpt-4o', 'gpt-4o-mini'], ['gpt-4o-mini']], ['openai:gpt-4o-mini']],
  ['nothing permitted', 'default', [['dall-e-3'], null], []],
])('allowlist: %s', (_n, requested, lists, expected) => {
  const t = resolveTargets(requested, routes, catalog)
  expect(allowedTargets(t, requested, lists).map((x) => `${x.provider}:${x.modelId}`)).toEqual(expected)
})

test.each([
  [0.0, ['a', 'b', 'c']],
  [0.59, ['a', 'b', 'c']],
  [0.6, ['b', 'a', 'c']],
  [0.89, ['b', 'a', 'c']],
  [0.9, ['c', 'a', 'b']],
  [0.9999, ['c', 'a', 'b']],
])('weighted 60/30/10, random %p -> %p', (r, expected) => {
  expect(orderTargets({ targets: ['a', 'b', 'c'], weights: [60, 30, 10] }, () => r)).toEqual(expected)
})

test('zero weight is never drawn first but stays a fallback; no weights keeps the order', () => {
  expect(orderTargets({ targets: ['a', 'b'], weights: [0, 5] }, () => 0)).toEqual(['b', 'a'])
  expect(orderTargets({ targets: ['a', 'b'], weights: null }, () => 0.99)).toEqual(['a', 'b'])
})
