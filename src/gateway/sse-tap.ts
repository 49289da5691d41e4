/**
 * @module The stream tap: passes an upstream OpenAI SSE stream through byte for byte, parsing only the events
 * that can carry usage or a finish_reason (found by a byte scan), and places the `viapi` block:
 * - client asked for usage: on the usage chunk (`choices: []`);
 * - client did not: the usage chunk is dropped and `viapi` rides on the last finish_reason chunk, held back
 *   until usage arrives, so SDK loops never meet an empty `choices`.
 */
import { countEvents, Hit, hitKind, hitOffset, hitPositions, isSingleDataLine, isUsageHit, LFLF, startsLikeSse, startsWithData } from './sse-scan.ts'

export interface UpstreamUsage {
  prompt_tokens?: number
  completion_tokens?: number
  total_tokens?: number
  prompt_tokens_details?: { cached_tokens?: number; cache_creation_tokens?: number } | null
}

export interface TapOptions {
  clientWantsUsage: boolean
  /** Called once, when usage is known (or at the end with null); returns the block to place. */
  settle: (usage: UpstreamUsage | null) => Record<string, unknown>
  /** Largest incomplete event kept while waiting for its end, bytes. */
  maxEventBytes: number
}

export class StreamProtocolError extends Error {}

const DATA = Buffer.from('data:')
const DONE_EVENT = Buffer.from('data: [DONE]\n\n')
const encoder = new TextEncoder()

interface ChunkJson {
  choices?: { finish_reason?: string | null }[]
  usage?: UpstreamUsage | null
  [k: string]: unknown
}

export class SseTap {
  private tail: Buffer | null = null
  private held: Buffer[] = []
  /** The held finish chunk that takes the block. */
  private lastFinish = -1
  private holding = false
  private settled = false
  /** Complete events passed so far; the estimate of generated tokens when no usage arrives. */
  events = 0
  sawDone = false
  usage: UpstreamUsage | null = null

  constructor(private readonly opts: TapOptions) {}

  /** Takes one upstream chunk; returns what to send to the client now. Throws StreamProtocolError on garbage. */
  push(chunk: Uint8Array): Uint8Array[] {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (this.tail) {
      buf = Buffer.concat([this.tail, buf])
      this.tail = null
    }
    if (buf.indexOf(13) !== -1) buf = Buffer.from(buf.toString('latin1').replace(/\r\n?/g, '\n'), 'latin1')
    const last = buf.lastIndexOf(LFLF)
    if (last === -1) {
      if (buf.length > this.opts.maxEventBytes) throw new StreamProtocolError('upstream event exceeds the size limit')
      this.tail = Buffer.from(buf)
      return []
    }
    const end = last + 2
    if (end < buf.length) this.tail = Buffer.from(buf.subarray(end))
    const complete = buf.subarray(0, end)
    if (!startsLikeSse(complete, 0)) throw new StreamProtocolError('upstream sent something that is not an event stream')
    const hits = hitPositions(complete)
    if (!this.holding && hits.length === 0) {
      this.events += countEvents(complete)
      return [complete]
    }
    // Only events holding a pattern hit are parsed; the runs between them pass through as single slices, found by
    // jumping from hit to hit rather than walking every event. A run's events are counted for the estimate used
    // when no usage arrives — unless this chunk brings the usage, when they are counted only if it did not.
    const out: Uint8Array[] = []
    const bringsUsage = hits.some(isUsageHit)
    let uncounted: number[] | null = null
    let pos = 0
    let h = 0
    try {
      while (pos < complete.length) {
        let start = pos
        if (!this.holding) {
          if (h === hits.length) start = complete.length
          else {
            const before = complete.lastIndexOf(LFLF, hitOffset(hits[h]!))
            start = before < pos ? pos : before + 2
          }
          if (start > pos) {
            if (bringsUsage) (uncounted ??= []).push(pos, start)
            else this.events += countEvents(complete, pos, start)
            out.push(complete.subarray(pos, start))
            if (start === complete.length) break
          }
        }
        // The event at `start`, and the kinds of hit in it, as bits.
        const next = complete.indexOf(LFLF, start)
        const stop = next === -1 ? complete.length : next + 2
        let kinds = 0
        while (h < hits.length && hitOffset(hits[h]!) < stop) kinds |= 1 << hitKind(hits[h++]!)
        this.event(complete.subarray(start, stop), kinds, out)
        pos = stop
      }
    } finally {
      if (uncounted && this.usage === null) for (let i = 0; i < uncounted.length; i += 2) this.events += countEvents(complete, uncounted[i]!, uncounted[i + 1]!)
    }
    return out
  }

  /** The upstream ended cleanly; returns what is still held. Throws StreamProtocolError if it ended mid-stream. */
  end(): Uint8Array[] {
    const out: Uint8Array[] = []
    if (this.tail && this.tail.toString().trim() !== '') {
      this.tail = null
      this.release(out)
      throw new EndedEarly(out)
    }
    if (!this.sawDone) {
      this.release(out)
      throw new EndedEarly(out)
    }
    return out
  }

  /** Everything held back, with the block placed, for when the stream must close now (error or cut off). */
  flushHeld(): Uint8Array[] {
    const out: Uint8Array[] = []
    this.release(out)
    return out
  }

