import { expect, test } from 'bun:test'
import { answerUsage, InvalidUpstreamJson } from './upstream-body.ts'

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
