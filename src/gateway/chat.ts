/**
 * @module POST /v1/proxy/chat/completions: admit, resolve, dispatch with fallback before the first byte,
 * then answer with the upstream's body plus the viapi block (JSON splice, or the stream tap).
 */
import { BadGateway, GatewayTimeout } from '../shared/errors.ts'
import { Cancel } from './cancel.ts'
import { authenticate } from './auth.ts'
import { mostBilled, tokenCost } from '../billing/pricing.ts'
import { readChatBody, type ChatBody } from './body.ts'
import type { GatewayContext } from './context.ts'
import { UpstreamIdle } from './inflight.ts'
import type { ChatDispatch, ProviderAdapter } from './providers/types.ts'
import { dispatchTargets, rejected, tooLarge, type Failure } from './dispatch.ts'
import type { Target } from './resolve.ts'
import { RequestMeter } from './settle.ts'
import { SseTap, StreamProtocolError } from './sse-tap.ts'
import { streamToClient, type ByteReader } from './stream.ts'
import { adapterOf, admitTargets } from './targets.ts'
import { answerUsage, asReply, InvalidUpstreamJson, UpstreamTooLarge, type UpstreamReply } from './upstream-body.ts'
import type { Admission, Guardrails } from './limits/guard.ts'
import type { KeyContext } from '../tenancy/keys.ts'

class UpstreamTimedOut extends Error {}
class AttemptFailed extends Error {}
/** Every adapter serves chat. */
const anyAdapter = () => true
export class ClientGone extends Error {
  constructor() {
    super('the client closed the connection')
  }
}

/**
 * `headers` (the request id) receives the rate-limit headers, for the response whatever its outcome; a successful
 * response is built with them (cheaper than adding them to a built one), an error is rendered with them by the caller.
 */
export async function handleChat(gw: GatewayContext, request: Request, requestId: string, headers: Record<string, string | number>): Promise<Response> {
  const startedAt = performance.now()
  const authenticated = authenticate(gw.keys, request.headers, Date.now())
  const entry = authenticated instanceof Promise ? await authenticated : authenticated
  const chat = await readChatBody(request, gw.config.bodyLimitBytes)
  const targets = admitTargets(gw, entry, chat.model)
  // A body read from its text is parsed whole, and a 400 given if it is not JSON, before any upstream reads it parsed.
  if (targets.some((t) => !adapterOf(gw, entry, t.provider)?.sendsClientText)) chat.parse()
  const admitted = gw.guard.admit(entry.ctx, worstCase(chat, targets, entry.ctx.markupBps), Date.now())
  const admission = admitted instanceof Promise ? await admitted : admitted
  Object.assign(headers, admission.headers)
  const meter = new RequestMeter(gw.meter, entry.ctx, requestId, chat.model, chat.stream, startedAt, booking(gw.guard, entry.ctx, admission))
  gw.inflight.begin()
  let handedOff = false
  const clientSignal = request.signal
  try {
    const handOff = () => (handedOff = true)
    return await dispatchTargets(gw, entry, targets, meter, clientSignal, {
      supports: anyAdapter,
      what: 'chat',
      attempt: (target, adapter) => tryTarget(gw, chat, target, adapter, meter, clientSignal, handOff, headers),
    })
  } finally {
    if (!handedOff) gw.inflight.end()
  }
}

/** The meter's booking callback, made here for the same reason as tapFor's closures: the meter lives as long as the stream. */
function booking(guard: Guardrails, ctx: KeyContext, admission: Admission): (billed: bigint) => void {
  return (billed) => guard.settle(ctx, admission, billed, Date.now())
}

/** The most the request can bill on any of its targets: every body byte a prompt token, the whole output limit. */
function worstCase(chat: ChatBody, targets: readonly Target[], markupBps: number): bigint {
  return mostBilled(targets, markupBps, (t) => tokenCost(t.model.prices, { promptTokens: chat.bytes, cachedTokens: 0, completionTokens: chat.maxTokens ?? t.model.maxOutputTokens ?? 4096 }))
}

/** One attempt's upstream body: the client's text spliced where it can be (json), the parsed body when an adapter reads it. */
class ChatCall implements ChatDispatch {
  private built: Record<string, unknown> | null = null

  constructor(
    private readonly chat: ChatBody,
    private readonly model: string,
    readonly signal: Cancel,
    readonly maxOutputTokens: number | null,
    readonly responseLimit: number,
  ) {}

  get stream(): boolean {
    return this.chat.stream
  }

  get body(): Record<string, unknown> {
    if (this.built) return this.built
    const raw = this.chat.parse()
    const body: Record<string, unknown> = { ...raw, model: this.model }
    // Always ask for usage so streams bill exactly; the tap hides the usage chunk from clients that did not ask.
    if (this.chat.stream) body.stream_options = { ...(raw.stream_options as object | undefined), include_usage: true }
    return (this.built = body)
  }

  json(): string {
    return this.chat.spliced(this.model) ?? JSON.stringify(this.body)
  }
}

