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
    weights: t.exposeIntList('weights', { nullable: true, description: 'When set, the first target of each request is drawn by these weights (target, then fallbacks); the rest follow as fallbacks.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
})

const CreateRouteInput = builder.inputType('CreateRouteInput', {
  fields: (t) => ({
    clientId: t.id({ required: false, description: 'Omit for a firm-wide route, which every client of the firm gets unless it has its own alias.' }),
    firmId: t.id({ required: false, description: 'Platform admins only, for a firm-wide route.' }),
    alias: t.string({ required: true }),
    target: t.string({ required: true, description: '"provider:model", e.g. "openai:gpt-4o".' }),
    fallbacks: t.stringList({ required: false }),
    weights: t.intList({ required: false, description: 'Split traffic by weight: one per target (target first).' }),
  }),
})

builder.queryFields((t) => ({
  routes: t.connection({
    type: RouteRef,
    description: "A client's routes; without clientId, the firm-wide routes.",
    args: { clientId: t.arg.id({ required: false }), firmId: t.arg.id({ required: false }) },
    resolve: (_r, args, ctx) => paginate(args, (page) => routes.listRoutes(ctx.deps, actorOf(ctx), args.clientId == null ? null : String(args.clientId), page, args.firmId == null ? null : String(args.firmId))),
  }),
}))

builder.mutationFields((t) => ({
  createRoute: t.field({
    type: RouteRef,
    args: { input: t.arg({ type: CreateRouteInput, required: true }) },
    resolve: (_r, { input }, ctx) => routes.createRoute(ctx.deps, actorOf(ctx), { ...input, clientId: input.clientId == null ? null : String(input.clientId), firmId: input.firmId == null ? null : String(input.firmId) }),
  }),
  deleteRoute: t.field({
    type: RouteRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => routes.deleteRoute(ctx.deps, actorOf(ctx), String(id)),
  }),
}))
