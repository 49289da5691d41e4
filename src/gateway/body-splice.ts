/**
 * @module The upstream's chat body as text, made from the client's own text instead of re-serialising the parsed
 * body: the top-level `model` value swapped for the upstream's model id and, for a stream, usage asked for.
 * `JSON.stringify` of a parsed body costs about twice its parse — ~22 µs for a 32 KB prompt, ~180 µs for 256 KB —
 * where this walks the text from string to string with native searches, hopping only over escaped quotes inside
 * them: ~8 and ~52 µs for text with a quoted phrase every hundred characters, less with fewer.
 */

/** Where the top-level keys the splice cares about sit in a JSON object's text: string offsets, -1 when absent. */
interface TopLevel {
  /** The `model` value's opening quote and the index just past its closing quote. */
  modelFrom: number
  modelTo: number
  /** `model` twice or not a string, or a key spelled with escapes: the splice might not mean what the parse did. */
  unsafe: boolean
  hasStreamOptions: boolean
}

const QUOTE = 34
const BACKSLASH = 92
const COLON = 58

/**
 * The index of the quote that closes the string opened at `open` (a native search per quote inside it); the text's
 * length when none does (only text JSON.parse accepted comes here, but the walk must end on anything).
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

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9
}

/** Scans valid JSON object text (JSON.parse took it) for its top-level `model` and `stream_options` keys. */
function topLevel(text: string): TopLevel {
  const out: TopLevel = { modelFrom: -1, modelTo: -1, unsafe: false, hasStreamOptions: false }
  let depth = 0
  let pos = 0
  for (;;) {
    const open = text.indexOf('"', pos)
    const upTo = open === -1 ? text.length : open
    // Between strings there are only brackets, commas, colons, numbers, literals and spaces.
    for (let i = pos; i < upTo; i++) {
      const c = text.charCodeAt(i)
      if (c === 123 || c === 91) depth++
      else if (c === 125 || c === 93) depth--
    }
    if (open === -1) return out
    const close = closingQuote(text, open)
    pos = close + 1
    if (depth !== 1) continue
    let after = pos
    while (isSpace(text.charCodeAt(after))) after++
    // A top-level string followed by a colon is a key; values are followed by a comma or the closing brace.
    if (text.charCodeAt(after) !== COLON) continue
    const key = text.slice(open + 1, close)
    // A key spelled with escapes could be `model` to the parser: leave such a body to the serialiser.
    if (key.includes('\\')) out.unsafe = true
    if (key === 'stream_options') out.hasStreamOptions = true
    if (key !== 'model') continue
    if (out.modelFrom !== -1) out.unsafe = true
    let value = after + 1
    while (isSpace(text.charCodeAt(value))) value++
    if (text.charCodeAt(value) !== QUOTE) {
      out.unsafe = true
      continue
    }
    out.modelFrom = value
    out.modelTo = closingQuote(text, value) + 1
    pos = out.modelTo
  }
}

/**
 * The client's body text with its top-level `model` set to `model` and, when `streamUsage`, stream usage asked for
 * (`"stream_options":{"include_usage":true}` added); null when the text does not allow it cleanly (no string
 * model, a key given twice, stream_options of the client's own to merge), and the caller serialises the parsed body.
 */
export function spliceChatBody(text: string, model: string, streamUsage: boolean): string | null {
  const top = topLevel(text)
  if (top.unsafe || top.modelFrom === -1 || (streamUsage && top.hasStreamOptions)) return null
  const spliced = `${text.slice(0, top.modelFrom)}${JSON.stringify(model)}${text.slice(top.modelTo)}`
  if (!streamUsage) return spliced
  const end = spliced.lastIndexOf('}')
  return `${spliced.slice(0, end)},"stream_options":{"include_usage":true}${spliced.slice(end)}`
}
