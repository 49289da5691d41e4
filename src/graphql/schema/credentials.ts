/** @module ProviderCredential type (firm-owned keys, never the secret); providerCredentials, set and delete. */
import * as creds from '../../admin/credentials.ts'
import { builder } from '../builder.ts'
import { actorOf } from '../context.ts'

const CredentialRef = builder.objectRef<creds.CredentialView>('ProviderCredential').implement({
  description: "A firm's own key for a provider; its routes to that provider use it. The key itself is never shown.",
  fields: (t) => ({
    id: t.exposeID('provider'),
    provider: t.exposeString('provider'),
    keyHint: t.exposeString('keyHint', { description: 'The last four characters.' }),
    baseUrl: t.exposeString('baseUrl', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
})

const SetCredentialInput = builder.inputType('SetProviderCredentialInput', {
  fields: (t) => ({
    provider: t.string({ required: true, description: 'e.g. "anthropic", "openai", "openai-compatible".' }),
    apiKey: t.string({ required: true }),
    baseUrl: t.string({ required: false, description: 'Another endpoint for this provider (required for openai-compatible); https to a public address.' }),
    firmId: t.id({ required: false, description: 'Platform admins only.' }),
  }),
})

builder.queryFields((t) => ({
  providerCredentials: t.field({
    type: [CredentialRef],
    args: { firmId: t.arg.id({ required: false }) },
    resolve: (_r, { firmId }, ctx) => creds.listCredentials(ctx.deps, actorOf(ctx), firmId == null ? null : String(firmId)),
  }),
}))

builder.mutationFields((t) => ({
  setProviderCredential: t.field({
    type: CredentialRef,
    args: { input: t.arg({ type: SetCredentialInput, required: true }) },
    resolve: (_r, { input }, ctx) => creds.setCredential(ctx.deps, actorOf(ctx), { ...input, firmId: input.firmId == null ? null : String(input.firmId) }),
  }),
  deleteProviderCredential: t.field({
    type: CredentialRef,
    args: { provider: t.arg.string({ required: true }), firmId: t.arg.id({ required: false }) },
    resolve: (_r, { provider, firmId }, ctx) => creds.removeCredential(ctx.deps, actorOf(ctx), { provider, firmId: firmId == null ? null : String(firmId) }),
  }),
}))
