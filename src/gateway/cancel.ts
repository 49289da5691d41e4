/**
 * @module An upstream attempt's cancellation without AbortController: Bun makes a controller and its signal as
 * native objects, ~1.3 µs a pair, and every attempt of every proxied request needed one. Cancel gives the same
 * (aborted, reason, abort listeners) in plain JavaScript; fetch, which needs a real AbortSignal, gets one made on
 * first use that follows it.
 */

/** What an upstream request needs of its abort signal: an AbortSignal has it, and so has a Cancel. */
export interface CancelSignal {
  readonly aborted: boolean
  readonly reason: unknown
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
  removeEventListener(type: 'abort', listener: () => void): void
}

export class Cancel implements CancelSignal {
  aborted = false
  reason: unknown = undefined
  // An attempt has one or two listeners (the pooled client's exchange, a stream's end): an array does.
  private listeners: (() => void)[] | null = null
  private native: AbortController | null = null

  /** Aborts once: the reason stays the first one, each listener is called once. */
  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    const listeners = this.listeners
    this.listeners = null
    if (listeners) for (const l of listeners) l()
    this.native?.abort(reason)
  }

  /** Listeners are called once, as with `{ once: true }`; none is added once aborted (check `aborted` first). */
  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.aborted) (this.listeners ??= []).push(listener)
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const i = this.listeners?.indexOf(listener) ?? -1
    if (i !== -1) this.listeners!.splice(i, 1)
  }

  /** An AbortSignal that follows this Cancel, for APIs that need a real one (fetch); made on first use. */
  abortSignal(): AbortSignal {
    if (!this.native) {
      this.native = new AbortController()
      if (this.aborted) this.native.abort(this.reason)
    }
    return this.native.signal
  }
}

/** `signal` as a real AbortSignal. */
export const abortSignalOf = (signal: CancelSignal): AbortSignal => (signal instanceof Cancel ? signal.abortSignal() : (signal as AbortSignal))
