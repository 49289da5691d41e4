/**
 * @module POST /v1/estimate: what a chat, embeddings, image or video request would cost this key's client, priced by the
 * same functions the meter bills with (its route's primary target, the firm's prices, the client's markup).
 * Informational: it neither reserves nor bills nor uses a rate token.
 */
import { applyMarkup, tokenCost } from '../billing/pricing.ts'
import { InvalidRequest, ModelNotFound } from '../shared/errors.ts'
import { nanoToCents } from '../shared/money.ts'
import { authenticate } from './auth.ts'
import { readJsonBody } from './body.ts'
import { admitTargets } from './targets.ts'
import type { GatewayContext } from './context.ts'
import { parseImageRequest, pricedImageTargets } from './images.ts'
import { resolveTargets } from './resolve.ts'
import { parseVideoRequest, videoPlan } from './video.ts'

/** Output assumed for a chat request that sets no max_tokens. */
export const DEFAULT_OUTPUT_TOKENS = 500

export interface Estimate {
  estimated_cost_cents: number
  provider: string
  model: string
  breakdown: { provider_cost_cents: number; markup_cents: number }
  assumptions: Record<string, number | string>
}

type ChatRole = 'system' | 'user' | 'assistant'

/** The text of a message's content: a string, or the text parts of an array (images are not counted). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('')
}

// The tokenizer's tables cost ~70 MiB: loaded on the first estimate, not by every gateway at start.
let tokenizer: Promise<typeof import('gpt-tokenizer')> | null = null
const loadTokenizer = () => (tokenizer ??= import('gpt-tokenizer'))

/** Past this much text, tokenizing would hold the event loop for tens of milliseconds: count ~4 characters a token. */
export const EXACT_COUNT_MAX_CHARS = 200_000

/** Prompt tokens as OpenAI counts a chat (o200k_base, with its per-message framing); approximate for huge prompts. */
export async function chatPromptTokens(messages: unknown[]): Promise<{ tokens: number; exact: boolean }> {
  const chat = messages.map((m) => {
    const o = (m ?? {}) as { role?: unknown; content?: unknown; name?: unknown }
    const role = (o.role === 'developer' ? 'system' : o.role === 'tool' ? 'assistant' : typeof o.role === 'string' ? o.role : 'user') as ChatRole
    return { role, content: textOf(o.content), ...(typeof o.name === 'string' ? { name: o.name } : {}) }
  })
  const chars = chat.reduce((n, m) => n + m.content.length, 0)
  if (chars > EXACT_COUNT_MAX_CHARS) return { tokens: Math.ceil(chars / 4) + 4 * chat.length + 3, exact: false }
  const { encodeChat } = await loadTokenizer()
  return { tokens: encodeChat(chat, 'gpt-4o').length, exact: true }
}

async function inputTokens(input: unknown): Promise<number> {
  const items = Array.isArray(input) ? input : [input]
  const chars = items.reduce<number>((n, x) => n + (typeof x === 'string' ? x.length : 0), 0)
  const { encode } = await loadTokenizer()
  const count = (x: string) => (chars > EXACT_COUNT_MAX_CHARS ? Math.ceil(x.length / 4) : encode(x).length)
  return items.reduce<number>((sum, x) => sum + (typeof x === 'string' ? count(x) : Array.isArray(x) ? x.length : 0), 0)
}

export async function handleEstimate(gw: GatewayContext, request: Request): Promise<Estimate> {
  const entry = await authenticate(gw.keys, request.headers, Date.now())
  const { body, bytes } = await readJsonBody(request, gw.config.bodyLimitBytes)
  if (typeof body.model !== 'string' || body.model === '') throw new InvalidRequest('you must provide a model parameter', 'model', 'missing_required_parameter')
  const model = body.model
  const kind = resolveTargets(model, entry.routes, gw.catalog.current)[0]?.model.kind
  if (kind !== 'chat' && kind !== 'embedding' && kind !== 'image' && kind !== 'video') throw new ModelNotFound(model)
  const targets = admitTargets(gw, entry, model, kind)
  let target = targets[0]!
  let costNano: bigint
  let assumptions: Record<string, number | string>
  if (kind === 'video') {
    const plan = videoPlan(targets, parseVideoRequest(body, false))
    target = plan.targets[0]!
    costNano = BigInt(plan.seconds) * target.model.video!.perSecondNano
    assumptions = { duration_seconds: plan.seconds }
  } else if (kind === 'image') {
    const req = parseImageRequest(body, bytes, false)
    const first = pricedImageTargets(targets, req)[0]!
    target = first.target
    costNano = BigInt(req.n) * first.unitNano
    assumptions = { images: req.n, unit_cost_cents: nanoToCents(first.unitNano) }
  } else if (kind === 'embedding') {
    const promptTokens = await inputTokens(body.input)
    costNano = tokenCost(target.model.prices, { promptTokens, cachedTokens: 0, completionTokens: 0 })
    assumptions = { prompt_tokens: promptTokens }
  } else {
    if (!Array.isArray(body.messages) || body.messages.length === 0) throw new InvalidRequest("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter')
    const { tokens: promptTokens, exact } = await chatPromptTokens(body.messages)
    const max = body.max_completion_tokens ?? body.max_tokens
    const capped = typeof max === 'number' && Number.isInteger(max) && max > 0
    const outputTokens = capped ? max : Math.min(DEFAULT_OUTPUT_TOKENS, target.model.maxOutputTokens ?? DEFAULT_OUTPUT_TOKENS)
    costNano = tokenCost(target.model.prices, { promptTokens, cachedTokens: 0, completionTokens: outputTokens })
    assumptions = { prompt_tokens: promptTokens, output_tokens: outputTokens, output_tokens_from: capped ? 'max_tokens' : 'default', ...(exact ? {} : { prompt_tokens_from: 'approximate' }) }
  }
  const charge = applyMarkup(costNano, entry.ctx.markupBps)
  return {
    estimated_cost_cents: nanoToCents(charge.billedNano),
    provider: target.provider,
    model: target.modelId,
    breakdown: { provider_cost_cents: nanoToCents(charge.costNano), markup_cents: nanoToCents(charge.markupNano) },
    assumptions,
  }
}
