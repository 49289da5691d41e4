/**
 * @module The pooled client's side of an answer (http1-framing.ts reads it off the wire): its headers, looked up
 * in the head as received, and its body as the gateway reads it, queued until read, decoded when compressed, read
 * ahead at most `highWater` bytes before the socket pauses.
 */
import type { Transform } from 'node:stream'
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib'
import { readBounded } from './body.ts'
import type { ByteReader, ReadResult } from './stream.ts'
import { UpstreamTooLarge, type UpstreamReply } from './upstream-body.ts'

export class UpstreamProtocolError extends Error {}

/** The connection a reply's body comes from. */
export interface BodySource {
  pause(): void
  resume(): void
  /** The consumer dropped the reply before its end: the rest is not worth reading. */
  abandon(reply: Reply): void
}

/**
 * Response headers, looked up in the head as received (the gateway reads four or five of them, so parsing every
 * line into a map cost more than the lookups): names case-insensitive, repeats joined with ", ".
 */
export class ReplyHeaders {
  private readonly lower: string

  constructor(private readonly head: string) {
    this.lower = head.toLowerCase()
  }

  get(name: string): string | null {
    const key = `\r\n${name.toLowerCase()}:`
    let at = this.lower.indexOf(key)
    let out: string | null = null
    while (at !== -1) {
      const start = at + key.length
      const end = this.lower.indexOf('\r\n', start)
      const value = this.head.slice(start, end === -1 ? undefined : end).trim()
      out = out === null ? value : `${out}, ${value}`
      at = end === -1 ? -1 : this.lower.indexOf(key, end)
    }
    return out
  }

  has(name: string): boolean {
    return this.lower.includes(`\r\n${name.toLowerCase()}:`)
  }
}

/** A reply's body as its consumer reads it: queued chunks, decoded when the upstream compressed them. */
export class Reply implements UpstreamReply {
  readonly ok: boolean
  private queue: Buffer[] = []
  private queued = 0
  private ended = false
  private error: unknown = null
  private waiting: { resolve: (r: ReadResult) => void; reject: (e: unknown) => void } | null = null
  private paused = false
  private readonly decoder: Transform | null

  constructor(
    readonly status: number,
    readonly headers: ReplyHeaders,
    private conn: BodySource | null,
    private readonly highWater: number,
  ) {
    this.ok = status >= 200 && status < 300
    this.decoder = decoderFor(headers.get('content-encoding'))
    if (this.decoder) {
      this.decoder.on('data', (c: Buffer) => this.push(c))
      this.decoder.on('end', () => this.close())
      this.decoder.on('error', (e: Error) => this.fail(new UpstreamProtocolError(`the upstream body does not decode: ${e.message}`)))
    }
  }

  /** Body bytes as they came off the wire. */
  body(chunk: Buffer): void {
    if (this.decoder) this.decoder.write(chunk)
    else this.push(chunk)
  }

  /** The wire body is complete. */
  end(): void {
    this.conn = null
    if (this.decoder) this.decoder.end()
    else this.close()
  }

  private push(chunk: Buffer): void {
    if (this.ended) return
    const w = this.waiting
    if (w) {
      this.waiting = null
      w.resolve({ done: false, value: chunk })
      return
    }
    // The socket reuses nothing it handed us, but a view may outlive this tick: keep it as it is.
    this.queue.push(chunk)
    this.queued += chunk.length
    if (this.queued > this.highWater && this.conn && !this.paused) {
      this.paused = true
      this.conn.pause()
    }
  }

  private close(): void {
    if (this.ended) return
    this.ended = true
    const w = this.waiting
    this.waiting = null
    if (w) w.resolve({ done: true })
  }

  fail(err: unknown): void {
    if (this.ended) return
    this.error = err
    this.ended = true
    this.conn = null
    this.decoder?.destroy()
    const w = this.waiting
    this.waiting = null
    if (w) w.reject(err)
  }

  /** What can be read without waiting: a chunk, the end (an error throws), or null when nothing has arrived yet. */
  private tryRead(): ReadResult | null {
    const value = this.queue.shift()
    if (value) {
      this.queued -= value.length
      if (this.paused && this.queued <= this.highWater >> 1) {
        this.paused = false
        this.conn?.resume()
      }
      return { done: false, value }
    }
    if (this.error !== null) throw this.error
    return this.ended ? { done: true } : null
  }

  private read(): Promise<ReadResult> {
    try {
      const now = this.tryRead()
      if (now) return Promise.resolve(now)
    } catch (err) {
      return Promise.reject(err)
    }
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }))
  }

  reader(): ByteReader {
    return { read: () => this.read(), tryRead: () => this.tryRead() }
  }

  textNow(limit: number): string | null {
    // Usually the whole answer came with its head, before anyone asked for it.
    if (!this.ended || this.error !== null || this.queued > limit) return null
    const chunks = this.queue
    this.queue = []
    this.queued = 0
    return chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')
  }

  text(limit: number, truncate = false): Promise<string> {
    const now = this.textNow(limit)
    if (now !== null) return Promise.resolve(now)
    return readBounded(this.chunks(), limit, truncate).then((text) => {
      if (text === null) throw new UpstreamTooLarge(limit)
      return text
    })
  }

  /** The body as an async iterable; leaving it early cancels the rest. */
  private async *chunks(): AsyncGenerator<Uint8Array> {
    let done = false
    try {
      for (;;) {
        const r = await this.read()
        if (r.done) break
        yield r.value
      }
      done = true
    } finally {
      if (!done) this.cancel()
    }
  }

  cancel(): void {
    if (this.conn) this.conn.abandon(this)
    this.conn = null
    this.queue = []
    this.queued = 0
    this.close()
  }
}

function decoderFor(encoding: string | null): Transform | null {
  const e = encoding?.trim().toLowerCase()
  if (!e || e === 'identity') return null
  if (e === 'gzip' || e === 'x-gzip') return createGunzip()
  if (e === 'deflate') return createInflate()
  if (e === 'br') return createBrotliDecompress()
  throw new UpstreamProtocolError(`unsupported content-encoding ${e}`)
}
