import { describe, expect, test } from 'bun:test'
import { EndedEarly, SseTap, StreamProtocolError, type UpstreamUsage } from './sse-tap.ts'

const enc = new TextEncoder()
const dec = new TextDecoder()

function openAiStream(words: string[], opts: { usage?: boolean; spaced?: boolean } = {}): string {
  const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini' }
  const u = opts.usage ? { usage: null } : {}
  const ev = (o: object) => `data: ${opts.spaced ? JSON.stringify(o, null, 1).replace(/\n/g, '') : JSON.stringify(o)}\n\n`
  let s = ev({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], ...u })
  for (const w of words) s += ev({ ...base, choices: [{ index: 0, delta: { content: w }, finish_reason: null }], ...u })
  s += ev({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], ...u })
  if (opts.usage) s += ev({ ...base, choices: [], usage: { prompt_tokens: 12, completion_tokens: words.length, total_tokens: 12 + words.length } })
  return s + 'data: [DONE]\n\n'
}

function run(input: string, cuts: number[], clientWantsUsage: boolean) {
  const settled: (UpstreamUsage | null)[] = []
  const tap = new SseTap({ clientWantsUsage, maxEventBytes: 1 << 20, settle: (u) => (settled.push(u), { billed_usd: 1 }) })
  const bytes = enc.encode(input)
  let out = ''
  let prev = 0
  for (const c of [...cuts, bytes.length]) {
    for (const b of tap.push(bytes.subarray(prev, c))) out += dec.decode(b)
    prev = c
  }
  for (const b of tap.end()) out += dec.decode(b)
  return { out, settled, tap }
}

function events(out: string): unknown[] {
  return out
    .split('\n\n')
    .filter(Boolean)
    .map((e) => e.slice(6))
    .map((d) => (d === '[DONE]' ? d : JSON.parse(d)))
}

type Chunk = { choices: { delta: { content?: string }; finish_reason: string | null }[]; usage?: unknown; viapi?: unknown }

describe('SseTap', () => {
  const words = ['Hello', ' there', ',', ' friend', '!']
  const input = openAiStream(words, { usage: true })
  const cutSets = [[], [1], [7, 8, 9], [input.length - 3], Array.from({ length: 40 }, (_, i) => i * 13)]

  test.each(cutSets.map((c) => [c.length, c]))('client without usage, %p cuts: viapi on the finish chunk, no empty choices', (_n, cuts) => {
    const { out, settled } = run(input, cuts, false)
    const evs = events(out)
    expect(evs.at(-1)).toBe('[DONE]')
    const chunks = evs.slice(0, -1) as Chunk[]
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true)
    expect(chunks.map((c) => c.choices[0]!.delta.content ?? '').join('')).toBe(words.join(''))
    const last = chunks.at(-1)!
    expect(last.choices[0]!.finish_reason).toBe('stop')
    expect(last.viapi).toEqual({ billed_usd: 1 })
    expect(settled).toEqual([{ prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 }])
  })

  test.each(cutSets.map((c) => [c.length, c]))('client with usage, %p cuts: viapi on the usage chunk, bytes otherwise unchanged', (_n, cuts) => {
    const { out } = run(input, cuts, true)
    const evs = events(out)
    const usageChunk = evs.at(-2) as Chunk
    expect(usageChunk.choices).toEqual([])
    expect(usageChunk.viapi).toEqual({ billed_usd: 1 })
    // everything before the usage chunk passes through byte for byte
    const upToUsage = input.slice(0, input.lastIndexOf('data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],'))
    expect(out.startsWith(upToUsage)).toBe(true)
  })

  test('JSON with spaces after colons is recognised', () => {
    const { settled, out } = run(openAiStream(words, { usage: true, spaced: true }), [5, 50], false)
    expect(settled[0]).toMatchObject({ completion_tokens: 5 })
    expect((events(out).at(-2) as Chunk).viapi).toEqual({ billed_usd: 1 })
  })

  test('CRLF framing is normalised', () => {
    const { settled } = run(openAiStream(words, { usage: true }).replace(/\n/g, '\r\n'), [3, 100], false)
    expect(settled).toHaveLength(1)
  })

  test('no usage from upstream: settles once with null at [DONE], block still placed', () => {
    const { out, settled, tap } = run(openAiStream(words), [], false)
    expect(settled).toEqual([null])
    expect(tap.events).toBe(7)
    expect((events(out).at(-2) as Chunk).viapi).toEqual({ billed_usd: 1 })
  })

  test('no usage from upstream, client asked: a usage chunk with the block is added', () => {
    const { out, settled } = run(openAiStream(words), [], true)
    expect(settled).toEqual([null])
    expect((events(out).at(-2) as Chunk).viapi).toEqual({ billed_usd: 1 })
  })

  test('stream cut before [DONE]: end() throws with the held finish chunk', () => {
    const full = openAiStream(words, { usage: true })
    const cut = full.slice(0, full.indexOf('"choices":[],'))
    const tap = new SseTap({ clientWantsUsage: false, maxEventBytes: 1 << 20, settle: () => ({ x: 1 }) })
    tap.push(enc.encode(cut))
    let err: unknown
    try {
      tap.end()
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(EndedEarly)
    const pending = (err as EndedEarly).pending.map((b) => dec.decode(b)).join('')
    expect(events(pending)).toHaveLength(1)
  })

  test('garbage is a protocol error', () => {
    const tap = new SseTap({ clientWantsUsage: false, maxEventBytes: 1 << 20, settle: () => ({}) })
    expect(() => tap.push(enc.encode('<html>oops</html>\n\n'))).toThrow(StreamProtocolError)
  })

  test('an event larger than the limit is a protocol error', () => {
    const tap = new SseTap({ clientWantsUsage: false, maxEventBytes: 100, settle: () => ({}) })
    expect(() => tap.push(enc.encode('data: ' + 'x'.repeat(200)))).toThrow(StreamProtocolError)
  })

  test('invalid JSON in a usage event is a protocol error (the one event the tap must read)', () => {
    const tap = new SseTap({ clientWantsUsage: false, maxEventBytes: 1 << 20, settle: () => ({}) })
    expect(() => tap.push(enc.encode('data: {"usage":{"prompt_tokens":1}, nope\n\n'))).toThrow(StreamProtocolError)
  })

  test('events that pass untouched are counted for the estimate, also when the usage that spared counting them breaks', () => {
    const words = ['a', 'b', 'c', 'd']
    const whole = enc.encode(openAiStream(words))
    const counted = new SseTap({ clientWantsUsage: false, maxEventBytes: 1 << 20, settle: () => ({}) })
    counted.push(whole)
    // role chunk + 4 words + finish: every data event but [DONE]
    expect(counted.events).toBe(words.length + 2)
    const broken = enc.encode(openAiStream(words).replace('data: [DONE]', 'data: {"choices":[],"usage":{"prompt_tokens":1} nope}\n\ndata: [DONE]'))
    const tap = new SseTap({ clientWantsUsage: false, maxEventBytes: 1 << 20, settle: () => ({}) })
    expect(() => tap.push(broken)).toThrow(StreamProtocolError)
    // the same six, and the broken event itself
    expect(tap.events).toBe(words.length + 3)
  })
})
