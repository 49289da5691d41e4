import { expect, test } from 'bun:test'
import { AnthropicStreamTranslator, fromAnthropicResponse, openAiUsage, toAnthropicRequest } from './anthropic-translate.ts'
import { SseParser } from './sse-parse.ts'

test.each([
  ['end_turn', 'stop'],
  ['stop_sequence', 'stop'],
  ['max_tokens', 'length'],
  ['tool_use', 'tool_calls'],
  ['refusal', 'content_filter'],
])('stop_reason %s -> finish_reason %s', (stop, finish) => {
  const r = fromAnthropicResponse({ id: 'm', model: 'c', content: [{ type: 'text', text: 'x' }], stop_reason: stop, usage: { input_tokens: 1, output_tokens: 1 } }, 0)
  expect((r.choices as { finish_reason: string }[])[0]!.finish_reason).toBe(finish)
})

test('usage: prompt counts input, cache reads and writes', () => {
  expect(openAiUsage({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 })).toEqual({
    prompt_tokens: 130,
    completion_tokens: 5,
    total_tokens: 135,
    prompt_tokens_details: { cached_tokens: 100, cache_creation_tokens: 20 },
  })
})

test('max_tokens defaults to the model limit; system and developer messages join; tool_choice maps', () => {
  const req = toAnthropicRequest({ model: 'c', messages: [{ role: 'system', content: 'a' }, { role: 'developer', content: 'b' }, { role: 'user', content: 'u' }, { role: 'user', content: 'v' }], tool_choice: { type: 'function', function: { name: 'f' } } }, 8192)
  expect(req).toEqual({ model: 'c', max_tokens: 8192, system: 'a\n\nb', messages: [{ role: 'user', content: [{ type: 'text', text: 'u' }, { type: 'text', text: 'v' }] }], tool_choice: { type: 'tool', name: 'f' } })
})

test('SSE parser handles split events and CRLF', () => {
  const p = new SseParser()
  expect(p.push('event: ping\r\ndata: {"type":"pi')).toEqual([])
  expect(p.push('ng"}\r\n\r\nevent: message_stop\ndata: {}\n\n')).toEqual([
    { event: 'ping', data: '{"type":"ping"}' },
    { event: 'message_stop', data: '{}' },
  ])
})

test('a stream error event becomes an OpenAI error payload and ends the stream', () => {
  const t = new AnthropicStreamTranslator(0)
  t.event('message_start', { message: { id: 'm', model: 'c', usage: { input_tokens: 3 } } })
  expect(t.event('error', { error: { type: 'overloaded_error', message: 'Overloaded' } })).toEqual([{ error: { message: 'Overloaded', type: 'api_error', code: 'overloaded_error', param: null } }])
  expect(t.ended).toBe(true)
  expect(t.end()).toEqual([])
})
