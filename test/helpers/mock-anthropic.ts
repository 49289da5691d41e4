/** A local Anthropic Messages API look-alike speaking its documented wire format, recording what it was sent. */
import { LocalServer } from './local-server.ts'

export interface AnthropicScenario {
  text?: string
  toolUse?: { id: string; name: string; input: Record<string, unknown> }
  usage?: { input_tokens: number; output_tokens: number; cache_read_input_tokens?: number; cache_creation_input_tokens?: number }
  status?: number
  stopReason?: string
}

const enc = new TextEncoder()

export class MockAnthropic extends LocalServer {
  scenario: AnthropicScenario = {}
  requests: { body: Record<string, unknown>; headers: Record<string, string> }[] = []
  get baseUrl(): string {
    return this.origin
  }

  protected async handle(req: Request): Promise<Response> {
    const body = (await req.json()) as Record<string, unknown>
    this.requests.push({ body, headers: Object.fromEntries(req.headers.entries()) })
    const s = this.scenario
    if (s.status) return Response.json({ type: 'error', error: { type: s.status === 429 ? 'rate_limit_error' : 'invalid_request_error', message: `mock anthropic ${s.status}` } }, { status: s.status, headers: s.status === 429 ? { 'retry-after': '1' } : {} })
    const usage = s.usage ?? { input_tokens: 25, output_tokens: 12 }
    const text = s.text ?? 'Hello from Claude.'
    const model = String(body.model)
    const stop = s.stopReason ?? (s.toolUse ? 'tool_use' : 'end_turn')
    if (body.stream !== true) {
      const content: Record<string, unknown>[] = []
      if (text) content.push({ type: 'text', text })
      if (s.toolUse) content.push({ type: 'tool_use', ...s.toolUse })
      return Response.json({ id: 'msg_mock1', type: 'message', role: 'assistant', model, content, stop_reason: stop, stop_sequence: null, usage })
    }
    const events: [string, Record<string, unknown>][] = [
      ['message_start', { type: 'message_start', message: { id: 'msg_mock1', type: 'message', role: 'assistant', model, content: [], stop_reason: null, usage: { input_tokens: usage.input_tokens, output_tokens: 1, cache_read_input_tokens: usage.cache_read_input_tokens ?? 0, cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0 } } }],
      ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
      ['ping', { type: 'ping' }],
    ]
    for (const piece of text.match(/\S+\s*/g) ?? []) events.push(['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } }])
    events.push(['content_block_stop', { type: 'content_block_stop', index: 0 }])
    if (s.toolUse) {
      events.push(['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: s.toolUse.id, name: s.toolUse.name, input: {} } }])
      const json = JSON.stringify(s.toolUse.input)
      events.push(['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: json.slice(0, 5) } }])
      events.push(['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: json.slice(5) } }])
      events.push(['content_block_stop', { type: 'content_block_stop', index: 1 }])
    }
    events.push(['message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }])
    events.push(['message_stop', { type: 'message_stop' }])
    return new Response(
      new ReadableStream({
        start(c) {
          for (const [e, d] of events) c.enqueue(enc.encode(`event: ${e}\ndata: ${JSON.stringify(d)}\n\n`))
          c.close()
        },
      }),
      { headers: { 'content-type': 'text/event-stream' } },
    )
  }
}
