/** Microbenchmarks of the pure hot-path pieces (`bun bench/micro.ts`): a regression shows here without the rig. */
import { bench, group, run } from 'mitata'
import { applyMarkup, tokenCost } from '../src/billing/pricing.ts'
import { scanTopLevel, spliceChatBody } from '../src/gateway/body-splice.ts'
import { KeyCache } from '../src/gateway/key-cache.ts'
import { RateLimiter, rateSpecs } from '../src/gateway/limits/rate.ts'
import { SseTap } from '../src/gateway/sse-tap.ts'
import { answerUsage } from '../src/gateway/upstream-body.ts'
import { tuneAllocator } from '../src/shared/allocator.ts'
import { hashSecret } from '../src/shared/secrets.ts'
import type { KeyContext } from '../src/tenancy/keys.ts'

// As `viapi serve` runs (src/shared/allocator.ts).
tuneAllocator()

const key = 'vi_live_' + 'a1B2c3D4'.repeat(5)
const ctx: KeyContext = {
  keyId: 'key_1', keyPrefix: key.slice(0, 12), clientId: 'cli_1', firmId: 'firm_1', status: 'active', expiresAt: null, allowedModels: null,
  clientAllowedModels: null, markupBps: 3000, keyRpm: null, keyRpd: null, clientRpm: 10_000_000, clientRpd: 1_000_000_000, keyCapNano: null,
  keyEnforcement: 'hard', clientLimitNano: null, clientEnforcement: 'hard', alertThresholds: [], billingMode: 'postpaid', timezone: 'UTC',
}
const cache = new KeyCache(async () => ({ ctx, routes: new Map() }), { ttlMs: 3_600_000 })
await cache.load(hashSecret(key))
const limiter = new RateLimiter({ leasing: () => false, share: () => 1, nextSync: () => Promise.resolve() })
const specs = rateSpecs(ctx)
const prices = { inputPerMtok: 150_000_000n, cachedInputPerMtok: 75_000_000n, outputPerMtok: 600_000_000n }

const enc = new TextEncoder()
const chunk = (o: object) => `data: ${JSON.stringify(o)}\n\n`
const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini' }
const stream = [
  chunk({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], usage: null }),
  ...Array.from({ length: 20 }, (_, i) => chunk({ ...base, choices: [{ index: 0, delta: { content: ` token${i}` }, finish_reason: null }], usage: null })),
  chunk({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null }),
  chunk({ ...base, choices: [], usage: { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 } }),
  'data: [DONE]\n\n',
].map((e) => enc.encode(e))

group('auth', () => {
  bench('hash key + cache lookup', () => cache.peek(hashSecret(key)))
})
group('limits', () => {
  bench('rate buckets (RPM + RPD) take', () => limiter.admit(specs, Date.now()))
})
group('pricing', () => {
  bench('token cost + markup', () => applyMarkup(tokenCost(prices, { promptTokens: 1234, cachedTokens: 200, completionTokens: 567 }), 3000))
})
group('stream tap', () => {
  bench('24-event stream, one chunk per event', () => {
    const tap = new SseTap({ clientWantsUsage: false, maxEventBytes: 1 << 20, settle: () => ({ billed_usd: 1 }) })
    for (const c of stream) tap.push(c)
    tap.end()
  })
  // As the bench's upstream sends it, and as a short answer mostly arrives: every event in one read.
  const whole = Buffer.concat(stream)
  bench('24-event stream, one read', () => {
    const tap = new SseTap({ clientWantsUsage: false, maxEventBytes: 1 << 20, settle: () => ({ billed_usd: 1 }) })
    tap.push(whole.subarray(0))
    tap.end()
  })
})
// A long conversation (eight 4 KB turns, text with quotes and newlines), as the upstream's body is made from it.
const turn = 'The quick brown fox jumps over the lazy dog, and then considers the nature of "quoted" text.\n'.repeat(44)
const chatText = JSON.stringify({ messages: Array.from({ length: 8 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: turn })), model: 'default', stream: true })
const chatBody = JSON.parse(chatText) as Record<string, unknown>
group('chat body, 32 KB prompt', () => {
  bench('top-level values read from the text (walk)', () => scanTopLevel(chatText))
  bench('parsed whole (what an upstream sent the parsed body needs)', () => JSON.parse(chatText))
  bench('upstream text: walk and splice', () => spliceChatBody(chatText, scanTopLevel(chatText), 'gpt-4o-mini', true))
  bench('upstream text: parsed body serialised (the fallback)', () => JSON.stringify({ ...chatBody, model: 'gpt-4o-mini', stream_options: { include_usage: true } }))
})

// A completion's usage: a short answer is parsed whole, a long one walked (see upstream-body.ts).
const answer = (content: string) => JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { prompt_tokens: 12, completion_tokens: 18, total_tokens: 30 } })
const shortAnswer = answer('Hello! How can I help you today?')
const longAnswer = answer('Hello! "How" can I help you today?\n'.repeat(100))
group('answer usage', () => {
  bench('300-byte answer (parsed)', () => answerUsage(shortAnswer))
  bench('3.8 KB answer (walked)', () => answerUsage(longAnswer))
  bench('3.8 KB answer parsed whole, for comparison', () => (JSON.parse(longAnswer) as { usage: unknown }).usage)
})

await run()