  /** One event worth a look: `kinds` has bit 1 << Hit set for each kind of pattern found in it. */
  private event(ev: Buffer, kinds: number, out: Uint8Array[]): void {
    if (!startsLikeSse(ev, 0)) throw new StreamProtocolError('upstream sent something that is not an event stream')
    if (!startsWithData(ev) && ev.indexOf(DATA) === -1) {
      this.pass(ev, out)
      return
    }
    if (kinds & (1 << Hit.Done) && (ev.equals(DONE_EVENT) || dataOf(ev.toString()) === '[DONE]')) {
      this.sawDone = true
      this.release(out)
      // The client asked for usage but the upstream sent none: still give it the block, on an empty-choices chunk.
      if (this.opts.clientWantsUsage && !this.settled) out.push(frame({ object: 'chat.completion.chunk', choices: [], usage: null, viapi: this.settleOnce(null) }))
      out.push(ev)
      return
    }
    this.events++
    // The patterns are quoted keys, which cannot occur unescaped inside a JSON string: a hit is the real field.
    const finishes = (kinds & (1 << Hit.Finish)) !== 0
    if (kinds & (1 << Hit.Usage)) {
      const json = parseData(ev)
      const usage = json.usage && typeof json.usage === 'object' ? json.usage : null
      if (usage) {
        this.usage = usage
        const block = this.settleOnce(usage)
        if (this.opts.clientWantsUsage || finishes) {
          // Usage wanted, or on the finish chunk itself (some compatible upstreams): place the block there.
          this.release(out)
          pushWithBlock(out, ev, block)
        } else {
          this.release(out, block)
        }
        return
      }
    }
    if (finishes && !this.opts.clientWantsUsage) {
      this.holding = true
      this.held.push(Buffer.from(ev))
      this.lastFinish = this.held.length - 1
      return
    }
    this.pass(ev, out)
  }

  private pass(ev: Buffer, out: Uint8Array[]): void {
    if (this.holding) this.held.push(Buffer.from(ev))
    else out.push(ev)
  }

  private settleOnce(usage: UpstreamUsage | null): Record<string, unknown> | null {
    if (this.settled) return null
    this.settled = true
    return this.opts.settle(usage)
  }

  /** Emits held events; the block goes on the last finish chunk (settling without usage if none came). */
  private release(out: Uint8Array[], block?: Record<string, unknown> | null): void {
    if (!this.holding) return
    this.holding = false
    let placed = block ?? null
    if (placed === null && !this.settled) placed = this.settleOnce(null)
    for (let i = 0; i < this.held.length; i++) {
      if (i === this.lastFinish && placed) pushWithBlock(out, this.held[i]!, placed)
      else out.push(this.held[i]!)
    }
    this.held = []
    this.lastFinish = -1
  }
}

/** Thrown by end() when the upstream closed without finishing; carries what was held, to send before the error. */
export class EndedEarly extends StreamProtocolError {
  constructor(readonly pending: Uint8Array[]) {
    super('upstream stream ended before it finished')
  }
}

/** The event's data (multi-line data joined by newlines), or null when it has none. */
function dataOf(text: string): string | null {
  let data: string | null = null
  for (const line of text.split('\n')) {
    if (!line.startsWith('data:')) continue
    const v = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5)
    data = data === null ? v : `${data}\n${v}`
  }
  return data
}

/** The data of an event that is one `data:` line (every known upstream's), without splitting lines; else null. */
function singleLineData(ev: Buffer): string | null {
  if (!isSingleDataLine(ev)) return null
  return ev.toString('utf8', ev[5] === 32 ? 6 : 5, ev.length - 2)
}

function parseData(ev: Buffer): ChunkJson {
  const data = singleLineData(ev) ?? dataOf(ev.toString())
  try {
    const json = JSON.parse(data ?? '') as unknown
    if (json && typeof json === 'object' && !Array.isArray(json)) return json as ChunkJson
  } catch {
    // reported below
  }
  throw new StreamProtocolError('upstream sent an event that is not valid JSON')
}

const isSpace = (c: number | undefined) => c === 10 || c === 32 || c === 9

/**
 * The event with `"viapi": block` added to its JSON, onto `out`. An event of one data line holding a non-empty object (every
 * known upstream) gets it spliced in before the closing brace, without re-serialising; anything else is re-framed.
 */
function pushWithBlock(out: Uint8Array[], ev: Buffer, block: unknown): void {
  const end = ev.lastIndexOf(125)
  let after = end + 1
  while (end !== -1 && after < ev.length && isSpace(ev[after])) after++
  let before = end - 1
  while (before > 0 && isSpace(ev[before])) before--
  if (end === -1 || after !== ev.length || ev[before] === 123 || (!isSingleDataLine(ev) && ev.indexOf(DATA) !== ev.lastIndexOf(DATA))) {
    out.push(frame({ ...parseData(ev), viapi: block }))
    return
  }
  // Three pieces, not one copy: the stream writes them one after another into the same send.
  out.push(ev.subarray(0, end), encoder.encode(`,"viapi":${JSON.stringify(block)}`), ev.subarray(end))
}

export function frame(json: unknown): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify(json)}\n\n`)
}
