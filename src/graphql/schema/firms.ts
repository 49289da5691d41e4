/** @module Firm and User types; me, firm and firms queries. */
import * as directory from '../../admin/directory.ts'
import type { Firm } from '../../tenancy/firms.ts'
import type { User } from '../../tenancy/users.ts'
import { builder } from '../builder.ts'
import { actorOf } from '../context.ts'
import { Role } from './enums.ts'
import { paginate } from './pagination.ts'

export const FirmRef = builder.objectRef<Firm>('Firm').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    markupPercent: t.float({ description: 'Default markup over provider cost, percent.', resolve: (f) => f.markupBps / 100 }),
    timezone: t.exposeString('timezone', { description: 'Months and days in usage reports follow this IANA zone.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
})

export const UserRef = builder.objectRef<User>('User').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    role: t.expose('role', { type: Role }),
    firm: t.field({ type: FirmRef, nullable: true, resolve: (u, _a, ctx) => (u.firmId ? ctx.loaders.firm.load(u.firmId) : null) }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
})

builder.queryFields((t) => ({
  me: t.field({ type: UserRef, resolve: (_r, _a, ctx) => directory.me(ctx.deps, actorOf(ctx)) }),
  firm: t.field({
    type: FirmRef,
    description: "Your firm; platform admins pass an id.",
    args: { id: t.arg.id({ required: false }) },
    resolve: (_r, args, ctx) => directory.firm(ctx.deps, actorOf(ctx), args.id == null ? null : String(args.id)),
  }),
  firms: t.connection({
    type: FirmRef,
    description: 'Every firm for platform admins; your own for firm admins.',
    resolve: (_r, args, ctx) => paginate(args, (page) => directory.firms(ctx.deps, actorOf(ctx), page)),
  }),
}))
