/**
 * @module HTTP/1.1 on the wire for the pooled client (http1.ts): a request written out as text, and answers read off
 * a connection's bytes, one per request: the head, then the body framed by content-length, chunked encoding or the
 * connection's close. Knows nothing of sockets or pools: bytes go in, and the head, body bytes and the answer's end
 * come out to the connection.
 */
import { ReplyHeaders, UpstreamProtocolError } from './http1-reply.ts'

const BAD_HEADER = /[\r\n\0]/

/** Adapters send the same few header objects again and again: each is checked and written out once. */
const headerBlocks = new WeakMap<Record<string, string>, string>()

function headerBlock(headers: Record<string, string>): string {
  let block = headerBlocks.get(headers)
  if (block !== undefined) return block
  block = ''
  for (const k in headers) {
    const v = headers[k]!
    if (BAD_HEADER.test(k) || BAD_HEADER.test(v)) throw new TypeError(`invalid header ${JSON.stringify(k)}`)
    block += `${k}: ${v}\r\n`
  }
  headerBlocks.set(headers, block)
  return block
}

/** A request as text, `host` the Host header: the socket encodes it as it writes (a Buffer of it first was a native allocation a request). */
export function requestText(host: string, url: URL, req: { method: string; headers: Record<string, string>; body: string }): string {
  // Asked for plainly (an absent header allows any coding); decoded anyway should an upstream ignore it.
  return `${req.method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${host}\r\n${headerBlock(req.headers)}accept-encoding: identity\r\ncontent-length: ${Buffer.byteLength(req.body)}\r\n\r\n${req.body}`
}

/** A response head larger than this is not an HTTP answer we will read. */
const MAX_HEAD = 64 * 1024
const CRLFCRLF = Buffer.from('\r\n\r\n')
const CRLF = Buffer.from('\r\n')

/** Where an answer's parts go (the connection). */
export interface FramingSink {
  /** The final head (1xx heads are skipped); called before any body byte. */
  head(status: number, headers: ReplyHeaders): void
  body(chunk: Buffer): void
  /** The answer has all arrived; `reusable`: the connection may carry another request. */
  complete(reusable: boolean): void
  /** Bytes arrived past the end of the answer: the connection's framing can no longer be trusted. */
  excess(): void
}

const enum Phase {
  Head,
  Fixed,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  UntilClose,
  Done,
}

export class AnswerFramer {
  private phase = Phase.Done
  /** An incomplete head, chunk-size or trailer line, until the rest arrives. */
  private held: Buffer | null = null
  private left = 0
  private keepAlive = false
  /** Seconds the connection may wait idle in the pool: the default, or less when a server's Keep-Alive says so. */
  idleS: number

  constructor(
    private readonly sink: FramingSink,
    private readonly defaultIdleS: number,
  ) {
    this.idleS = defaultIdleS
  }

  /** A request went out: its answer is read next. */
  expect(): void {
    this.phase = Phase.Head
    this.held = null
  }

  /** The answer runs until the connection closes (no length given): the close is its end. */
  get untilClose(): boolean {
    return this.phase === Phase.UntilClose
  }

  /** The answer was cut short by its consumer: whatever else arrives is excess. */
  stop(): void {
    this.phase = Phase.Done
  }

