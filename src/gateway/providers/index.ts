/** @module The provider registry: data, one entry per provider id, built from the environment. */
import { mockAdapter } from './mock.ts'
import { openAiAdapter } from './openai.ts'
import type { ProviderAdapter, ProviderId } from './types.ts'

export type ProviderRegistry = Record<ProviderId, ProviderAdapter>

export function createProviders(env: Record<string, string | undefined>): ProviderRegistry {
  return {
    openai: openAiAdapter({ apiKey: env.OPENAI_API_KEY || undefined, baseUrl: env.OPENAI_BASE_URL || 'https://api.openai.com/v1' }),
    mock: mockAdapter(),
  } satisfies ProviderRegistry
}

export function isProviderId(registry: ProviderRegistry, id: string): id is ProviderId {
  return Object.hasOwn(registry, id)
}
