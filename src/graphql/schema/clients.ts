/** @module Client type; clients and client queries; createClient, updateClient, setClientRateLimits. */
import * as clients from '../../admin/clients.ts'
import type { Client } from '../../tenancy/clients.ts'
import { builder } from '../builder.ts'
import { actorOf } from '../context.ts'
import { BillingMode } from './enums.ts'
import { FirmRef } from './firms.ts'
import { paginate } from './pagination.ts'

export const ClientRef = builder.objectRef<Client>('Client').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    slug: t.exposeString('slug'),
    email: t.exposeString('email', { nullable: true }),
    billingMode: t.expose('billingMode', { type: BillingMode }),
    rpm: t.exposeInt('rpm', { nullable: true, description: 'Requests per minute; null uses the default (60).' }),
    rpd: t.exposeInt('rpd', { nullable: true, description: 'Requests per day; null uses the default (10,000).' }),
    allowedModels: t.exposeStringList('allowedModels', { nullable: true, description: "Models and aliases every key of this client may call (a key's own list narrows it); null allows all." }),
    markupPercent: t.float({ nullable: true, description: "This client's markup override, percent; null uses the firm's.", resolve: (c) => (c.markupBps === null ? null : c.markupBps / 100) }),
    firm: t.field({ type: FirmRef, resolve: async (c, _a, ctx) => (await ctx.loaders.firm.load(c.firmId))! }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
})

const CreateClientInput = builder.inputType('CreateClientInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    slug: t.string({ required: true, description: 'Unique within the firm: lowercase letters, digits and dashes.' }),
    email: t.string({ required: false }),
    firmId: t.id({ required: false, description: 'Platform admins only: the firm to create the client in.' }),
  }),
})

const UpdateClientInput = builder.inputType('UpdateClientInput', {
  fields: (t) => ({
    name: t.string({ required: false }),
    email: t.string({ required: false, description: 'Empty string or null clears it.' }),
    billingMode: t.field({ type: BillingMode, required: false }),
    allowedModels: t.stringList({ required: false, description: 'null allows all models.' }),
  }),
})

const ClientRateLimitsInput = builder.inputType('ClientRateLimitsInput', {
  fields: (t) => ({
    clientId: t.id({ required: true }),
    rpm: t.int({ required: false, description: '1 to 10,000,000; null restores the default.' }),
    rpd: t.int({ required: false, description: '1 to 1,000,000,000; null restores the default.' }),
  }),
})

builder.queryFields((t) => ({
  clients: t.connection({ type: ClientRef, resolve: (_r, args, ctx) => paginate(args, (page) => clients.listClients(ctx.deps, actorOf(ctx), page)) }),
  client: t.field({ type: ClientRef, args: { id: t.arg.id({ required: true }) }, resolve: (_r, { id }, ctx) => clients.getClient(ctx.deps, actorOf(ctx), String(id)) }),
}))

builder.mutationFields((t) => ({
  createClient: t.field({
    type: ClientRef,
    args: { input: t.arg({ type: CreateClientInput, required: true }) },
    resolve: (_r, { input }, ctx) => clients.createClient(ctx.deps, actorOf(ctx), { ...input, firmId: input.firmId == null ? null : String(input.firmId) }),
  }),
  updateClient: t.field({
    type: ClientRef,
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateClientInput, required: true }) },
    resolve: (_r, { id, input }, ctx) => clients.updateClient(ctx.deps, actorOf(ctx), String(id), input),
  }),
  setClientRateLimits: t.field({
    type: ClientRef,
    args: { input: t.arg({ type: ClientRateLimitsInput, required: true }) },
    resolve: (_r, { input }, ctx) => clients.setClientRateLimits(ctx.deps, actorOf(ctx), { ...input, clientId: String(input.clientId) }),
  }),
}))
