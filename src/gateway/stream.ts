/**
 * @module The client side of a committed stream: pulls from the upstream only as fast as the client reads
 * (backpressure), passes bytes through the tap, and on any ending (done, upstream break, idle timeout, client
 * gone, shutdown) settles exactly once. A break after the first byte ends with one error event, never a hang.
 */
import type { Outcome } from '../billing/meter.ts'
import type { GatewayContext } from './context.ts'
import { ShuttingDown, UpstreamIdle } from './inflight.ts'
import type { RequestMeter } from './settle.ts'
import { EndedEarly, frame, type SseTap } from './sse-tap.ts'

/** The part of a stream reader the gateway uses. */
export interface ByteReader {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>
}

export interface StreamParts {
  gw: GatewayContext
  reader: ByteReader
  tap: SseTap
  first: Uint8Array[]
  upstream: AbortController
  clientSignal: AbortSignal
  meter: RequestMeter
  estimate: () => { promptTokens: number; completionTokens: number }
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

  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        for (const b of p.first) controller.enqueue(b)
      },
      async pull(controller) {
        try {
          for (;;) {
            const { done, value } = await reader.read()
            if (finished) return
            watch.lastActivity = performance.now()
            if (done) {
              for (const b of tap.end()) controller.enqueue(b)
              finish(200, 'ok', null)
              controller.close()
              return
            }
            const out = tap.push(value)
            if (out.length > 0) {
              for (const b of out) controller.enqueue(b)
              return
            }
          }
        } catch (err) {
          if (finished) return
          const reason = upstream.signal.reason
          const [outcome, code, message] = describeBreak(reason)
          const pending = err instanceof EndedEarly ? err.pending : safeFlush(tap)
          for (const b of pending) controller.enqueue(b)
          controller.enqueue(frame({ error: { message, type: 'api_error', code, param: null } }))
          finish(outcome === 'timeout' ? 504 : 502, outcome, code)
          controller.close()
          upstream.abort(new Error('stream closed'))
        }
      },
      cancel() {
        onClientGone()
      },
    },
    { highWaterMark: 0 },
  )
  return new Response(body, { status: 200, headers: SSE_HEADERS })
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
