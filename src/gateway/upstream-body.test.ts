import { expect, test } from 'bun:test'
import { answerUsage, errorJson, InvalidUpstreamJson, upstreamText, UpstreamTooLarge } from './upstream-body.ts'

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

const usage = { prompt_tokens: 12, completion_tokens: 900, total_tokens: 912, prompt_tokens_details: { cached_tokens: 0 } }
const answer = (content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage, ...extra })

test('short and long answers: the usage object, however it is read', () => {
  for (const content of ['Hi', 'say "usage": {} and {"choices": 1} \\" '.repeat(200)]) {
    expect(answerUsage(answer(content))).toEqual(usage)
    expect(answerUsage(JSON.stringify(JSON.parse(answer(content)), null, 2))).toEqual(usage)
    expect(answerUsage(answer(content, { usage: null }))).toBeNull()
    const { usage: _, ...without } = JSON.parse(answer(content)) as Record<string, unknown>
    expect(answerUsage(JSON.stringify(without))).toBeNull()
  }
})

test('not a chat.completion, short or long: InvalidUpstreamJson', () => {
  const long = 'x'.repeat(2000)
  for (const bad of ['<html>oops', `<html>${long}</html>`, '{"choices": 1}', `{"choices": "${long}"}`, `{"choices": [], "usage": {"a": 1,}, "x": "${long}"}`, `{"choices": [1,], "x": "${long}"`, `[${JSON.stringify(long)}]`]) {
    expect(() => answerUsage(bad)).toThrow(InvalidUpstreamJson)
  }
  // Walked, then parsed whole when the walk cannot vouch for it: an escaped key, `choices` given twice.
  expect(answerUsage(`{"ch\\u006fices": [], "usage": {"a": 2}, "x": "${long}"}`)).toEqual({ a: 2 })
  expect(() => answerUsage(`{"choices": [], "choices": 5, "x": "${long}"}`)).toThrow(InvalidUpstreamJson)
})
