/** @module The narrow interface every upstream provider implements. */

export type ProviderId = 'openai' | 'mock'

/** One chat completion to send upstream, already in OpenAI's request shape. */
export interface ChatDispatch {
  /** The client's body with `model` set to the upstream model id and stream usage requested. */
  body: Record<string, unknown>
  stream: boolean
  /** Aborts the upstream request: client gone, timeout or shutdown. */
  signal: AbortSignal
}

export interface ProviderAdapter {
  readonly id: ProviderId
  /** False when the provider lacks credentials; the router then skips it with a clear error. */
  readonly configured: boolean
  readonly capabilities: { readonly chat: boolean; readonly streaming: boolean }
  /**
   * Sends the request and resolves once upstream headers arrive, with an OpenAI-shaped response: a JSON
   * chat.completion, an SSE stream of chat.completion.chunk events, or an error status with OpenAI's error JSON.
   * Rejects only when the upstream could not be reached (or the signal aborted).
   */
  chat(call: ChatDispatch): Promise<Response>
}
