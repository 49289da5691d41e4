/** @module Model type (the catalog) and the models query. */
import * as directory from '../../admin/directory.ts'
import type { CatalogModel } from '../../billing/catalog.ts'
import { nanoToUsd } from '../../shared/money.ts'
import { builder } from '../builder.ts'

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
