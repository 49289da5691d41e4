/**
 * @module The client's chat body read where it sits: one walk over the text finds the top-level values the gateway
 * reads (model, messages, stream, stream_options, the output limits), so a body bound for an OpenAI-compatible
 * upstream need not be parsed whole; and the upstream's body is the client's own text with the `model` value swapped
 * (and, for a stream, usage asked for) instead of a re-serialisation. For a 32 KB prompt `JSON.parse` costs ~18 µs
 * and `JSON.stringify` of the result ~22, where the walk, from string to string with native searches that hop only
 * over escaped quotes inside them, costs ~7 (~52 µs for 256 KB with a quoted phrase every hundred characters).
 * The same walk reads a long completion's `usage` (upstream-body.ts).
 */

/** The top-level keys read from the text; each has a value span in TopLevel.spans. */
export const enum Key {
  Model,
  Messages,
  Stream,
  StreamOptions,
  MaxTokens,
  MaxCompletionTokens,
}

/** What the walk found: each Key's value text at spans[2k] (from) and spans[2k + 1] (to, exclusive), -1 when absent. */
export interface TopLevel {
  /**
   * One object as far as brackets and strings go: it opens with `{`, its strings close, its brackets pair up, and
   * nothing but space follows. Not a full validation (a stray comma passes): JSON.parse, or the upstream, judges that.
   */
  whole: boolean
  /** A key spelled with escapes (it could be `model` to a parser), or the first key (`model`) given twice: leave it to the parser. */
  unsafe: boolean
  spans: number[]
}

const QUOTE = 34
const BACKSLASH = 92
const COLON = 58
const COMMA = 44

/**
 * The index of the quote that closes the string opened at `open` (a native search per quote inside it); the text's
 * length when none does.
 */
function closingQuote(text: string, open: number): number {
  let q = text.indexOf('"', open + 1)
  for (;;) {
    if (q === -1) return text.length
    let slashes = 0
    while (text.charCodeAt(q - 1 - slashes) === BACKSLASH) slashes++
    if (slashes % 2 === 0) return q
    q = text.indexOf('"', q + 1)
  }
}

export function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9
}

/** Which of the keys a walk reads the key text between `from` and `to` names (its slot), or -1. */
export type KeyAt = (text: string, from: number, to: number) => number

/** A KeyAt for `names`, each name's slot its index: compared in place, by length first, without slicing. */
export function keysNamed(names: readonly string[]): KeyAt {
  const byLength: number[][] = []
  names.forEach((n, slot) => (byLength[n.length] ??= []).push(slot))
  return (text, from, to) => {
    const slots = byLength[to - from]
    if (slots) for (const slot of slots) if (text.startsWith(names[slot]!, from)) return slot
    return -1
  }
}

// In Key's order.
const chatKeyAt = keysNamed(['model', 'messages', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens'])

/**
 * Walks JSON object text for its top-level values (see TopLevel), those of the chat request's keys unless `keyAt`
 * names others (at most six); ends on any text, JSON or not.
 */
export function scanTopLevel(text: string, keyAt: KeyAt = chatKeyAt): TopLevel {
  // A plain array: a typed one's native backing store costs more to make than twelve numbers do.
  const spans = [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1]
  const out: TopLevel = { whole: false, unsafe: false, spans }
  let depth = 0
  let opened = false
  // The closing bracket each open one expects: text whose brackets cross is not one a parser reads as we do.
  const closers: number[] = []
  // The tracked key whose top-level value is being read (its span ends at the next comma or closing brace), or -1.
  let reading = -1
  let pos = 0
  for (;;) {
    const open = text.indexOf('"', pos)
    const upTo = open === -1 ? text.length : open
    // Between strings there are only brackets, commas, colons, numbers, literals and spaces.
    for (let i = pos; i < upTo; i++) {
      const c = text.charCodeAt(i)
      if (c === 123 || c === 91) {
        if (depth === 0 && (opened || c !== 123)) return out
        opened = true
        closers.push(c + 2)
        depth++
      } else if (c === 125 || c === 93) {
        if (closers.pop() !== c) return out
        if (depth === 1 && reading !== -1) reading = endValue(text, spans, reading, i)
        depth--
      } else if (depth === 1 && c === COMMA) {
        if (reading !== -1) reading = endValue(text, spans, reading, i)
      } else if (depth === 0 && !isSpace(c)) {
        return out
      }
    }
    if (open === -1) {
      out.whole = opened && depth === 0
      return out
    }
    if (depth === 0) return out
    const close = closingQuote(text, open)
    if (close === text.length) return out
    pos = close + 1
    if (depth !== 1 || reading !== -1) continue
    let after = pos
    while (isSpace(text.charCodeAt(after))) after++
    // A top-level string followed by a colon is a key; values are followed by a comma or the closing brace.
    if (text.charCodeAt(after) !== COLON) continue
    const key = keyAt(text, open + 1, close)
    // A key spelled with escapes could be any of these to a parser.
    for (let i = open + 1; i < close; i++) if (text.charCodeAt(i) === BACKSLASH) out.unsafe = true
    if (key === -1) continue
    if (key === 0 && spans[0] !== -1) out.unsafe = true
    let value = after + 1
    while (isSpace(text.charCodeAt(value))) value++
    spans[key * 2] = value
    reading = key
    pos = value
  }
}

/** Closes the span of `key`'s value at `end` (trailing space trimmed); returns -1, for `reading`. */
function endValue(text: string, spans: number[], key: number, end: number): number {
  while (end > 0 && isSpace(text.charCodeAt(end - 1))) end--
  spans[key * 2 + 1] = end
  return -1
}

/** A span's text, or null when absent. */
export function valueText(text: string, top: TopLevel, key: Key): string | null {
  const from = top.spans[key * 2]!
  return from === -1 ? null : text.slice(from, top.spans[key * 2 + 1])
}

/** Whether `key`'s value is exactly one JSON string. */
function isString(text: string, top: TopLevel, key: Key): boolean {
  const from = top.spans[key * 2]!
  return from !== -1 && text.charCodeAt(from) === QUOTE && closingQuote(text, from) === top.spans[key * 2 + 1]! - 1
}

/** The top-level `model` when it is a JSON string without escapes; else null. */
export function plainModel(text: string, top: TopLevel): string | null {
  if (!isString(text, top, Key.Model)) return null
  const model = text.slice(top.spans[Key.Model * 2]! + 1, top.spans[Key.Model * 2 + 1]! - 1)
  return model.includes('\\') ? null : model
}

/**
 * The client's body text with its top-level `model` set to `model` and, when `streamUsage`, stream usage asked for
 * (`"stream_options":{"include_usage":true}` added); null when the text does not allow it cleanly (no string
 * model, a key given twice or spelled with escapes, stream_options of the client's own to merge), and the caller
 * serialises the parsed body.
 */
export function spliceChatBody(text: string, top: TopLevel, model: string, streamUsage: boolean): string | null {
  if (!top.whole || top.unsafe || !isString(text, top, Key.Model)) return null
  if (streamUsage && top.spans[Key.StreamOptions * 2] !== -1) return null
  const spliced = `${text.slice(0, top.spans[Key.Model * 2])}${JSON.stringify(model)}${text.slice(top.spans[Key.Model * 2 + 1])}`
  if (!streamUsage) return spliced
  const end = spliced.lastIndexOf('}')
  return `${spliced.slice(0, end)},"stream_options":{"include_usage":true}${spliced.slice(end)}`
}
