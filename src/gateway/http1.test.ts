import { afterAll, describe, expect, test } from 'bun:test'
import { gzipSync } from 'node:zlib'
import { UpstreamProtocolError } from './http1-reply.ts'
import { closeIdle, http1, idleConnections } from './http1.ts'
import { pooledClientEnabled, upstreamRequest } from './upstream-request.ts'
import { UpstreamTooLarge } from './upstream-body.ts'

/**
 * A raw TCP server that answers each request with the bytes `answer` returns, written in the pieces given (so
 * framing split at every boundary is exercised). Counts connections and requests.
 */
function rawServer(answer: (req: string, n: number) => { pieces: (string | Uint8Array)[]; close?: boolean }) {
  const stats = { connections: 0, requests: 0, lastRequest: '' }
  const server = Bun.listen<{ buf: string }>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(s) {
        stats.connections++
        s.data = { buf: '' }
      },
      async data(s, d) {
        s.data.buf += d.toString('latin1')
        const head = s.data.buf.indexOf('\r\n\r\n')
        if (head === -1) return
        const len = Number(/content-length: (\d+)/i.exec(s.data.buf)?.[1] ?? 0)
        if (s.data.buf.length < head + 4 + len) return
        const req = s.data.buf.slice(0, head + 4 + len)
        s.data.buf = s.data.buf.slice(head + 4 + len)
        stats.requests++
        stats.lastRequest = req
        const { pieces, close } = answer(req, stats.requests)
        for (const p of pieces) {
          s.write(p)
          s.flush()
          await Bun.sleep(1)
        }
        if (close) s.end()
      },
    },
  })
  return { url: new URL(`http://127.0.0.1:${server.port}/v1/chat/completions?x=1`), stats, stop: () => server.stop(true) }
}

const post = (url: URL, signal = new AbortController().signal, headers: Record<string, string> = { 'content-type': 'application/json' }) => http1(url, { method: 'POST', headers, body: '{"model":"m"}', signal })

/** Every way to cut a string into two pieces. */
function splits(s: string): string[][] {
  return Array.from({ length: s.length - 1 }, (_, i) => [s.slice(0, i + 1), s.slice(i + 1)])
}

const servers: { stop(): void }[] = []
afterAll(() => {
  for (const s of servers) s.stop()
  closeIdle()
})

