/** @module OpenAPI descriptions (with examples shaped like real responses) for the admin and client REST routes. */
import type { DocumentDecoration } from 'elysia'

const bearer: Record<string, string[]>[] = [{ bearerAuth: [] }]
const clientKey: Record<string, string[]>[] = [{ viapiKey: [] }, { bearerAuth: [] }]
const errorExample = (code: string, message: string, type = 'invalid_request_error') => ({
  'application/json': { example: { error: { message, type, code, param: null } } },
})
const totals = { requests: 2, prompt_tokens: 24, completion_tokens: 36, total_tokens: 60, cost_usd: 0.0000252, markup_usd: 0.00000756, billed_usd: 0.00003276 }

export const docs = {
  mintToken: {
    tags: ['Auth'],
    summary: 'Mint a personal access token (vi_pat_)',
    description: 'Authorized by a dashboard JWT. The token is shown once; it authenticates GraphQL, MCP and the export as its user.',
    security: bearer,
    requestBody: { required: true, content: { 'application/json': { example: { label: 'claude-code-mcp' } } } },
    responses: {
      201: { description: 'Minted', content: { 'application/json': { example: { id: 'pat_01JX2Z7C1Q8V0S3M4N5P6R7T8W', token: 'vi_pat_3kT9…', label: 'claude-code-mcp', created_at: '2026-11-26T17:00:00.000Z' } } } },
      401: { description: 'Missing or bad token', content: errorExample('unauthenticated', 'The dashboard token could not be verified.', 'authentication_error') },
    },
  },
  listTokens: {
    tags: ['Auth'],
    summary: "List the caller's access tokens",
    security: bearer,
    responses: { 200: { description: 'Tokens (never the secrets)', content: { 'application/json': { example: { data: [{ id: 'pat_01JX…', label: 'ci', prefix: 'vi_pat_3kT9a', created_at: '2026-11-26T17:00:00.000Z', last_used_at: null, revoked_at: null }] } } } } },
  },
  revokeToken: {
    tags: ['Auth'],
    summary: 'Revoke one of the caller’s access tokens',
    security: bearer,
    responses: { 200: { description: 'Revoked' }, 404: { description: 'No such token', content: errorExample('not_found', 'No such access token.', 'not_found_error') } },
  },
  clientUsage: {
    tags: ['Client'],
    summary: "Your usage (the key's client)",
    description: "Current month by default; `from`/`to` as YYYY-MM-DD days in the firm's timezone (inclusive) or ISO date-times. `requests` counts every admitted request.",
    security: clientKey,
    parameters: [
      { name: 'from', in: 'query', required: false, schema: { type: 'string', example: '2026-11-01' } },
      { name: 'to', in: 'query', required: false, schema: { type: 'string', example: '2026-11-30' } },
    ],
    responses: {
      200: {
        description: 'Totals and breakdowns',
        content: {
          'application/json': {
            example: { client_id: 'cli_01JX…', from: '2026-11-01', to: '2026-11-30', ...totals, by_model: [{ model: 'gpt-4o-mini', ...totals }], by_day: [{ date: '2026-11-26', ...totals }] },
          },
        },
      },
      401: { description: 'Bad key', content: errorExample('invalid_api_key', 'Incorrect API key provided.', 'authentication_error') },
    },
  },
  exportUsage: {
    tags: ['Client', 'Admin'],
    summary: 'Export usage as CSV',
    description:
      "One row per usage event, streamed. With a client key: that client's rows. With an admin token: the firm's clients (filter with client_id; platform admins with firm_id). Money columns are exact decimals (9 places).",
    security: [...clientKey, ...bearer],
    parameters: [
      { name: 'client_id', in: 'query', required: false, schema: { type: 'string' } },
      { name: 'firm_id', in: 'query', required: false, schema: { type: 'string' } },
      { name: 'from', in: 'query', required: false, schema: { type: 'string', example: '2026-11-01' } },
      { name: 'to', in: 'query', required: false, schema: { type: 'string', example: '2026-11-30' } },
    ],
    responses: {
      200: {
        description: 'RFC 4180 CSV',
        content: {
          'text/csv': {
            example:
              'time,request_id,client_id,client_name,key_prefix,model_requested,model_used,provider,prompt_tokens,completion_tokens,cached_tokens,cost_usd,markup_usd,billed_usd,status,stream\r\n2026-11-26T17:00:00.000Z,req_01JX…,cli_01JX…,Acme Corp,vi_live_abcd,default,gpt-4o-mini,openai,12,18,0,0.000012600,0.000003780,0.000016380,200,false\r\n',
          },
        },
      },
    },
  },
} satisfies Record<string, DocumentDecoration>
