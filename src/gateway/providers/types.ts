/** @module The narrow interface every upstream provider implements, and the credentials rule they share. */
import type { CancelSignal } from '../cancel.ts'
import type { UpstreamReply } from '../upstream-body.ts'

export type ProviderId =
  | 'openai'
  | 'anthropic'
  | 'gemini'
  | 'azure-openai'
  | 'groq'
  | 'mistral'
  | 'together'
  | 'deepseek'
  | 'fireworks'
  | 'xai'
  | 'openrouter'
  | 'openai-compatible'
  | 'mock'

/** One chat completion to send upstream, in OpenAI's request shape. */
export interface ChatDispatch {
  /** The client's body with `model` set to the upstream model id and stream usage requested. */
  body: Record<string, unknown>
  /** `body` as JSON text, for adapters that send it as it is: the client's own text, spliced where it can be. */
  json(): string
  stream: boolean
  /** Aborts the upstream request: client gone, timeout or shutdown. */
  signal: CancelSignal
  /** The model's output limit, for providers that require max_tokens. */
  maxOutputTokens: number | null
  /** Largest answer an adapter that reads the upstream's JSON itself may read (see upstream-body.ts). */
  responseLimit: number
}

/** One embeddings or image request, in OpenAI's shape (`model` set to the upstream model id). */
export interface EmbedDispatch {
  body: Record<string, unknown>
  signal: AbortSignal
  responseLimit: number
}

export interface ProviderAdapter {
  readonly id: ProviderId
  /** False when the provider lacks credentials; the router then skips it with a clear error. */
  readonly configured: boolean
  readonly capabilities: { readonly chat: boolean; readonly streaming: boolean }
  /** Its chat sends json() and never reads `body`: the gateway need not parse what the client sent (see body.ts). */
  readonly sendsClientText?: boolean
  /** OpenAI-shaped embeddings (`{object: "list", data, model, usage}`), where the provider has them. */
  embeddings?(call: EmbedDispatch): Promise<Response | UpstreamReply>
  /** OpenAI-shaped image generation (`{created, data: [{url | b64_json}], usage?}`), where the provider has it. */
  images?(call: EmbedDispatch): Promise<Response | UpstreamReply>
  /**
   * Sends the request and resolves once upstream headers arrive, with an OpenAI-shaped response: a JSON
   * chat.completion, an SSE stream of chat.completion.chunk events (ending with a usage chunk and [DONE]), or an
   * error status with OpenAI's error JSON. Rejects only when the upstream could not be reached (or aborted).
   */
  chat(call: ChatDispatch): Promise<Response | UpstreamReply>
}

export interface Credentials {
  apiKey: string | undefined
  /** Base URL without a trailing slash. */
  baseUrl: string
}

/** `<ID>_API_KEY` and `<ID>_BASE_URL`, the id upper-cased with dashes as underscores; the base URL defaults. */
export function credentialsFor(id: string, env: Record<string, string | undefined>, defaultBaseUrl: string): Credentials {
  const name = id.toUpperCase().replace(/-/g, '_')
  return { apiKey: env[`${name}_API_KEY`] || undefined, baseUrl: (env[`${name}_BASE_URL`] || defaultBaseUrl).replace(/\/+$/, '') }
}
