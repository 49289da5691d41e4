/** @module AccessToken type; accessTokens query; createAccessToken and revokeAccessToken. */
import * as tokens from '../../admin/tokens.ts'
import type { AccessToken } from '../../tenancy/tokens.ts'
import { builder } from '../builder.ts'
import { actorOf } from '../context.ts'

const AccessTokenRef = builder.objectRef<AccessToken>('AccessToken').implement({
  description: 'A personal access token (vi_pat_) of the signed-in admin.',
  fields: (t) => ({
    id: t.exposeID('id'),
    label: t.exposeString('label'),
    prefix: t.exposeString('prefix'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
})

const MintedAccessToken = builder.objectRef<{ token: string; record: AccessToken }>('MintedAccessToken').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'The vi_pat_ token. Shown only here, once.' }),
    accessToken: t.field({ type: AccessTokenRef, resolve: (m) => m.record }),
  }),
})

builder.queryFields((t) => ({
  accessTokens: t.field({ type: [AccessTokenRef], resolve: (_r, _a, ctx) => tokens.listPats(ctx.deps, actorOf(ctx)) }),
}))

builder.mutationFields((t) => ({
  createAccessToken: t.field({
    type: MintedAccessToken,
    args: { label: t.arg.string({ required: true }) },
    resolve: (_r, { label }, ctx) => tokens.mintPat(ctx.deps, actorOf(ctx), label),
  }),
  revokeAccessToken: t.field({
    type: AccessTokenRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => tokens.revokePat(ctx.deps, actorOf(ctx), String(id)),
  }),
}))
