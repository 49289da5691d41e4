import { expect, test } from 'bun:test'
import type { CatalogModel } from '../billing/catalog.ts'
import type { GatewayContext } from './context.ts'
import type { KeyEntry } from './key-cache.ts'
import { admitTargets } from './targets.ts'
import type { KeyContext } from '../tenancy/keys.ts'

const model = (id: string, provider: string, kind: CatalogModel['kind'] = 'chat'): CatalogModel => ({
  id, provider, upstreamModel: `${id}-up`, kind, contextWindow: 1000, maxOutputTokens: 100, zdr: true,
  prices: { inputPerMtok: 1n, cachedInputPerMtok: null, outputPerMtok: 1n }, image: null, video: null,
})
const catalogOf = (...ms: CatalogModel[]) => new Map(ms.map((m) => [m.id, m]))
const ctx = { allowedModels: null, clientAllowedModels: null } as unknown as KeyContext
const entry = (routes: KeyEntry['routes']): KeyEntry => ({ ctx, routes })
const gwWith = (catalog: Map<string, CatalogModel>) => ({ catalog: { current: catalog } }) as unknown as GatewayContext

test('a key asking for the same model again gets the same targets without resolving them again', () => {
  const gw = gwWith(catalogOf(model('a', 'openai'), model('b', 'groq')))
  const e = entry(new Map([['default', { targets: ['openai:a', 'groq:b'], weights: null }]]))
  const first = admitTargets(gw, e, 'default')
  expect(first.map((t) => t.key)).toEqual(['openai:a', 'groq:b'])
  expect(admitTargets(gw, e, 'default')).toBe(first)
  // Another kind is its own question.
  expect(() => admitTargets(gw, e, 'default', 'embedding')).toThrow('is not an embedding model')
})

test('a catalog reload is seen at once', () => {
  const gw = gwWith(catalogOf(model('a', 'openai')))
  const e = entry(new Map([['default', { targets: ['openai:a', 'openai:b'], weights: null }]]))
  expect(admitTargets(gw, e, 'default').map((t) => t.modelId)).toEqual(['a'])
  gw.catalog.current = catalogOf(model('a', 'openai'), model('b', 'openai'))
  expect(admitTargets(gw, e, 'default').map((t) => t.modelId)).toEqual(['a', 'b'])
})

test('weighted routes draw their order per request; refusals are not kept', () => {
  const catalog = catalogOf(model('a', 'openai'), model('b', 'groq'))
  const gw = gwWith(catalog)
  const e = entry(new Map([['mix', { targets: ['openai:a', 'groq:b'], weights: [1, 1] }]]))
  const firsts = new Set(Array.from({ length: 200 }, () => admitTargets(gw, e, 'mix')[0]!.modelId))
  expect([...firsts].sort()).toEqual(['a', 'b'])
  expect(() => admitTargets(gw, e, 'nope')).toThrow()
  catalog.set('nope', model('nope', 'openai'))
  expect(admitTargets(gw, e, 'nope').map((t) => t.key)).toEqual(['openai:nope'])
})
