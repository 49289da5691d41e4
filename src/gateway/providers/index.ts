/** @module The provider registry: data, one adapter per provider id, built from the environment by one rule. */
import { anthropicAdapter } from './anthropic.ts'
import { AZURE_API_VERSION, azureAdapter } from './azure.ts'
import { geminiAdapter } from './gemini.ts'
import { mockAdapter } from './mock.ts'
import { COMPATIBLE_BASE_URLS, openAiCompatible } from './openai.ts'
import { credentialsFor, type ProviderAdapter, type ProviderId } from './types.ts'

export type ProviderRegistry = Record<ProviderId, ProviderAdapter>

export function createProviders(env: Record<string, string | undefined>): ProviderRegistry {
  const compatible = (id: keyof typeof COMPATIBLE_BASE_URLS) => openAiCompatible(id, credentialsFor(id, env, COMPATIBLE_BASE_URLS[id]))
  return {
    openai: compatible('openai'),
    anthropic: anthropicAdapter(credentialsFor('anthropic', env, 'https://api.anthropic.com')),
    gemini: geminiAdapter(credentialsFor('gemini', env, 'https://generativelanguage.googleapis.com')),
    // Each Azure resource has its own host: there is no public default.
    'azure-openai': azureAdapter(credentialsFor('azure-openai', env, 'https://your-resource.openai.azure.invalid'), env.AZURE_OPENAI_API_VERSION || AZURE_API_VERSION),
    groq: compatible('groq'),
    mistral: compatible('mistral'),
    together: compatible('together'),
    deepseek: compatible('deepseek'),
    fireworks: compatible('fireworks'),
    xai: compatible('xai'),
    openrouter: compatible('openrouter'),
    'openai-compatible': compatible('openai-compatible'),
    mock: mockAdapter(),
  } satisfies ProviderRegistry
}

export function isProviderId(registry: ProviderRegistry, id: string): id is ProviderId {
  return Object.hasOwn(registry, id)
}
