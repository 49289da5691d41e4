import { expect, test } from 'bun:test'
import { GatewayError } from '../shared/errors.ts'
import { readChatBody, type ChatBody } from './body.ts'

const read = (text: string) => readChatBody(new Request('http://gw/', { method: 'POST', body: text }), 1 << 20)

/** What the gateway must make of a body, from the parsed whole: its fields, or the error it answers. */
function reference(text: string): { model: string; stream: boolean; maxTokens: number | null; wantsUsage: boolean } | { param: string | null; code: string | null } {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return { param: null, code: null }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { param: null, code: null }
  const { model, messages, stream, stream_options: opts, max_completion_tokens, max_tokens } = raw as Record<string, unknown>
  if (typeof model !== 'string' || model.trim() === '') return { param: 'model', code: 'missing_required_parameter' }
  if (!Array.isArray(messages)) return { param: 'messages', code: 'missing_required_parameter' }
  if (messages.length === 0) return { param: 'messages', code: 'empty_array' }
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') return { param: 'stream', code: 'invalid_type' }
  if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) return { param: 'stream_options', code: 'invalid_type' }
  const max = max_completion_tokens ?? max_tokens
  return {
    model,
    stream: stream === true,
    maxTokens: typeof max === 'number' && Number.isInteger(max) && max > 0 ? max : null,
    wantsUsage: stream === true && (opts as { include_usage?: unknown } | null | undefined)?.include_usage === true,
  }
}

async function outcome(text: string): Promise<ReturnType<typeof reference>> {
  let chat: ChatBody
  try {
    chat = await read(text)
  } catch (err) {
    if (!(err instanceof GatewayError) || err.status !== 400) throw err
    return { param: err.param, code: err.code }
  }
  return { model: chat.model, stream: chat.stream, maxTokens: chat.maxTokens, wantsUsage: chat.wantsUsage }
}

test('read from the text: the fields as a parse gives them, the rest left unparsed until something reads it', async () => {
  // Not JSON inside the messages (a trailing comma): nothing the gateway reads, so an upstream sent the text judges it.
  const text = '{"model":"default","stream":true,"max_tokens":50,"messages":[{"role":"user","content":"hi"},]}'
  const chat = await read(text)
  expect(chat).toMatchObject({ model: 'default', stream: true, maxTokens: 50, wantsUsage: false, bytes: text.length })
  expect(JSON.parse(chat.spliced('gpt-4o')!.replace(',]', ']'))).toMatchObject({ model: 'gpt-4o', stream_options: { include_usage: true } })
  // An upstream that reads the parsed body gets the 400 a parse gives.
  expect(() => chat.parse()).toThrow('We could not parse the JSON body')
  const fine = await read('{"model":"m","messages":[{"role":"user","content":"x"}],"n":2}')
  expect(fine.parse()).toEqual({ model: 'm', messages: [{ role: 'user', content: 'x' }], n: 2 })
})

test('errors are the ones a parse gives: bad JSON, not an object, missing or empty fields, wrong types', async () => {
  // Among them brackets that cross: a lenient parser might find another `model` in them than the walk does.
  for (const text of ['{"model": "default", ', '[1,2]', '{"model":"m","messages":[1]} x', '{"model":"m","messages":[1]}}', '{"model":"m","messages":["a]}', '{"model":"m","messages":[1],"x":[}],"model":"n"}', '{"model":"m","messages":[{]}}']) {
    expect(await outcome(text)).toEqual({ param: null, code: null })
  }
  expect(await outcome('{"messages":[1]}')).toEqual({ param: 'model', code: 'missing_required_parameter' })
  expect(await outcome('{"model":" ","messages":[1]}')).toEqual({ param: 'model', code: 'missing_required_parameter' })
  expect(await outcome('{"model":"m"}')).toEqual({ param: 'messages', code: 'missing_required_parameter' })
  expect(await outcome('{"model":"m","messages":{"a":1}}')).toEqual({ param: 'messages', code: 'missing_required_parameter' })
  expect(await outcome('{"model":"m","messages":[ \n ]}')).toEqual({ param: 'messages', code: 'empty_array' })
  expect(await outcome('{"model":"m","messages":[1],"stream":"yes"}')).toEqual({ param: 'stream', code: 'invalid_type' })
  expect(await outcome('{"model":"m","messages":[1],"stream_options":[]}')).toEqual({ param: 'stream_options', code: 'invalid_type' })
  await expect(read('  ')).rejects.toThrow('empty')
})

test('the stream estimate counts the messages, not the rest of the body', async () => {
  const content = 'x'.repeat(4000)
  const chat = await read(JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], tools: [{ type: 'function', function: { name: 'f', description: 'y'.repeat(8000) } }] }))
  expect(chat.promptEstimate()).toBeGreaterThan(1000)
  expect(chat.promptEstimate()).toBeLessThan(1020)
})

test('randomised bodies: the fields read from the text are always what a parse gives', async () => {
  let seed = 11
  const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!
  const values = ['default', '', ' ', 'a"b', 'm\\n', 0, 7, -1, 2.5, true, false, null, [], [1], {}, { include_usage: true }, { include_usage: 'yes' }, [{ role: 'user', content: 'model' }]] as const
  const keys = ['model', 'messages', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'temperature', 'model'] as const
  for (let i = 0; i < 2000; i++) {
    const entries: [string, unknown][] = [
      ['model', pick(['default', 'gpt-4o', ...values])],
      ['messages', rand() < 0.8 ? [{ role: 'user', content: pick(['hi', '"}],', '\\"']) }] : pick(values)],
    ]
    for (let k = Math.floor(rand() * 4); k > 0; k--) entries.push([pick(keys), pick(values)])
    entries.sort(() => rand() - 0.5)
    let text = JSON.stringify(Object.fromEntries(entries), null, rand() < 0.3 ? 2 : undefined)
    // Now and then what a serialiser would not write: a key spelled with an escape, a key given twice, space around.
    const twist = rand()
    if (twist < 0.1) text = text.replace('"stream"', '"str\\u0065am"')
    else if (twist < 0.2) text = text.replace(/}\s*$/, ',"max_tokens":9}')
    else if (twist < 0.3) text = ` \n${text}\t`
    expect(await outcome(text)).toEqual(reference(text))
  }
})
