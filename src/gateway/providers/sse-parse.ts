/** @module A small SSE parser for upstreams whose streams the adapters translate (Anthropic, Gemini). */

/** Splits an SSE byte stream into (event, data) pairs; keeps what is incomplete for the next push. */
export class SseParser {
  private buf = ''

  push(text: string): { event: string; data: string }[] {
    this.buf += text.replace(/\r\n?/g, '\n')
    const out: { event: string; data: string }[] = []
    let at = this.buf.indexOf('\n\n')
    while (at !== -1) {
      const block = this.buf.slice(0, at)
      this.buf = this.buf.slice(at + 2)
      let event = 'message'
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim()
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
      }
      if (data.length > 0) out.push({ event, data: data.join('\n') })
      at = this.buf.indexOf('\n\n')
    }
    return out
  }

  get pending(): number {
    return this.buf.length
  }
}
