/** @module SpendingLimit and Markup types; spendingLimit query; setSpendingLimit and setMarkup. */
import * as limits from '../../admin/limits.ts'
import { nanoToUsd } from '../../shared/money.ts'
import type { SpendingLimit } from '../../tenancy/spending-limits.ts'
import { builder } from '../builder.ts'
import { actorOf } from '../context.ts'
import { Enforcement } from './enums.ts'

export const SpendingLimitRef = builder.objectRef<SpendingLimit>('SpendingLimit').implement({
  fields: (t) => ({
    id: t.exposeID('clientId', { description: 'The client id: a client has at most one limit.' }),
    clientId: t.exposeID('clientId'),
    monthlyLimitUsd: t.float({ resolve: (l) => nanoToUsd(l.monthlyLimitNano) }),
    limitClamped: t.exposeBoolean('limitClamped', { description: 'True when the limit asked for was above $500/month and was clamped to it.' }),
    alertThresholds: t.exposeIntList('alertThresholds', { description: 'Percents of the limit at which the firm is alerted.' }),
    enforcement: t.expose('enforcement', { type: Enforcement }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
})

const Markup = builder.objectRef<limits.MarkupResult>('Markup').implement({
  fields: (t) => ({
    id: t.id({ resolve: (m) => m.clientId ?? m.firmId }),
    firmId: t.exposeID('firmId'),
    clientId: t.exposeID('clientId', { nullable: true }),
    percent: t.exposeFloat('percent'),
  }),
})

const SetSpendingLimitInput = builder.inputType('SetSpendingLimitInput', {
  fields: (t) => ({
    clientId: t.id({ required: true }),
    monthlyLimitUsd: t.float({ required: true, description: 'Clamped at $500/month server-side.' }),
    alertThresholds: t.intList({ required: false, description: 'Whole percents 1-100; default [50, 80, 100].' }),
    enforcement: t.field({ type: Enforcement, required: false }),
  }),
})

const SetMarkupInput = builder.inputType('SetMarkupInput', {
  fields: (t) => ({
    clientId: t.id({ required: false, description: "Omit to set the firm's default." }),
    percent: t.float({ required: true, description: '0 to 1000, at most two decimals.' }),
    firmId: t.id({ required: false, description: 'Platform admins only, for a firm default.' }),
  }),
})

builder.queryFields((t) => ({
  spendingLimit: t.field({
    type: SpendingLimitRef,
    nullable: true,
    args: { clientId: t.arg.id({ required: true }) },
    resolve: (_r, { clientId }, ctx) => limits.getSpendingLimit(ctx.deps, actorOf(ctx), String(clientId)),
  }),
}))

builder.mutationFields((t) => ({
  setSpendingLimit: t.field({
    type: SpendingLimitRef,
    args: { input: t.arg({ type: SetSpendingLimitInput, required: true }) },
    resolve: (_r, { input }, ctx) => limits.setSpendingLimit(ctx.deps, actorOf(ctx), { ...input, clientId: String(input.clientId) }),
  }),
  setMarkup: t.field({
    type: Markup,
    args: { input: t.arg({ type: SetMarkupInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      limits.setMarkup(ctx.deps, actorOf(ctx), { percent: input.percent, clientId: input.clientId == null ? null : String(input.clientId), firmId: input.firmId == null ? null : String(input.firmId) }),
  }),
}))
