/**
 * @module The MCP tools: the control plane in snake_case, each a thin call to the admin GraphQL API (so the same
 * services, authorization and clamps apply). Results carry structured content with an output schema and a short
 * text; failures are tool errors with the API's message.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import type { Exec } from './exec.ts'
import { registerBillingTools } from './billing-tools.ts'
import { enforcement, id, lower, nodes, rate, READ, register, snake, upper, usd, WRITE, type Json } from './tool-kit.ts'

const CLIENT = 'id name slug email billingMode rpm rpd allowedModels markupPercent createdAt'
const KEY = 'id label prefix status monthlyCapUsd capClamped enforcement allowedModels rpm rpd expiresAt createdAt client { id }'
const ROUTE = 'id alias target fallbacks createdAt'

const clientOut = { id: z.string(), name: z.string(), slug: z.string(), email: z.string().nullable(), billing_mode: z.string(), rpm: z.number().nullable(), rpd: z.number().nullable(), allowed_models: z.array(z.string()).nullable(), markup_percent: z.number().nullable(), created_at: z.string() }
const keyShape = z.object({
  id: z.string(),
  label: z.string(),
  prefix: z.string(),
  status: z.string(),
  monthly_cap_usd: z.number().nullable(),
  cap_clamped: z.boolean(),
  enforcement: z.string(),
  allowed_models: z.array(z.string()).nullable(),
  rpm: z.number().nullable(),
  rpd: z.number().nullable(),
  expires_at: z.string().nullable(),
  created_at: z.string(),
  client_id: z.string(),
})
const routeShape = z.object({ id: z.string(), alias: z.string(), target: z.string(), fallbacks: z.array(z.string()), created_at: z.string() })

const keyOut = (k: Json): Json => {
  const { client, ...rest } = snake(k) as Json & { client?: { id: string } }
  return lower({ ...rest, client_id: client?.id ?? null })
}

export function registerTools(server: McpServer, exec: Exec): void {
  register(server, exec, 'list_models', {
    title: 'List models',
    description: 'List the models the gateway can route to, with context window, zero-data-retention (ZDR) capability and prices per million tokens. Filter with zdr: true for ZDR-capable models, or by provider.',
    input: { zdr: z.boolean().optional().describe('Only models with (true) or without (false) zero data retention.'), provider: z.string().optional().describe('Only this provider, e.g. "openai".') },
    output: {
      models: z.array(
        z.object({ id: z.string(), provider: z.string(), context_window: z.number().nullable(), max_output_tokens: z.number().nullable(), zdr: z.boolean(), input_per_million_usd: z.number().nullable(), cached_input_per_million_usd: z.number().nullable(), output_per_million_usd: z.number().nullable() }),
      ),
    },
    annotations: READ,
    async run(a, x) {
      const d = await x('query($zdr: Boolean, $p: String) { models(zdr: $zdr, provider: $p) { id provider contextWindow maxOutputTokens zdr inputPerMillionUsd cachedInputPerMillionUsd outputPerMillionUsd } }', { zdr: a.zdr, p: a.provider })
      const models = snake(d.models) as never
      return { data: { models }, text: `${(d.models as unknown[]).length} models: ${(d.models as { id: string }[]).map((m) => m.id).join(', ')}` }
    },
  })

  register(server, exec, 'list_clients', {
    title: 'List clients',
    description: "List the client accounts of your firm (100 at a time; pass the returned next_cursor as 'after' for more).",
    input: { after: z.string().optional().describe('Cursor from a previous call.') },
    output: { clients: z.array(z.object(clientOut)), next_cursor: z.string().nullable() },
    annotations: READ,
    async run(a, x) {
      const d = await x(`query($after: String) { clients(first: 100, after: $after) { edges { node { ${CLIENT} } } pageInfo { hasNextPage endCursor } } }`, { after: a.after })
      const conn = d.clients as { pageInfo: { hasNextPage: boolean; endCursor: string | null } }
      const clients = nodes(d.clients).map((c) => lower(snake(c) as Json))
      return { data: { clients, next_cursor: conn.pageInfo.hasNextPage ? conn.pageInfo.endCursor : null } as never, text: clients.length ? clients.map((c) => `${c.name} (${c.slug}) — ${c.id}`).join('\n') : 'No clients yet.' }
    },
  })

  register(server, exec, 'get_client', {
    title: 'Get a client',
    description: "Get one client account's details by its id.",
    input: { client_id: id('client') },
    output: clientOut,
    annotations: READ,
    async run(a, x) {
      const d = await x(`query($id: ID!) { client(id: $id) { ${CLIENT} } }`, { id: a.client_id })
      const c = lower(snake(d.client) as Json)
      return { data: c as never, text: `${c.name} (${c.slug}), ${c.billing_mode}, ${c.email ?? 'no email'}` }
    },
  })

  register(server, exec, 'create_client', {
    title: 'Create a client',
    description: 'Create a client account in your firm. slug must be unique in the firm: lowercase letters, digits and dashes (e.g. "acme-corp").',
    input: { name: z.string().min(1).describe('Display name, e.g. "Acme Corp".'), slug: z.string().min(1).describe('e.g. "acme-corp".'), email: z.string().optional().describe('Contact email.') },
    output: clientOut,
    annotations: WRITE,
    async run(a, x) {
      const d = await x(`mutation($i: CreateClientInput!) { createClient(input: $i) { ${CLIENT} } }`, { i: { name: a.name, slug: a.slug, email: a.email } })
      const c = lower(snake(d.createClient) as Json)
      return { data: c as never, text: `Created client ${c.name} (${c.slug}) with id ${c.id}.` }
    },
  })

  register(server, exec, 'update_client', {
    title: 'Update a client',
    description: "Update a client's name, contact email or billing mode (prepaid or postpaid). Omitted fields stay as they are.",
    input: { client_id: id('client'), name: z.string().min(1).optional(), email: z.string().optional().describe('Empty string clears it.'), billing_mode: z.enum(['prepaid', 'postpaid']).optional() },
    output: clientOut,
    annotations: { ...WRITE, idempotentHint: true },
    async run(a, x) {
      const d = await x(`mutation($id: ID!, $i: UpdateClientInput!) { updateClient(id: $id, input: $i) { ${CLIENT} } }`, { id: a.client_id, i: { name: a.name, email: a.email, billingMode: upper(a.billing_mode) } })
      const c = lower(snake(d.updateClient) as Json)
      return { data: c as never, text: `Updated client ${c.name} (${c.id}).` }
    },
  })

  register(server, exec, 'list_keys', {
    title: 'List API keys',
    description: "List a client's API keys: prefix, status, monthly cap, enforcement, model allowlist, rate limits and expiry. Secrets are never shown.",
    input: { client_id: id('client') },
    output: { keys: z.array(keyShape) },
    annotations: READ,
    async run(a, x) {
      const d = await x(`query($c: ID!) { keys(clientId: $c, first: 100) { edges { node { ${KEY} } } } }`, { c: a.client_id })
      const keys = nodes(d.keys).map(keyOut)
      return { data: { keys } as never, text: keys.length ? keys.map((k) => `${k.prefix}… ${k.status} cap ${k.monthly_cap_usd ?? 'none'} — ${k.id}`).join('\n') : 'This client has no keys.' }
    },
  })

  register(server, exec, 'revoke_key', {
    title: 'Revoke an API key',
    description: 'Permanently revoke a key. Without confirm: true nothing changes: the tool only describes the key that would be revoked. Ask the user before confirming.',
    input: { key_id: id('key'), confirm: z.boolean().optional().describe('Must be true to actually revoke.') },
    output: { revoked: z.boolean(), key: keyShape.optional(), would_revoke: keyShape.optional() },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
    async run(a, x) {
      if (a.confirm !== true) {
        const d = await x(`query($id: ID!) { key(id: $id) { ${KEY} } }`, { id: a.key_id })
        const k = keyOut(d.key as Json)
        return { data: { revoked: false, would_revoke: k } as never, text: `Not revoked. Call again with confirm: true to permanently revoke ${k.prefix}… (${k.label || 'no label'}).` }
      }
      const d = await x(`mutation($id: ID!) { revokeKey(id: $id, confirm: true) { ${KEY} } }`, { id: a.key_id })
      const k = keyOut(d.revokeKey as Json)
      return { data: { revoked: true, key: k } as never, text: `Revoked ${k.prefix}….` }
    },
  })

  const guardrails = {
    label: z.string().optional().describe('A name for the key.'),
    monthly_cap_usd: usd.optional().describe('Monthly spend cap in USD; above 500 it is clamped to 500 (cap_clamped says so).'),
    enforcement: enforcement.optional(),
    allowed_models: z.array(z.string()).optional().describe('Models or route aliases the key may call, e.g. ["gpt-4o-mini", "dall-e-3"].'),
    rpm: rate(10_000_000).optional().describe('Requests per minute.'),
    rpd: rate(1_000_000_000).optional().describe('Requests per day.'),
    expires_at: z.string().optional().describe('ISO 8601 date-time after which the key stops working.'),
  }
  const guardrailInput = (a: { label?: string; monthly_cap_usd?: number; enforcement?: string; allowed_models?: string[]; rpm?: number; rpd?: number; expires_at?: string }) => ({
    label: a.label,
    monthlyCapUsd: a.monthly_cap_usd,
    enforcement: upper(a.enforcement),
    allowedModels: a.allowed_models,
    rpm: a.rpm,
    rpd: a.rpd,
    expiresAt: a.expires_at,
  })

  register(server, exec, 'update_key', {
    title: 'Update an API key',
    description: "Change a key's guardrails: monthly cap (clamped at $500/month, reported as cap_clamped), enforcement, model allowlist, rate limits, expiry or label. Omitted fields stay as they are.",
    input: { key_id: id('key'), ...guardrails },
    output: keyShape.shape,
    annotations: { ...WRITE, idempotentHint: true },
    async run(a, x) {
      const d = await x(`mutation($id: ID!, $i: UpdateKeyInput!) { updateKey(id: $id, input: $i) { ${KEY} } }`, { id: a.key_id, i: guardrailInput(a) })
      const k = keyOut(d.updateKey as Json)
      return { data: k as never, text: `Updated ${k.prefix}…${k.cap_clamped ? ' (the cap was clamped to $500/month)' : ''}.` }
    },
  })

  register(server, exec, 'mint_guardrailed_key', {
    title: 'Mint an API key',
    description: 'Create a vi_live_ key for a client with optional spend cap (clamped at $500/month server-side), model allowlist, rate limits and expiry. The secret is returned once: give it to the user and do not repeat it.',
    input: { client_id: id('client'), ...guardrails },
    output: { secret: z.string(), key: keyShape },
    annotations: WRITE,
    async run(a, x) {
      const d = await x(`mutation($i: MintGuardrailedKeyInput!) { mintGuardrailedKey(input: $i) { secret key { ${KEY} } } }`, { i: { clientId: a.client_id, ...guardrailInput(a) } })
      const m = d.mintGuardrailedKey as { secret: string; key: Json }
      const k = keyOut(m.key)
      return { data: { secret: m.secret, key: k } as never, text: `Minted ${k.prefix}…${k.cap_clamped ? ' (cap clamped to $500/month)' : ''}. Secret (shown once): ${m.secret}` }
    },
  })

  register(server, exec, 'list_routes', {
    title: 'List routes',
    description: "List a client's model routes: alias (what the client passes as model) → provider:model target, with fallbacks.",
    input: { client_id: id('client') },
    output: { routes: z.array(routeShape) },
    annotations: READ,
    async run(a, x) {
      const d = await x(`query($c: ID!) { routes(clientId: $c, first: 100) { edges { node { ${ROUTE} } } } }`, { c: a.client_id })
      const routes = nodes(d.routes).map((r) => snake(r) as Json)
      return { data: { routes } as never, text: routes.length ? routes.map((r) => `${r.alias} → ${r.target}${(r.fallbacks as string[]).length ? ` (then ${(r.fallbacks as string[]).join(', ')})` : ''}`).join('\n') : 'No routes.' }
    },
  })

  register(server, exec, 'create_route', {
    title: 'Create a route',
    description: 'Add a model route for a client: alias → "provider:model" target, with optional fallbacks tried in order when the target fails.',
    input: { client_id: id('client'), alias: z.string().min(1).describe('e.g. "default".'), target: z.string().min(3).describe('"provider:model", e.g. "openai:gpt-4o".'), fallbacks: z.array(z.string()).optional().describe('More "provider:model" targets.') },
    output: routeShape.shape,
    annotations: WRITE,
    async run(a, x) {
      const d = await x(`mutation($i: CreateRouteInput!) { createRoute(input: $i) { ${ROUTE} } }`, { i: { clientId: a.client_id, alias: a.alias, target: a.target, fallbacks: a.fallbacks } })
      const r = snake(d.createRoute) as Json
      return { data: r as never, text: `Route ${r.alias} → ${r.target} created.` }
    },
  })

  registerBillingTools(server, exec)
}

export const TOOL_NAMES = [
  'list_models',
  'list_clients',
  'get_client',
  'create_client',
  'update_client',
  'list_keys',
  'revoke_key',
  'update_key',
  'list_routes',
  'create_route',
  'get_spending_limit',
  'set_spending_limit',
  'get_usage',
  'get_credit_balance',
  'create_billing_portal_url',
  'list_video_jobs',
  'mint_guardrailed_key',
] as const
