/** @module MCP tools for money: spending limits, usage, prepaid credit, the card setup link, and video jobs with their holds. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import type { Exec } from './exec.ts'
import { enforcement, id, lower, nodes, READ, register, snake, upper, usd, WRITE, type Json } from './tool-kit.ts'

const LIMIT = 'clientId monthlyLimitUsd limitClamped alertThresholds enforcement'

const limitShape = z.object({ client_id: z.string(), monthly_limit_usd: z.number(), limit_clamped: z.boolean(), alert_thresholds: z.array(z.number()), enforcement: z.string() })

export function registerBillingTools(server: McpServer, exec: Exec): void {
  register(server, exec, 'get_spending_limit', {
    title: 'Get the spending limit',
    description: "Get a client's monthly spending limit and alert thresholds (null when none is set).",
    input: { client_id: id('client') },
    output: { spending_limit: limitShape.nullable() },
    annotations: READ,
    async run(a, x) {
      const d = await x(`query($c: ID!) { spendingLimit(clientId: $c) { ${LIMIT} } }`, { c: a.client_id })
      const l = d.spendingLimit ? lower(snake(d.spendingLimit) as Json) : null
      return { data: { spending_limit: l } as never, text: l ? `$${l.monthly_limit_usd}/month, ${l.enforcement}, alerts at ${(l.alert_thresholds as number[]).join('/')} %` : 'No spending limit is set.' }
    },
  })

  register(server, exec, 'set_spending_limit', {
    title: 'Set the spending limit',
    description: "Set a client's monthly spending cap in USD — clamped at $500/month server-side (limit_clamped says so) — with alert thresholds in percent (default 50, 80, 100).",
    input: { client_id: id('client'), monthly_limit_usd: usd.describe('USD per month.'), alert_thresholds: z.array(z.number().int().min(1).max(100)).optional(), enforcement: enforcement.optional() },
    output: limitShape.shape,
    annotations: { ...WRITE, idempotentHint: true },
    async run(a, x) {
      const d = await x(`mutation($i: SetSpendingLimitInput!) { setSpendingLimit(input: $i) { ${LIMIT} } }`, { i: { clientId: a.client_id, monthlyLimitUsd: a.monthly_limit_usd, alertThresholds: a.alert_thresholds, enforcement: upper(a.enforcement) } })
      const l = lower(snake(d.setSpendingLimit) as Json)
      return { data: l as never, text: `Spending limit set to $${l.monthly_limit_usd}/month${l.limit_clamped ? ' (clamped to the $500 maximum)' : ''}.` }
    },
  })

  register(server, exec, 'get_usage', {
    title: 'Get usage',
    description: "Get a client's cost, markup, billed amount, token and request counts, with breakdowns by day and model. Default: the current month; from/to as YYYY-MM-DD (inclusive).",
    input: { client_id: id('client'), from: z.string().optional(), to: z.string().optional() },
    output: {
      client_id: z.string(),
      from: z.string(),
      to: z.string(),
      requests: z.number(),
      prompt_tokens: z.number(),
      completion_tokens: z.number(),
      total_tokens: z.number(),
      cost_usd: z.number(),
      markup_usd: z.number(),
      billed_usd: z.number(),
      by_model: z.array(z.object({ model: z.string(), requests: z.number(), billed_usd: z.number() })),
      by_day: z.array(z.object({ date: z.string(), requests: z.number(), billed_usd: z.number() })),
    },
    annotations: READ,
    async run(a, x) {
      const d = await x(
        'query($c: ID!, $f: String, $t: String) { usage(clientId: $c, from: $f, to: $t) { clientId from to requests promptTokens completionTokens totalTokens costUsd markupUsd billedUsd byModel { model requests billedUsd } byDay { date requests billedUsd } } }',
        { c: a.client_id, f: a.from, t: a.to },
      )
      const u = snake(d.usage) as Json
      return { data: u as never, text: `${u.from} to ${u.to}: ${u.requests} requests, ${u.total_tokens} tokens, cost $${u.cost_usd}, billed $${u.billed_usd}.` }
    },
  })

  register(server, exec, 'get_credit_balance', {
    title: 'Get the credit balance',
    description: "Get a client's prepaid credit balance in cents, whether a card is on file, and the auto-reload settings.",
    input: { client_id: id('client') },
    output: { client_id: z.string(), balance_cents: z.number(), card_on_file: z.boolean(), auto_reload: z.object({ enabled: z.boolean(), threshold_cents: z.number().nullable(), amount_cents: z.number().nullable() }) },
    annotations: READ,
    async run(a, x) {
      const d = await x('query($c: ID!) { creditBalance(clientId: $c) { clientId balanceCents cardOnFile autoReload { enabled thresholdCents amountCents } } }', { c: a.client_id })
      const b = snake(d.creditBalance) as Json & { auto_reload: { enabled: boolean } }
      return { data: b as never, text: `${b.balance_cents} cents; card ${b.card_on_file ? 'on file' : 'not on file'}; auto-reload ${b.auto_reload.enabled ? 'on' : 'off'}.` }
    },
  })

  register(server, exec, 'create_billing_portal_url', {
    title: 'Create a card setup link',
    description: 'Generate a one-time Stripe Checkout URL where the client adds a payment card. It expires in 24 hours.',
    input: { client_id: id('client') },
    output: { url: z.string(), expires_at: z.string() },
    annotations: WRITE,
    async run(a, x) {
      const d = await x('mutation($c: ID!) { createBillingPortalUrl(clientId: $c) { url expiresAt } }', { c: a.client_id })
      const l = snake(d.createBillingPortalUrl) as { url: string; expires_at: string }
      return { data: l as never, text: `Card setup link (expires ${l.expires_at}): ${l.url}` }
    },
  })

  register(server, exec, 'list_video_jobs', {
    title: 'List video jobs',
    description: "List a client's async video jobs, newest first: status, model, duration, result URL, and what each holds or billed in USD.",
    input: { client_id: id('client'), first: z.number().int().min(1).max(100).optional().describe('How many (default 20).') },
    output: {
      video_jobs: z.array(
        z.object({ id: z.string(), status: z.string(), model: z.string(), provider: z.string(), duration_seconds: z.number(), result_url: z.string().nullable(), error_code: z.string().nullable(), reserved_usd: z.number(), billed_usd: z.number().nullable(), created_at: z.string() }),
      ),
    },
    annotations: READ,
    async run(a, x) {
      const d = await x('query($c: ID!, $n: Int) { videoJobs(clientId: $c, first: $n) { edges { node { id status model provider durationSeconds resultUrl errorCode reservedUsd billedUsd createdAt } } } }', { c: a.client_id, n: a.first ?? 20 })
      const jobs = nodes(d.videoJobs).map((j) => snake(j) as Json)
      return { data: { video_jobs: jobs } as never, text: jobs.length ? jobs.map((j) => `${j.id} ${j.status} ${j.model} ${j.duration_seconds}s`).join('\n') : 'No video jobs.' }
    },
  })
}
