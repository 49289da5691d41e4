import { expect, test } from 'bun:test'
import { errorJson, upstreamText, UpstreamTooLarge } from './upstream-body.ts'

const chunked = (parts: string[]) =>
  new Response(
    new ReadableStream({
      start(c) {
        for (const p of parts) c.enqueue(new TextEncoder().encode(p))
        c.close()
      },
    }),
  )

test.each([
  ['declared within the limit', new Response('a'.repeat(100), { headers: { 'content-length': '100' } }), 'a'.repeat(100)],
  ['undeclared, counted as it arrives', chunked(['ab', 'cd', 'ef']), 'abcdef'],
])('%s: read whole', async (_name, res, want) => {
  expect(await upstreamText(res, 100)).toBe(want)
})

test.each([
  ['a declared length over the limit', () => new Response('a'.repeat(101), { headers: { 'content-length': '101' } })],
  ['an undeclared body that grows past it', () => chunked(['a'.repeat(60), 'b'.repeat(60)])],
  ['a compressed body small on the wire, large once decompressed', () => new Response(Bun.gzipSync('c'.repeat(10_000)), { headers: { 'content-encoding': 'gzip', 'content-length': '60' } })],
])('%s: refused', async (_name, make) => {
  const res = make()
  // A constructed Response does not decompress: stand in for fetch, which does.
  const body = res.headers.get('content-encoding') === 'gzip' ? new Response(Bun.gunzipSync(new Uint8Array(await res.arrayBuffer())), { headers: res.headers }) : res
  await expect(upstreamText(body, 100)).rejects.toBeInstanceOf(UpstreamTooLarge)
})

test('truncating keeps the first bytes of an error body; errorJson is null for what is not JSON', async () => {
  expect(await upstreamText(chunked(['0123456789', 'abcdef']), 12, true)).toBe('0123456789ab')
  expect(await errorJson(chunked(['{"error":{"message":"no"}}']))).toEqual({ error: { message: 'no' } })
  expect(await errorJson(chunked(['<html>']))).toBeNull()
})
