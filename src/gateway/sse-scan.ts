/**
 * @module The stream tap's byte scanning (sse-tap.ts): event boundaries, the few patterns that mark an event worth
 * parsing, and cheap checks of an event's first bytes — native searches over the upstream's own bytes, no decoding.
 */

export const LFLF = Buffer.from('\n\n')
const FINISH = [Buffer.from('"finish_reason":"'), Buffer.from('"finish_reason": "')]
const USAGE = [Buffer.from('"usage":{'), Buffer.from('"usage": {')]
const DONE = Buffer.from('[DONE]')

/** What a pattern hit marks; a hit is kept as `offset * 4 + kind`, so sorting the numbers sorts by offset. */
export const Hit = { Finish: 1, Usage: 2, Done: 3 } as const
type HitKind = (typeof Hit)[keyof typeof Hit]
/** Each kind's patterns: as compact JSON writes it, then as spaced JSON does (searched only when the first is absent). */
const HIT_PATTERNS: [Buffer[], HitKind][] = [[FINISH, Hit.Finish], [USAGE, Hit.Usage], [[DONE], Hit.Done]]

/** SSE lines start with a field name or a colon (comment); anything else is not an event stream. */
export function startsLikeSse(buf: Buffer, at: number): boolean {
  const c = buf[at]
  // d(ata) e(vent) i(d) r(etry) :(comment), or a blank line
  return c === 100 || c === 58 || c === 101 || c === 105 || c === 114 || c === 10
}

/** Every byte pattern that can mark an event worth parsing, as `offset * 4 + kind`, in offset order. */
export function hitPositions(buf: Buffer): number[] {
  const hits: number[] = []
  for (const [patterns, kind] of HIT_PATTERNS) {
    // An upstream serialises all its chunks alike: once one form of a kind is in this chunk, the other is not looked for.
    for (const p of patterns) {
      let at = buf.indexOf(p)
      if (at === -1) continue
      while (at !== -1) {
        hits.push(at * 4 + kind)
        at = buf.indexOf(p, at + p.length)
      }
      break
    }
  }
  return hits.length > 1 ? hits.sort(byNumber) : hits
}

const byNumber = (a: number, b: number) => a - b

/** `data:` at the event's start (every known upstream's events): no search needed to know it has data. */
export const startsWithData = (ev: Buffer) => ev[0] === 100 && ev[1] === 97 && ev[2] === 116 && ev[3] === 97 && ev[4] === 58

/** Events (blank-line ends) in buf[from, to). */
export function countEvents(buf: Buffer, from = 0, to = buf.length): number {
  let n = 0
  let pos = buf.indexOf(LFLF, from)
  while (pos !== -1 && pos < to) {
    n++
    pos = buf.indexOf(LFLF, pos + 2)
  }
  return n
}

/** Where a hit is, and which kind it is. */
export const hitOffset = (hit: number) => hit >>> 2
export const hitKind = (hit: number) => hit & 3
export const isUsageHit = (hit: number) => hitKind(hit) === Hit.Usage

/** One `data:` line and the blank line ending the event: its first newline is its second-last byte. */
export const isSingleDataLine = (ev: Buffer) => startsWithData(ev) && ev.indexOf(10) === ev.length - 2
