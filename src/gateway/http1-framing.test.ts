import { expect, test } from 'bun:test'
import { AnswerFramer, type FramingSink } from './http1-framing.ts'
import { UpstreamProtocolError } from './http1-reply.ts'

/** A framer whose sink records what came out, as text. */
function framer() {
  const events: string[] = []
  const sink: FramingSink = {
    head: (status, headers) => events.push(`head ${status} ${headers.get('x-a') ?? ''}`.trim()),
    body: (chunk) => events.push(`body ${chunk.toString()}`),
    complete: (reusable) => events.push(`complete ${reusable}`),
    excess: () => events.push('excess'),
  }
  const f = new AnswerFramer(sink, 30)
  const push = (s: string) => f.push(Buffer.from(s))
  return { f, events, push }
}

test('a content-length answer split anywhere gives its head, its body and its end; bytes past it are excess', () => {
  const answer = 'HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 5\r\n\r\nhello'
  for (let cut = 1; cut < answer.length; cut++) {
    const { f, events, push } = framer()
    f.expect()
    push(answer.slice(0, cut))
    push(answer.slice(cut))
    expect(events.join('').replaceAll('body ', '')).toBe('head 200 1hellocomplete true')
  }
  const { f, events, push } = framer()
  f.expect()
  push(`${answer}HTTP/1.1 200 OK`)
  expect(events).toEqual(['head 200 1', 'body hello', 'complete true', 'excess'])
})

test('chunked with trailers, 1xx heads skipped, 204 with no body, and an answer framed by the close', () => {
  const chunked = framer()
  chunked.f.expect()
  chunked.push('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n')
  expect(chunked.events).toEqual(['head 200', 'body abc', 'complete true'])

  const empty = framer()
  empty.f.expect()
  empty.push('HTTP/1.1 204 No Content\r\n\r\n')
  expect(empty.events).toEqual(['head 204', 'complete true'])

  const untilClose = framer()
  untilClose.f.expect()
  untilClose.push('HTTP/1.0 200 OK\r\n\r\nsome')
  untilClose.push(' more')
  expect(untilClose.f.untilClose).toBe(true)
  expect(untilClose.events).toEqual(['head 200', 'body some', 'body  more'])
})

test("the server's Keep-Alive timeout lowers the idle time; Connection: close is not reusable", () => {
  const k = framer()
  k.f.expect()
  k.push('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n')
  expect(k.f.idleS).toBe(4)
  expect(k.events).toEqual(['head 200', 'complete true'])
  const c = framer()
  c.f.expect()
  c.push('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
  expect(c.events).toEqual(['head 200', 'complete false'])
})

test('what is not HTTP/1.1, a bad chunk size or an unknown transfer coding is a protocol error', () => {
  for (const bad of ['SSH-2.0-x\r\n\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n']) {
    const { f, push } = framer()
    f.expect()
    expect(() => push(bad)).toThrow(UpstreamProtocolError)
  }
})
