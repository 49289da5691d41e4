/** The upstream answers every bench uses: a fixed chat.completion with usage, and an SSE stream of it. */
const ID = 'chatcmpl-bench'
const CREATED = 1714000000

export const completion = JSON.stringify({
  id: ID,
  object: 'chat.completion',
  created: CREATED,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 18, total_tokens: 30 },
})

const chunk = (delta: object, finish: string | null) =>
  `data: ${JSON.stringify({ id: ID, object: 'chat.completion.chunk', created: CREATED, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }], usage: null })}\n\n`

/** `n` content chunks between the role chunk and the finish, then the usage chunk and [DONE], one string an event. */
export function streamEvents(n: number): string[] {
  const events = [chunk({ role: 'assistant', content: '' }, null)]
  for (let i = 0; i < n; i++) events.push(chunk({ content: ` token${i}` }, null))
  events.push(chunk({}, 'stop'))
  events.push(`data: ${JSON.stringify({ id: ID, object: 'chat.completion.chunk', created: CREATED, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 12, completion_tokens: n, total_tokens: 12 + n } })}\n\n`)
  events.push('data: [DONE]\n\n')
  return events
}