  /** Reads `d`; throws UpstreamProtocolError for what is not a well-framed HTTP/1.1 answer. */
  push(d: Buffer): void {
    let buf = d
    while (buf.length > 0) {
      switch (this.phase) {
        case Phase.Done:
          this.sink.excess()
          return
        case Phase.Head: {
          const r = this.scan(buf, CRLFCRLF, MAX_HEAD, 'the upstream answer head is too large')
          if (!r) return
          buf = r.buf.subarray(r.at + 4)
          this.onHead(r.buf.toString('latin1', 0, r.at))
          break
        }
        case Phase.Fixed:
          buf = this.take(buf)
          if (this.left === 0) this.complete(this.keepAlive)
          break
        case Phase.UntilClose:
          this.sink.body(buf)
          return
        case Phase.ChunkSize: {
          const r = this.scan(buf, CRLF, 1024, 'invalid chunked encoding')
          if (!r) return
          // The size in hex, maybe followed by ";extensions" (ignored).
          const line = r.buf.toString('latin1', 0, r.at)
          if (!/^[0-9a-fA-F]{1,8}(?:[ \t;]|$)/.test(line)) throw new UpstreamProtocolError('invalid chunked encoding')
          const size = parseInt(line, 16)
          buf = r.buf.subarray(r.at + 2)
          if (size === 0) this.phase = Phase.Trailers
          else {
            this.left = size
            this.phase = Phase.ChunkData
          }
          break
        }
        case Phase.ChunkData:
          buf = this.take(buf)
          if (this.left === 0) {
            this.phase = Phase.ChunkEnd
            this.left = 2
          }
          break
        case Phase.ChunkEnd: {
          // The CRLF after a chunk's data, possibly split across reads.
          const take = Math.min(this.left, buf.length)
          this.left -= take
          buf = buf.subarray(take)
          if (this.left === 0) this.phase = Phase.ChunkSize
          break
        }
        case Phase.Trailers: {
          // Trailer lines (ignored) up to an empty one; without trailers, just the empty line.
          const r = this.scan(buf, CRLF, MAX_HEAD, 'invalid chunked encoding')
          if (!r) return
          buf = r.buf.subarray(r.at + 2)
          if (r.at === 0) {
            this.complete(this.keepAlive && buf.length === 0)
            return
          }
          break
        }
      }
    }
  }

  private complete(reusable: boolean): void {
    this.phase = Phase.Done
    this.sink.complete(reusable)
  }

  /** Passes up to `left` body bytes of `buf` on; returns the rest. */
  private take(buf: Buffer): Buffer {
    const n = Math.min(this.left, buf.length)
    this.left -= n
    this.sink.body(n === buf.length ? buf : buf.subarray(0, n))
    return buf.subarray(n)
  }

  /** `d` after the bytes held back, and where `delim` is in it; null (all of it held back) until `delim` arrives. */
  private scan(d: Buffer, delim: Buffer, max: number, tooLong: string): { buf: Buffer; at: number } | null {
    const buf = this.held ? Buffer.concat([this.held, d]) : d
    this.held = null
    const at = buf.indexOf(delim)
    if (at !== -1) return { buf, at }
    if (buf.length > max) throw new UpstreamProtocolError(tooLong)
    this.held = Buffer.from(buf)
    return null
  }

  private onHead(text: string): void {
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(text)
    if (!m) throw new UpstreamProtocolError('the upstream did not answer HTTP/1.1')
    const status = Number(m[2])
    const headers = new ReplyHeaders(text)
    // 1xx (100 Continue, 103 Early Hints): the real head follows.
    if (status < 200) return
    const te = headers.get('transfer-encoding')
    const connection = headers.get('connection')?.toLowerCase() ?? ''
    this.keepAlive = m[1] === '1' && !connection.includes('close')
    const hint = /timeout=(\d+)/i.exec(headers.get('keep-alive') ?? '')
    if (hint) this.idleS = Math.min(this.defaultIdleS, Number(hint[1]) - 1)
    if (this.idleS < 1) this.keepAlive = false
    if (status === 204 || status === 304) this.phase = Phase.Done
    else if (te !== null) {
      // A transfer coding before chunked (gzip, chunked) would need decoding of its own: no upstream sends one.
      if (te.trim().toLowerCase() !== 'chunked') throw new UpstreamProtocolError(`unsupported transfer-encoding ${te}`)
      this.phase = Phase.ChunkSize
    } else {
      const cl = headers.get('content-length')
      if (cl !== null) {
        if (!/^\d+$/.test(cl.trim())) throw new UpstreamProtocolError('invalid content-length')
        this.left = Number(cl)
        this.phase = this.left === 0 ? Phase.Done : Phase.Fixed
      } else {
        this.phase = Phase.UntilClose
        this.keepAlive = false
      }
    }
    this.sink.head(status, headers)
    if (this.phase === Phase.Done) this.complete(this.keepAlive)
  }
}
