/**
 * @module The non-streaming JSON endpoints (embeddings, images): the targets are tried as chat tries them
 * (dispatch.ts), and an accepted answer is billed, settled once and given the viapi block spliced into its body.
 */
import { BadGateway, GatewayTimeout } from '../shared/errors.ts'
import type { GatewayContext } from './context.ts'
import { dispatchTargets, rejected, tooLarge, type Failure } from './dispatch.ts'
import type { KeyEntry } from './key-cache.ts'
import type { ProviderAdapter } from './providers/types.ts'
import type { Target } from './resolve.ts'
import type { RequestMeter, Settlement } from './settle.ts'
import { asReply, UpstreamTooLarge, type UpstreamReply } from './upstream-body.ts'

export interface JsonCall {
  /** What the endpoint serves, for the error when a provider cannot ("embeddings", "image generation"). */
  what: string
  supports(adapter: ProviderAdapter): boolean
  send(adapter: ProviderAdapter, target: Target, signal: AbortSignal, responseLimit: number): Promise<Response | UpstreamReply>
  /** The bill for an accepted answer; throws when the answer is not what the endpoint returns. */
  bill(answer: Record<string, unknown>, target: Target): Pick<Settlement, 'usage' | 'costNano'>
}

export function forwardJson(gw: GatewayContext, entry: KeyEntry, request: Request, targets: readonly Target[], meter: RequestMeter, call: JsonCall): Promise<Response> {
  return dispatchTargets(gw, entry, targets, meter, request.signal, {
    what: call.what,
    supports: call.supports,
    attempt: (target, adapter) => once(gw, adapter, target, request.signal, meter, call),
  })
}

/** One try at one target: the answer with its viapi block, why it failed, or null when the client left. */
async function once(gw: GatewayContext, adapter: ProviderAdapter, target: Target, clientSignal: AbortSignal, meter: RequestMeter, call: JsonCall): Promise<Response | Failure | null> {
  const timeout = AbortSignal.timeout(gw.config.upstreamTimeoutMs)
  try {
    const res = asReply(await call.send(adapter, target, AbortSignal.any([timeout, clientSignal]), gw.config.upstreamBodyLimitBytes))
    if (!res.ok) return await rejected(res)
    const text = await res.text(gw.config.upstreamBodyLimitBytes)
    const bill = call.bill(JSON.parse(text) as Record<string, unknown>, target)
    const block = meter.settle({ status: 200, outcome: 'ok', ...bill })
    return new Response(`${text.slice(0, text.lastIndexOf('}'))},"viapi":${JSON.stringify(block)}}`, { headers: { 'content-type': 'application/json' } })
  } catch (err) {
    if (clientSignal.aborted) return null
    if (err instanceof UpstreamTooLarge) return tooLarge(err)
    if (timeout.aborted) return { retryable: true, sameTarget: false, upstreamFault: true, outcome: 'timeout', error: new GatewayTimeout() }
    return { retryable: true, sameTarget: true, upstreamFault: true, outcome: 'upstream_error', error: new BadGateway('The upstream returned an invalid response or could not be reached.', 'upstream_unreachable') }
  }
}
