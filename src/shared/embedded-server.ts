/**
 * @module Serves an in-process PGlite to Postgres clients over loopback TCP, safely for several connections.
 * PGlite is one session, so each client's protocol messages run as whole units (everything up to a Sync or a
 * simple Query) and a client holds the session while its transaction is open or while it awaits a Flush; others
 * queue. (Interleaving single messages, as a naive multiplexer does, mixes up unnamed statements and portals.)
 */
import type { PGlite } from '@electric-sql/pglite'
import { createServer, type Server, type Socket } from 'node:net'

const SSL_REQUEST = 80877103
const GSS_REQUEST = 80877104
const CANCEL_REQUEST = 80877102

interface Conn {
  socket: Socket
  buffer: Buffer
  started: boolean
  /** Messages of the unit being collected. */
  pending: Uint8Array[]
}

interface Unit {
  conn: Conn
  messages: Uint8Array[]
  /** The unit ended with Flush: the client waits for a reply and then continues the same statement. */
  holds: boolean
}

export class EmbeddedPostgresServer {
  private server: Server | null = null
  private readonly queue: Unit[] = []
  private owner: Conn | null = null
  private running = false
  private readonly conns = new Set<Conn>()

  constructor(private readonly db: PGlite) {}

  /** Listens on 127.0.0.1 (port 0: any free port); resolves to the port. */
  start(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket))
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        this.server = server
        const addr = server.address()
        resolve(typeof addr === 'object' && addr ? addr.port : port)
      })
    })
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.socket.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
    this.server = null
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true)
    const conn: Conn = { socket, buffer: Buffer.alloc(0), started: false, pending: [] }
    this.conns.add(conn)
    socket.on('data', (d: Buffer) => this.receive(conn, d))
    socket.on('error', () => socket.destroy())
    socket.on('close', () => void this.drop(conn))
  }

  private receive(conn: Conn, data: Buffer): void {
    conn.buffer = conn.buffer.length ? Buffer.concat([conn.buffer, data]) : data
    for (;;) {
      if (!conn.started) {
        if (conn.buffer.length < 8) return
        const len = conn.buffer.readInt32BE(0)
        if (conn.buffer.length < len) return
        const code = conn.buffer.readInt32BE(4)
        const msg = conn.buffer.subarray(0, len)
        conn.buffer = conn.buffer.subarray(len)
        if (code === SSL_REQUEST || code === GSS_REQUEST) conn.socket.write('N')
        else if (code === CANCEL_REQUEST) conn.socket.destroy()
        else {
          conn.started = true
          this.enqueue({ conn, messages: [new Uint8Array(msg)], holds: false })
        }
        continue
      }
      if (conn.buffer.length < 5) return
      const len = 1 + conn.buffer.readInt32BE(1)
      if (conn.buffer.length < len) return
      const type = conn.buffer[0]!
      const msg = new Uint8Array(conn.buffer.subarray(0, len))
      conn.buffer = conn.buffer.subarray(len)
      if (type === 0x58) {
        // Terminate: the session is shared, so it is not passed on; the socket just closes.
        conn.socket.end()
        return
      }
      conn.pending.push(msg)
      // Sync (S), simple Query (Q) and Flush (H) end a unit: the client now waits for replies.
      if (type === 0x53 || type === 0x51 || type === 0x48) {
        this.enqueue({ conn, messages: conn.pending, holds: type === 0x48 })
        conn.pending = []
      }
    }
  }

  private enqueue(unit: Unit): void {
    this.queue.push(unit)
    void this.pump()
  }

  private async pump(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      for (;;) {
        const i = this.owner ? this.queue.findIndex((u) => u.conn === this.owner) : 0
        if (i < 0 || this.queue.length === 0) return
        const unit = this.queue.splice(i, 1)[0]!
        if (unit.conn.socket.destroyed) continue
        await this.db.runExclusive(async () => {
          for (const m of unit.messages) {
            await this.db.execProtocolRawStream(m, { onRawData: (out) => unit.conn.socket.writable && unit.conn.socket.write(out) })
          }
        })
        this.owner = unit.holds || this.db.isInTransaction() ? unit.conn : null
      }
    } finally {
      this.running = false
    }
  }

  /** A client gone mid-transaction must not leave the shared session inside it. */
  private async drop(conn: Conn): Promise<void> {
    this.conns.delete(conn)
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.conn === conn) this.queue.splice(i, 1)
    if (this.owner === conn) {
      this.owner = null
      if (this.db.isInTransaction()) await this.db.exec('rollback')
      void this.pump()
    }
  }
}
