/** @module The provider registry: data, one adapter per provider id, built from the environment by one rule. */
import { pooledClientEnabled } from '../upstream-request.ts'
import { anthropicAdapter } from './anthropic.ts'
import { AZURE_API_VERSION, azureAdapter } from './azure.ts'
import { geminiAdapter } from './gemini.ts'
import { mockAdapter } from './mock.ts'
import { COMPATIBLE_BASE_URLS, openAiCompatible } from './openai.ts'
import { credentialsFor, type Credentials, type ProviderAdapter, type ProviderId } from './types.ts'

export type ProviderRegistry = Record<ProviderId, ProviderAdapter>

type Env = Record<string, string | undefined>

/** Each provider's public endpoint, as its own SDK writes it. */
export const DEFAULT_BASE_URLS = {
  ...COMPATIBLE_BASE_URLS,
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com',
  // Each Azure resource has its own host: there is no public default.
  'azure-openai': 'https://your-resource.openai.azure.invalid',
  mock: 'http://mock.invalid',
} as const satisfies Record<ProviderId, string>

const BUILD = {
  openai: (c, env) => openAiCompatible('openai', c, pooledClientEnabled(env)),
  anthropic: (c, env) => anthropicAdapter(c, pooledClientEnabled(env)),
  gemini: (c, env) => geminiAdapter(c, pooledClientEnabled(env)),
  'azure-openai': (c, env) => azureAdapter(c, env.AZURE_OPENAI_API_VERSION || AZURE_API_VERSION, pooledClientEnabled(env)),
  groq: (c, env) => openAiCompatible('groq', c, pooledClientEnabled(env)),
  mistral: (c, env) => openAiCompatible('mistral', c, pooledClientEnabled(env)),
  together: (c, env) => openAiCompatible('together', c, pooledClientEnabled(env)),
  deepseek: (c, env) => openAiCompatible('deepseek', c, pooledClientEnabled(env)),
  fireworks: (c, env) => openAiCompatible('fireworks', c, pooledClientEnabled(env)),
  xai: (c, env) => openAiCompatible('xai', c, pooledClientEnabled(env)),
  openrouter: (c, env) => openAiCompatible('openrouter', c, pooledClientEnabled(env)),
  'openai-compatible': (c, env) => openAiCompatible('openai-compatible', c, pooledClientEnabled(env)),
  mock: () => mockAdapter(),
} as const satisfies Record<ProviderId, (c: Credentials, env: Env) => ProviderAdapter>

/** An adapter with given credentials: the platform's (from the environment) or a firm's own. */
export function adapterFor(id: ProviderId, creds: Credentials, env: Env): ProviderAdapter {
  return BUILD[id](creds, env)
}

export function createProviders(env: Env): ProviderRegistry {
  const out = {} as Record<ProviderId, ProviderAdapter>
  for (const id of Object.keys(BUILD) as ProviderId[]) out[id] = adapterFor(id, credentialsFor(id, env, DEFAULT_BASE_URLS[id]), env)
  return out
}

export function isProviderId(registry: ProviderRegistry, id: string): id is ProviderId {
  return Object.hasOwn(registry, id)
}

/** Providers a firm can bring its own key for. */
export const BYOK_PROVIDERS = (Object.keys(BUILD) as ProviderId[]).filter((id) => id !== 'mock')