/** One try at one target: a committed response, why it failed (before any byte reached the client), or null when the client left. */
async function tryTarget(
  gw: GatewayContext,
  chat: ChatBody,
  target: Target,
  adapter: ProviderAdapter,
  meter: RequestMeter,
  clientSignal: AbortSignal,
  handOff: () => void,
  headers: Record<string, string | number>,
): Promise<Response | Failure | null> {
  const upstream = new Cancel()
  const onClientAbort = () => upstream.abort(new ClientGone())
  clientSignal.addEventListener('abort', onClientAbort, { once: true })
  const timer = setTimeout(() => upstream.abort(new UpstreamTimedOut()), gw.config.upstreamTimeoutMs)
  const detach = () => {
    clearTimeout(timer)
    clientSignal.removeEventListener('abort', onClientAbort)
  }
  try {
    const call = new ChatCall(chat, target.upstreamModel, upstream, target.model.maxOutputTokens, gw.config.upstreamBodyLimitBytes)
    const res = asReply(await adapter.chat(call))
    if (!res.ok) {
      const failure = await rejected(res)
      detach()
      return failure
    }
    if (!chat.stream) {
      // Mostly the whole answer came with its head: answered then without another await (or an idle watch).
      const whole = res.textNow?.(gw.config.upstreamBodyLimitBytes) ?? null
      const response = whole !== null ? jsonAnswer(whole, meter, headers) : await completeJson(gw, res, meter, upstream, headers)
      detach()
      return response
    }
    const { tap, estimate } = tapFor(meter, chat.wantsUsage, chat.promptEstimate())
    const reader: ByteReader = res.reader()
    const first = await firstEvents(reader, tap)
    // Committed: from here the client gets bytes, so no other target may be tried.
    detach()
    handOff()
    return streamToClient({ gw, reader, tap, first, upstream, clientSignal, meter, estimate, headers })
  } catch (err) {
    detach()
    if (upstream.reason instanceof ClientGone || clientSignal.aborted) return null
    const failure = failureOf(err, upstream.reason)
    // Nothing reads this answer any more: its connection closes now, not when the upstream finishes.
    if (!upstream.aborted) upstream.abort(new AttemptFailed())
    return failure
  }
}

/**
 * The stream's tap and its fallback usage estimate. They live as long as the stream, so they are made here and not
 * in tryTarget: a closure made there would keep its whole scope alive with them (the parsed request, its messages).
 */
function tapFor(meter: RequestMeter, clientWantsUsage: boolean, promptTokens: number): { tap: SseTap; estimate: () => { promptTokens: number; completionTokens: number } } {
  const estimate = () => ({ promptTokens, completionTokens: Math.max(0, tap.events - 1) })
  const tap: SseTap = new SseTap({ clientWantsUsage, maxEventBytes: 1 << 20, settle: (usage) => meter.settle({ status: 200, outcome: 'ok', usage, estimate }) })
  return { tap, estimate }
}

function failureOf(err: unknown, reason: unknown): Failure {
  if (err instanceof UpstreamTooLarge) return tooLarge(err)
  if (reason instanceof UpstreamTimedOut || reason instanceof UpstreamIdle) return { retryable: true, sameTarget: false, upstreamFault: true, outcome: 'timeout', error: new GatewayTimeout() }
  if (err instanceof StreamProtocolError) return { retryable: true, sameTarget: true, upstreamFault: true, outcome: 'upstream_error', error: new BadGateway(`The upstream returned an invalid stream: ${err.message}.`, 'upstream_invalid_response') }
  if (err instanceof InvalidUpstreamJson) return { retryable: true, sameTarget: true, upstreamFault: true, outcome: 'upstream_error', error: new BadGateway('The upstream returned an invalid response.', 'upstream_invalid_response') }
  return { retryable: true, sameTarget: true, upstreamFault: true, outcome: 'upstream_error', error: new BadGateway('The gateway could not reach the upstream provider.', 'upstream_unreachable') }
}

/** Non-streaming, the answer still arriving: reads it under the idle watch, then as jsonAnswer. */
async function completeJson(gw: GatewayContext, res: UpstreamReply, meter: RequestMeter, upstream: Cancel, headers: Record<string, string | number>): Promise<Response> {
  const unwatch = gw.inflight.watch({ lastActivity: performance.now(), abort: (e: Error) => upstream.abort(e) })
  let text: string
  try {
    text = await res.text(gw.config.upstreamBodyLimitBytes)
  } finally {
    unwatch()
  }
  return jsonAnswer(text, meter, headers)
}

/** A whole non-streaming answer: bills its usage and splices the viapi block in without re-serialising. */
function jsonAnswer(text: string, meter: RequestMeter, headers: Record<string, string | number>): Response {
  const usage = answerUsage(text)
  const block = meter.settle({ status: 200, outcome: 'ok', usage })
  const end = text.lastIndexOf('}')
  const body = `${text.slice(0, end)},"viapi":${JSON.stringify(block)}}`
  // The request's own header object, completed: nothing else reads it once the answer is built.
  headers['content-type'] = 'application/json'
  return new Response(body, { status: 200, headers: headers as Record<string, string> })
}

/** Reads until the tap yields the first client bytes; garbage, an early end or a reset here lets the next target try. */
async function firstEvents(reader: ByteReader, tap: SseTap): Promise<Uint8Array[]> {
  for (;;) {
    const { done, value } = await reader.read()
    if (done) {
      tap.end()
      throw new StreamProtocolError('upstream closed the stream before any event')
    }
    const out = tap.push(value)
    if (out.length > 0) return out
  }
}
