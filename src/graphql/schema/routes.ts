/** @module Route type; routes query; createRoute, deleteRoute. */
import * as routes from '../../admin/routes.ts'
import type { Route } from '../../tenancy/routes.ts'
import { builder } from '../builder.ts'
import { actorOf } from '../context.ts'
import { paginate } from './pagination.ts'

export const RouteRef = builder.objectRef<Route>('Route').implement({
  description: 'An alias a client can pass as `model`, mapped to an ordered list of provider:model targets.',
  fields: (t) => ({
    id: t.exposeID('id'),
    clientId: t.exposeID('clientId', { nullable: true }),
    alias: t.exposeString('alias'),
    target: t.exposeString('target', { description: 'The primary "provider:model".' }),
    fallbacks: t.exposeStringList('fallbacks', { description: 'Tried in order when the primary fails before answering.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
})

const CreateRouteInput = builder.inputType('CreateRouteInput', {
  fields: (t) => ({
    clientId: t.id({ required: true }),
    alias: t.string({ required: true }),
    target: t.string({ required: true, description: '"provider:model", e.g. "openai:gpt-4o".' }),
    fallbacks: t.stringList({ required: false }),
  }),
})

builder.queryFields((t) => ({
  routes: t.connection({
    type: RouteRef,
    args: { clientId: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => paginate(args, (page) => routes.listRoutes(ctx.deps, actorOf(ctx), String(args.clientId), page)),
  }),
}))

builder.mutationFields((t) => ({
  createRoute: t.field({
    type: RouteRef,
    args: { input: t.arg({ type: CreateRouteInput, required: true }) },
    resolve: (_r, { input }, ctx) => routes.createRoute(ctx.deps, actorOf(ctx), { ...input, clientId: String(input.clientId) }),
  }),
  deleteRoute: t.field({
    type: RouteRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => routes.deleteRoute(ctx.deps, actorOf(ctx), String(id)),
  }),
}))
