/** @module Usage types and the usage query: totals plus breakdowns by day, model and key. */
import { usageFor } from '../../admin/usage.ts'
import type { UsageTotals } from '../../billing/usage.ts'
import { nanoToUsd } from '../../shared/money.ts'
import { builder } from '../builder.ts'
import { actorOf } from '../context.ts'

const UsageTotalsRef = builder.interfaceRef<UsageTotals>('UsageTotals').implement({
  fields: (t) => ({
    requests: t.exposeInt('requests', { description: 'Usage events: every admitted request.' }),
    promptTokens: t.exposeInt('promptTokens'),
    completionTokens: t.exposeInt('completionTokens'),
    totalTokens: t.int({ resolve: (u) => u.promptTokens + u.completionTokens }),
    cachedTokens: t.exposeInt('cachedTokens'),
    costUsd: t.float({ description: 'Provider cost.', resolve: (u) => nanoToUsd(u.costNano) }),
    markupUsd: t.float({ resolve: (u) => nanoToUsd(u.markupNano) }),
    billedUsd: t.float({ resolve: (u) => nanoToUsd(u.billedNano) }),
  }),
})

const UsageDay = builder.objectRef<UsageTotals & { date: string }>('UsageDay').implement({
  interfaces: [UsageTotalsRef],
  fields: (t) => ({ date: t.exposeString('date', { description: "YYYY-MM-DD in the firm's timezone." }) }),
})

const UsageModel = builder.objectRef<UsageTotals & { model: string }>('UsageModel').implement({
  interfaces: [UsageTotalsRef],
  fields: (t) => ({ model: t.exposeString('model', { description: 'The model used (or requested, when none answered).' }) }),
})

const UsageKey = builder.objectRef<UsageTotals & { keyId: string; keyPrefix: string | null }>('UsageKey').implement({
  interfaces: [UsageTotalsRef],
  fields: (t) => ({ keyId: t.exposeID('keyId'), keyPrefix: t.exposeString('keyPrefix', { nullable: true }) }),
})

type UsageShape = Awaited<ReturnType<typeof usageFor>>

const Usage = builder.objectRef<UsageShape['report'] & { id: string; clientId: string; from: string; to: string }>('Usage').implement({
  interfaces: [UsageTotalsRef],
  fields: (t) => ({
    id: t.exposeID('id'),
    clientId: t.exposeID('clientId'),
    from: t.exposeString('from'),
    to: t.exposeString('to'),
    byDay: t.field({ type: [UsageDay], resolve: (u) => u.byDay }),
    byModel: t.field({ type: [UsageModel], resolve: (u) => u.byModel }),
    byKey: t.field({ type: [UsageKey], resolve: (u) => u.byKey }),
  }),
})

builder.queryFields((t) => ({
  usage: t.field({
    type: Usage,
    description: "A client's usage. from/to: YYYY-MM-DD days in the firm's timezone (both inclusive) or ISO date-times; default the current month.",
    args: { clientId: t.arg.id({ required: true }), from: t.arg.string({ required: false }), to: t.arg.string({ required: false }) },
    resolve: async (_r, args, ctx) => {
      const clientId = String(args.clientId)
      const { window, report } = await usageFor(ctx.deps, actorOf(ctx), clientId, args.from, args.to)
      return { ...report, id: `${clientId}:${window.fromLabel}:${window.toLabel}`, clientId, from: window.fromLabel, to: window.toLabel }
    },
  }),
}))
