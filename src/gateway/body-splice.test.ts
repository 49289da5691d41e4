import { expect, test } from 'bun:test'
import { scanTopLevel, spliceChatBody as spliceWith } from './body-splice.ts'

const spliceChatBody = (text: string, model: string, stream: boolean) => spliceWith(text, scanTopLevel(text), model, stream)

/** What the splice must mean: the parsed body with the model swapped and, for a stream, usage asked for. */
const expected = (text: string, model: string, stream: boolean) => {
  const o = JSON.parse(text) as Record<string, unknown>
  return { ...o, model, ...(stream ? { stream_options: { include_usage: true } } : {}) }
}

const check = (text: string, model = 'gpt-4o-mini', stream = false) => {
  const out = spliceChatBody(text, model, stream)
  expect(out).not.toBeNull()
  expect(JSON.parse(out!)).toEqual(expected(text, model, stream))
  return out!
}

test('swaps the top-level model in place and leaves every other byte as the client sent it', () => {
  const text = '{"messages":[{"role":"user","content":"hi"}],"model":"default","temperature":0.2}'
  expect(check(text)).toBe('{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o-mini","temperature":0.2}')
  expect(check('{ "model" : "default" , "messages" : [ ] }\n', 'm"x')).toBe('{ "model" : "m\\"x" , "messages" : [ ] }\n')
})

test('a stream asks for usage; a model id is written as JSON', () => {
  expect(check('{"model":"default","stream":true,"messages":[]}', 'a/b', true)).toBe('{"model":"a/b","stream":true,"messages":[],"stream_options":{"include_usage":true}}')
})

test('"model" anywhere but as a top-level key is left alone: nested keys, values, text inside strings', () => {
  const text = JSON.stringify({
    messages: [
      { role: 'user', content: 'say "model": "x" and {"model":"y"} \\"model\\" \\\\' },
      { role: 'assistant', content: 'model', name: 'model' },
    ],
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { model: { type: 'string' } } } } }],
    response_format: { type: 'json_schema', json_schema: { name: 'model', schema: { properties: { model: {} } } } },
    metadata: { model: 'nested' },
    user: 'model',
    model: 'default',
    n: 1,
  })
  const out = check(text, 'gpt-4o')
  expect(out.length).toBe(text.length - 'default'.length + 'gpt-4o'.length)
})

test('bodies the splice could misread go to the serialiser instead', () => {
  expect(spliceChatBody('{"model":"a","messages":[],"model":"b"}', 'm', false)).toBeNull()
  expect(spliceChatBody('{"mod\\u0065l":"a","messages":[]}', 'm', false)).toBeNull()
  expect(spliceChatBody('{"model":"a","stream":true,"stream_options":{"include_usage":false},"messages":[]}', 'm', true)).toBeNull()
  expect(spliceChatBody('{"messages":[]}', 'm', false)).toBeNull()
  // stream_options of the client's own does not stop a non-streaming splice
  check('{"model":"a","stream_options":{"include_usage":true},"messages":[]}')
})

test('text that is not JSON ends the walk too (an unterminated string, a lone quote)', () => {
  for (const bad of ['{"model":"a', '{"model":"a\\"}', '{"', '"', '{"model":', '{"model": 5}', '']) {
    expect(() => spliceChatBody(bad, 'm', true)).not.toThrow()
  }
  expect(spliceChatBody('{"model": 5, "messages": []}', 'm', false)).toBeNull()
})

test('randomised bodies: the splice always means the parsed body with the model swapped', () => {
  let seed = 7
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!
  const strings = ['', 'model', '"model":', '\\', '\\"', '{[', ']}', 'ünï €', 'a\nb', '"', 'stream_options']
  const value = (depth: number): unknown => {
    const r = rand()
    if (depth > 2 || r < 0.3) return pick(strings) + pick(strings)
    if (r < 0.4) return Math.floor(rand() * 1000)
    if (r < 0.5) return pick([true, false, null])
    if (r < 0.75) return Array.from({ length: Math.floor(rand() * 3) }, () => value(depth + 1))
    return Object.fromEntries(Array.from({ length: Math.floor(rand() * 3) }, () => [pick(['model', 'x', 'stream_options', 'content']), value(depth + 1)]))
  }
  for (let i = 0; i < 500; i++) {
    const entries: [string, unknown][] = [['messages', value(0)], ['model', pick(strings)], ['extra', value(0)]]
    entries.sort(() => rand() - 0.5)
    const pretty = rand() < 0.5
    const text = JSON.stringify(Object.fromEntries(entries), null, pretty ? 2 : undefined)
    check(text, pick(['gpt-4o', 'x"y', 'a\\b']), rand() < 0.5)
  }
})
