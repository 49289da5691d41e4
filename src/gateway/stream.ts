/**
 * @module The client side of a committed stream: pulls from the upstream only as fast as the client reads
 * (backpressure), passes bytes through the tap, and on any ending (done, upstream break, idle timeout, client
 * gone, shutdown) settles exactly once. A break after the first byte ends with one error event, never a hang.
 */
import type { Outcome } from '../billing/meter.ts'
import type { Cancel } from './cancel.ts'
import type { GatewayContext } from './context.ts'
import { ShuttingDown, UpstreamIdle } from './inflight.ts'
import type { RequestMeter } from './settle.ts'
import { EndedEarly, frame, type SseTap } from './sse-tap.ts'

export type ReadResult = { done: true; value?: undefined } | { done: false; value: Uint8Array }

/** The part of a stream reader the gateway uses. */
export interface ByteReader {
  read(): Promise<ReadResult>
  /** What is already there, without waiting (null: nothing yet); the pooled client's replies have it. */
  tryRead?(): ReadResult | null
}

export interface StreamParts {
  gw: GatewayContext
  reader: ByteReader
  tap: SseTap
  first: Uint8Array[]
  upstream: Cancel
  clientSignal: AbortSignal
  meter: RequestMeter
  estimate: () => { promptTokens: number; completionTokens: number }
  /** The request id and rate-limit headers. */
  headers: Record<string, string | number>
}

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }

export function streamToClient(p: StreamParts): Response {
  const { gw, reader, tap, upstream, meter } = p
  let finished = false
  const watch = { lastActivity: performance.now(), abort: (e: Error) => upstream.abort(e) }
  const unwatch = gw.inflight.watch(watch)

  const finish = (status: number, outcome: Outcome, errorCode: string | null) => {
    if (finished) return
    finished = true
    unwatch()
    p.clientSignal.removeEventListener('abort', onClientGone)
    meter.settle({ status, outcome, errorCode, usage: tap.usage, estimate: p.estimate })
    gw.inflight.end()
  }
  const onClientGone = () => {
    upstream.abort(new Error('client closed the connection'))
    finish(499, 'client_abort', 'client_closed')
  }
  p.clientSignal.addEventListener('abort', onClientGone, { once: true })

  // A direct stream: writes go straight to the response buffer (no per-chunk queue or promise hop) and Bun sends
  // them when the tick ends, so a burst of events and the stream's end leave in one send. A pending write
  // means the client is slow: wait for it before reading more (backpressure).
  const source: Bun.DirectUnderlyingSource<Uint8Array> = {
    type: 'direct',
    async pull(controller) {
      // A promise only when a write is pending: most chunks go out with no await at all.
      const send = (chunks: Uint8Array[]): Promise<number> | null => {
        let pending: Promise<number> | null = null
        for (const c of chunks) {
          const w = controller.write(c)
          if (typeof w !== 'number') pending = w
        }
        return pending
      }
      try {
        const sent = send(p.first)
        if (sent) await sent
        for (;;) {
          // Without waiting when the bytes (or the end) are already there: a stream whose last event and end came
          // together then closes in the same tick as that write, and Bun sends both at once.
          const { done, value } = reader.tryRead?.() ?? (await reader.read())
          if (finished) return
          watch.lastActivity = performance.now()
          if (done) {
            const rest = tap.end()
            finish(200, 'ok', null)
            const last = send(rest)
            if (last) await last
            controller.close()
            return
          }
          const more = send(tap.push(value))
          if (more) await more
        }
      } catch (err) {
        if (finished) return
        const reason = upstream.reason
        const [outcome, code, message] = describeBreak(reason)
        const pending = err instanceof EndedEarly ? err.pending : safeFlush(tap)
        finish(outcome === 'timeout' ? 504 : 502, outcome, code)
        upstream.abort(new Error('stream closed'))
        try {
          await send([...pending, frame({ error: { message, type: 'api_error', code, param: null } })])
        } catch {
          // the client is gone too: nothing left to tell it
        }
        controller.close()
      }
    },
    cancel() {
      onClientGone()
    },
  }
  // DOM typings (pulled in by dependencies) shadow Bun's direct-source overload.
  return new Response(new ReadableStream(source as unknown as UnderlyingDefaultSource<Uint8Array>), { status: 200, headers: Object.assign(p.headers, SSE_HEADERS) as Record<string, string> })
}

function describeBreak(reason: unknown): [Outcome, string, string] {
  if (reason instanceof UpstreamIdle) return ['timeout', 'upstream_timeout', `The upstream stream stalled: ${reason.message}.`]
  if (reason instanceof ShuttingDown) return ['shutdown', 'gateway_shutdown', 'The gateway is shutting down; the stream was cut short.']
  return ['upstream_error', 'upstream_stream_error', 'The upstream stream broke off before it finished.']
}

function safeFlush(tap: SseTap): Uint8Array[] {
  try {
    return tap.flushHeld()
  } catch {
    return []
  }
}
