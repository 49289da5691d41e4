/** @module ApiKey type; keys query; mintGuardrailedKey, updateKey, revokeKey. */
import * as keys from '../../admin/keys.ts'
import { nanoToUsd } from '../../shared/money.ts'
import type { ApiKey } from '../../tenancy/keys.ts'
import { builder } from '../builder.ts'
import { actorOf } from '../context.ts'
import { ClientRef } from './clients.ts'
import { Enforcement, KeyStatus } from './enums.ts'
import { paginate } from './pagination.ts'

export const ApiKeyRef = builder.objectRef<ApiKey>('ApiKey').implement({
  description: 'A client API key (vi_live_). The secret is never stored; only its first 12 characters are shown.',
  fields: (t) => ({
    id: t.exposeID('id'),
    label: t.exposeString('label'),
    prefix: t.exposeString('prefix'),
    status: t.field({ type: KeyStatus, resolve: (k) => (k.status === 'revoked' ? 'revoked' : k.expiresAt && k.expiresAt.getTime() <= Date.now() ? 'expired' : 'active') }),
    monthlyCapUsd: t.float({ nullable: true, resolve: (k) => (k.monthlyCapNano === null ? null : nanoToUsd(k.monthlyCapNano)) }),
    capClamped: t.exposeBoolean('capClamped', { description: 'True when the cap asked for was above $500/month and was clamped to it.' }),
    enforcement: t.expose('enforcement', { type: Enforcement }),
    allowedModels: t.exposeStringList('allowedModels', { nullable: true, description: 'Models and aliases this key may call; null allows all.' }),
    rpm: t.exposeInt('rpm', { nullable: true }),
    rpd: t.exposeInt('rpd', { nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    client: t.field({ type: ClientRef, resolve: async (k, _a, ctx) => (await ctx.loaders.client.load(k.clientId))! }),
  }),
})

const MintedKey = builder.objectRef<{ secret: string; key: ApiKey }>('MintedKey').implement({
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'The vi_live_ key. Shown only here, once.' }),
    key: t.field({ type: ApiKeyRef, resolve: (m) => m.key }),
  }),
})

const guardrailFields = {
  label: { description: 'A name for the key.' },
  monthlyCapUsd: { description: 'Monthly spend cap in USD; above $500 it is clamped to $500 (capClamped says so). null: no cap.' },
  allowedModels: { description: 'Models and route aliases the key may call; null: all.' },
  rpm: { description: 'Requests per minute for this key; the tighter of key and client applies.' },
  rpd: { description: 'Requests per day for this key.' },
  expiresAt: { description: 'After this instant the key is refused.' },
} as const

type InputFields = PothosSchemaTypes.InputFieldBuilder<PothosSchemaTypes.ExtendDefaultTypes<typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never>, 'InputObject'>

const guardrailInputs = (t: InputFields) => ({
  label: t.string({ required: false, ...guardrailFields.label }),
  monthlyCapUsd: t.float({ required: false, ...guardrailFields.monthlyCapUsd }),
  enforcement: t.field({ type: Enforcement, required: false }),
  allowedModels: t.stringList({ required: false, ...guardrailFields.allowedModels }),
  rpm: t.int({ required: false, ...guardrailFields.rpm }),
  rpd: t.int({ required: false, ...guardrailFields.rpd }),
  expiresAt: t.field({ type: 'DateTime', required: false, ...guardrailFields.expiresAt }),
})

const MintKeyInput = builder.inputType('MintGuardrailedKeyInput', {
  fields: (t) => ({ clientId: t.id({ required: true }), ...guardrailInputs(t) }),
})

const UpdateKeyInput = builder.inputType('UpdateKeyInput', {
  description: 'Omitted fields stay as they are; null clears a field.',
  fields: (t) => guardrailInputs(t),
})

builder.queryFields((t) => ({
  key: t.field({ type: ApiKeyRef, args: { id: t.arg.id({ required: true }) }, resolve: (_r, { id }, ctx) => keys.getKey(ctx.deps, actorOf(ctx), String(id)) }),
  keys: t.connection({
    type: ApiKeyRef,
    args: { clientId: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => paginate(args, (page) => keys.listKeys(ctx.deps, actorOf(ctx), String(args.clientId), page)),
  }),
}))

builder.mutationFields((t) => ({
  mintGuardrailedKey: t.field({
    type: MintedKey,
    args: { input: t.arg({ type: MintKeyInput, required: true }) },
    resolve: (_r, { input }, ctx) => keys.mintGuardrailedKey(ctx.deps, actorOf(ctx), { ...input, clientId: String(input.clientId) }),
  }),
  updateKey: t.field({
    type: ApiKeyRef,
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateKeyInput, required: true }) },
    resolve: (_r, { id, input }, ctx) => keys.updateKey(ctx.deps, actorOf(ctx), String(id), input),
  }),
  revokeKey: t.field({
    type: ApiKeyRef,
    description: 'Permanently revokes a key. Refused unless confirm is true.',
    args: { id: t.arg.id({ required: true }), confirm: t.arg.boolean({ required: false }) },
    resolve: (_r, { id, confirm }, ctx) => keys.revokeKey(ctx.deps, actorOf(ctx), String(id), confirm === true),
  }),
}))
