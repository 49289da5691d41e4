/** @module Model type (the catalog), the models query, and a firm's own model prices. */
import * as directory from '../../admin/directory.ts'
import * as prices from '../../admin/prices.ts'
import type { CatalogModel } from '../../billing/catalog.ts'
import type { TokenPrices } from '../../billing/pricing.ts'
import { nanoToUsd } from '../../shared/money.ts'
import { builder } from '../builder.ts'
import { actorOf } from '../context.ts'

export const ModelRef = builder.objectRef<CatalogModel>('Model').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    provider: t.exposeString('provider'),
    upstreamModel: t.exposeString('upstreamModel'),
    kind: t.exposeString('kind', { description: 'chat, image, video or embedding.' }),
    contextWindow: t.exposeInt('contextWindow', { nullable: true }),
    maxOutputTokens: t.exposeInt('maxOutputTokens', { nullable: true }),
    zdr: t.exposeBoolean('zdr', { description: 'Zero data retention available.' }),
    inputPerMillionUsd: t.float({ nullable: true, resolve: (m) => nanoToUsd(m.prices.inputPerMtok) }),
    cachedInputPerMillionUsd: t.float({ nullable: true, resolve: (m) => (m.prices.cachedInputPerMtok === null ? null : nanoToUsd(m.prices.cachedInputPerMtok)) }),
    outputPerMillionUsd: t.float({ nullable: true, resolve: (m) => nanoToUsd(m.prices.outputPerMtok) }),
    cacheWritePerMillionUsd: t.float({ nullable: true, description: 'Writing to the prompt cache, where priced apart (Anthropic).', resolve: (m) => (m.prices.cacheWritePerMtok == null ? null : nanoToUsd(m.prices.cacheWritePerMtok)) }),

  }),
})

builder.queryFields((t) => ({
  models: t.field({
    type: [ModelRef],
    args: { zdr: t.arg.boolean({ required: false }), provider: t.arg.string({ required: false }) },
    resolve: (_r, args, ctx) => directory.models(ctx.deps, args),
  }),
}))

const ModelPriceRef = builder.objectRef<TokenPrices & { modelId: string }>('ModelPrice').implement({
  description: "The firm's own price for a catalog model, used instead of the list price for its clients.",
  fields: (t) => ({
    id: t.exposeID('modelId'),
    modelId: t.exposeString('modelId'),
    inputPerMillionUsd: t.float({ resolve: (p) => nanoToUsd(p.inputPerMtok) }),
    cachedInputPerMillionUsd: t.float({ nullable: true, resolve: (p) => (p.cachedInputPerMtok === null ? null : nanoToUsd(p.cachedInputPerMtok)) }),
    outputPerMillionUsd: t.float({ resolve: (p) => nanoToUsd(p.outputPerMtok) }),
    cacheWritePerMillionUsd: t.float({ nullable: true, resolve: (p) => (p.cacheWritePerMtok == null ? null : nanoToUsd(p.cacheWritePerMtok)) }),
  }),
})

const SetModelPriceInput = builder.inputType('SetModelPriceInput', {
  fields: (t) => ({
    modelId: t.string({ required: true }),
    inputPerMillionUsd: t.float({ required: true }),
    cachedInputPerMillionUsd: t.float({ required: false }),
    outputPerMillionUsd: t.float({ required: true }),
    cacheWritePerMillionUsd: t.float({ required: false }),
    firmId: t.id({ required: false, description: 'Platform admins only.' }),
  }),
})

builder.queryFields((t) => ({
  modelPrices: t.field({ type: [ModelPriceRef], args: { firmId: t.arg.id({ required: false }) }, resolve: (_r, { firmId }, ctx) => prices.listModelPrices(ctx.deps, actorOf(ctx), firmId == null ? null : String(firmId)) }),
}))

builder.mutationFields((t) => ({
  setModelPrice: t.field({
    type: ModelPriceRef,
    args: { input: t.arg({ type: SetModelPriceInput, required: true }) },
    resolve: (_r, { input }, ctx) => prices.setModelPrice(ctx.deps, actorOf(ctx), { ...input, firmId: input.firmId == null ? null : String(input.firmId) }),
  }),
  deleteModelPrice: t.field({
    type: 'Boolean',
    args: { modelId: t.arg.string({ required: true }), firmId: t.arg.id({ required: false }) },
    resolve: (_r, { modelId, firmId }, ctx) => prices.deleteModelPrice(ctx.deps, actorOf(ctx), { modelId, firmId: firmId == null ? null : String(firmId) }),
  }),
}))