describe('pooled HTTP/1.1 client', () => {
  test('sends the request line, host, headers and body; reads a content-length answer; reuses the connection', async () => {
    const srv = rawServer(() => ({ pieces: ['HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'] }))
    servers.push(srv)
    for (let i = 0; i < 3; i++) {
      const r = await post(srv.url)
      expect(r.status).toBe(200)
      expect(r.ok).toBe(true)
      expect(r.headers.get('content-type')).toBe('application/json')
      expect(r.headers.get('Content-Length')).toBe('11')
      expect(await r.text(1000)).toBe('{"ok":true}')
    }
    expect(srv.stats.connections).toBe(1)
    expect(srv.stats.requests).toBe(3)
    expect(srv.stats.lastRequest).toStartWith(`POST /v1/chat/completions?x=1 HTTP/1.1\r\nhost: ${srv.url.host}\r\ncontent-type: application/json\r\n`)
    expect(srv.stats.lastRequest).toContain('content-length: 13\r\n')
    expect(srv.stats.lastRequest).toEndWith('\r\n\r\n{"model":"m"}')
  })

  test('decodes chunked bodies split at every byte boundary, with and without trailers', async () => {
    const wire = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\n'
    for (const trailer of ['\r\n', 'X-T: 1\r\n\r\n']) {
      let n = 0
      const cuts = splits(wire + trailer)
      const srv = rawServer(() => ({ pieces: cuts[n++ % cuts.length]! }))
      servers.push(srv)
      for (let i = 0; i < cuts.length; i++) {
        const r = await post(srv.url)
        expect(await r.text(1000)).toBe('hello 0123456789')
      }
      // Every answer was framed exactly, so one connection carried them all.
      expect(srv.stats.connections).toBe(1)
    }
  })

  test('streams a chunked body to a reader as it arrives', async () => {
    const srv = rawServer(() => ({ pieces: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n', '6\r\ndata: \r\n', '3\r\n1\n\n\r\n', '0\r\n\r\n'] }))
    servers.push(srv)
    const r = await post(srv.url)
    const reader = r.reader()
    const got: string[] = []
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      got.push(Buffer.from(value).toString())
    }
    expect(got.join('')).toBe('data: 1\n\n')
    expect(got.length).toBeGreaterThan(1)
  })

  test('tryRead hands over what has arrived without waiting: null before, the chunk, then the end', async () => {
    const srv = rawServer(() => ({ pieces: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', '2\r\nab\r\n0\r\n\r\n'] }))
    servers.push(srv)
    const reader = (await post(srv.url)).reader()
    expect(reader.tryRead!()).toBeNull()
    await Bun.sleep(20)
    const first = reader.tryRead!()
    expect(first?.done === false && Buffer.from(first.value).toString()).toBe('ab')
    expect(reader.tryRead!()).toEqual({ done: true })
  })

  test('skips 1xx heads, and reads an answer framed by the connection closing (not reused)', async () => {
    const srv = rawServer(() => ({ pieces: ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\n\r\nno', ' upstream'], close: true }))
    servers.push(srv)
    for (let i = 0; i < 2; i++) {
      const r = await post(srv.url)
      expect(r.status).toBe(502)
      expect(r.ok).toBe(false)
      expect(await r.text(1000)).toBe('no upstream')
    }
    expect(srv.stats.connections).toBe(2)
  })

  test('does not reuse a connection the upstream said it will close', async () => {
    const srv = rawServer(() => ({ pieces: ['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok'], close: true }))
    servers.push(srv)
    for (let i = 0; i < 2; i++) expect(await (await post(srv.url)).text(100)).toBe('ok')
    expect(srv.stats.connections).toBe(2)
  })

  test("keeps to the server's Keep-Alive timeout: one second or less is not pooled at all", async () => {
    for (const [timeout, connections] of [[1, 2], [5, 1]] as const) {
      const srv = rawServer(() => ({ pieces: [`HTTP/1.1 200 OK\r\nKeep-Alive: timeout=${timeout}, max=100\r\nContent-Length: 2\r\n\r\nok`] }))
      servers.push(srv)
      for (let i = 0; i < 2; i++) expect(await (await post(srv.url)).text(100)).toBe('ok')
      expect(srv.stats.connections).toBe(connections)
    }
  })

  test('decodes a gzip body the upstream sent despite accept-encoding: identity', async () => {
    const body = gzipSync(Buffer.from('{"hello":"world"}'))
    const srv = rawServer(() => ({ pieces: [`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\n\r\n`, body] }))
    servers.push(srv)
    const r = await post(srv.url)
    expect(await r.text(1000)).toBe('{"hello":"world"}')
    expect(srv.stats.lastRequest).toContain('accept-encoding: identity\r\n')
  })

  test('textNow: the whole body once it has all arrived, null while it is still coming or past the limit', async () => {
    const srv = rawServer(() => ({ pieces: ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234', '56789'] }))
    servers.push(srv)
    const r = await post(srv.url)
    // The head came before the rest of the body.
    expect(r.textNow!(100)).toBeNull()
    expect(await r.text(100)).toBe('0123456789')
    const whole = rawServer(() => ({ pieces: ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789'] }))
    servers.push(whole)
    const w = await post(whole.url)
    await Bun.sleep(10)
    expect(w.textNow!(4)).toBeNull()
    expect(w.textNow!(100)).toBe('0123456789')
  })

  test('an answer over the limit fails (or is cut with truncate), and its connection is not reused', async () => {
    const srv = rawServer(() => ({ pieces: ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234', '56789'] }))
    servers.push(srv)
    await expect(post(srv.url).then((r) => r.text(4))).rejects.toBeInstanceOf(UpstreamTooLarge)
    await Bun.sleep(20)
    expect(await (await post(srv.url)).text(7, true)).toBe('0123456')
    await Bun.sleep(20)
    expect(await (await post(srv.url)).text(100)).toBe('0123456789')
    expect(srv.stats.connections).toBeGreaterThanOrEqual(2)
  })

  test('a pooled connection the server closed meanwhile is replaced without failing the request', async () => {
    const srv = rawServer((_req, n) => ({ pieces: [`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${n}`] }))
    servers.push(srv)
    expect(await (await post(srv.url)).text(10)).toBe('1')
    // The server goes away and comes back on the same port: the pooled socket is dead.
    const port = Number(srv.url.port)
    srv.stop()
    await Bun.sleep(20)
    const again = Bun.listen({ hostname: '127.0.0.1', port, socket: { data: (s) => void s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh') } })
    servers.push(again)
    expect(await (await post(srv.url)).text(10)).toBe('fresh')
  })

  test('abort before the head rejects with the reason; abort mid-body fails the reader; the connection closes', async () => {
    let closed = 0
    const server = Bun.listen({
      hostname: '127.0.0.1',
      port: 0,
      socket: {
        data(s, d) {
          if (d.toString().includes('"slow-head"')) return
          s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n')
        },
        close: () => void closed++,
      },
    })
    servers.push(server)
    const url = new URL(`http://127.0.0.1:${server.port}/x`)
    const a = new AbortController()
    const pending = http1(url, { method: 'POST', headers: {}, body: '"slow-head"', signal: a.signal })
    await Bun.sleep(20)
    a.abort(new Error('client gone'))
    await expect(pending).rejects.toThrow('client gone')

    const b = new AbortController()
    const r = await http1(url, { method: 'POST', headers: {}, body: '"go"', signal: b.signal })
    const reader = r.reader()
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('abcd')
    const next = reader.read()
    b.abort(new Error('timed out'))
    await expect(next).rejects.toThrow('timed out')
    await Bun.sleep(20)
    expect(closed).toBe(2)
  })

  test('refuses header values that would split the request; garbage answers fail as protocol errors', async () => {
    const srv = rawServer(() => ({ pieces: ['SSH-2.0-OpenSSH\r\n\r\n'] }))
    servers.push(srv)
    await expect(post(srv.url, undefined, { 'x-a': 'b\r\nx-evil: 1' })).rejects.toBeInstanceOf(TypeError)
    await expect(post(srv.url)).rejects.toBeInstanceOf(UpstreamProtocolError)
    const gzipped = rawServer(() => ({ pieces: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'] }))
    servers.push(gzipped)
    await expect(post(gzipped.url)).rejects.toBeInstanceOf(UpstreamProtocolError)
  })

  test('a connection refused rejects', async () => {
    const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    const port = probe.port
    probe.stop(true)
    await expect(post(new URL(`http://127.0.0.1:${port}/`))).rejects.toThrow()
  })

  test('a body past the read-ahead bound (the socket pauses) arrives whole when read late', async () => {
    const big = 'x'.repeat(3 << 20)
    const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response(big) })
    servers.push(server)
    const r = await post(new URL(`http://127.0.0.1:${server.port}/`))
    await Bun.sleep(100)
    const reader = r.reader()
    let n = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      n += value.byteLength
    }
    expect(n).toBe(big.length)
    expect(idleConnections()).toBeGreaterThan(0)
  })

  test('a request body larger than one socket write, in UTF-8 past ASCII, arrives whole; the connection is reused', async () => {
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'ünï € 😀 '.repeat(400_000) }] })
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: async (req) => {
        const got = await req.text()
        return Response.json({ same: got === body, bytes: Buffer.byteLength(got) })
      },
    })
    servers.push(server)
    const url = new URL(`http://127.0.0.1:${server.port}/`)
    const send = async (text: string) => JSON.parse(await (await http1(url, { method: 'POST', headers: {}, body: text, signal: new AbortController().signal })).text(1 << 20)) as unknown
    expect(await send(body)).toEqual({ same: true, bytes: Buffer.byteLength(body) })
    expect(Buffer.byteLength(body)).toBeGreaterThan(4 << 20)
    const before = idleConnections()
    expect(before).toBeGreaterThan(0)
    expect(await send('{"model":"ü"}')).toEqual({ same: false, bytes: 14 })
    expect(idleConnections()).toBe(before)
  })

  test('fetch is used when an egress proxy is configured or VIAPI_UPSTREAM_CLIENT=fetch', async () => {
    expect(pooledClientEnabled({})).toBe(true)
    expect(pooledClientEnabled({ HTTPS_PROXY: 'http://proxy:3128' })).toBe(false)
    expect(pooledClientEnabled({ VIAPI_UPSTREAM_CLIENT: 'fetch' })).toBe(false)
    const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: async (req) => new Response(`${req.method} ${await req.text()}`) })
    servers.push(server)
    for (const pooled of [true, false]) {
      const r = await upstreamRequest(`http://127.0.0.1:${server.port}/x`, { method: 'POST', headers: {}, body: 'hi', signal: new AbortController().signal }, pooled)
      expect(await r.text(100)).toBe('POST hi')
    }
  })
})

describe('pooled HTTP/1.1 client over TLS', () => {
  // A self-signed certificate made for this test only (test/fixtures): no system trusts it.
  const fixtures = new URL('../../test/fixtures/', import.meta.url)

  test('refuses a server whose certificate does not verify, and sends it nothing', async () => {
    let received = ''
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      tls: { cert: Bun.file(new URL('tls-test-cert.pem', fixtures)), key: Bun.file(new URL('tls-test-key.pem', fixtures)) },
      fetch: async (req) => {
        received = await req.text()
        return new Response('should not be reached')
      },
    })
    servers.push(server)
    const url = new URL(`https://127.0.0.1:${server.port}/v1/chat/completions`)
    await expect(http1(url, { method: 'POST', headers: { authorization: 'Bearer sk-secret' }, body: '{}', signal: new AbortController().signal })).rejects.toThrow(/certificate/i)
    await Bun.sleep(50)
    expect(received).toBe('')
  })
})
