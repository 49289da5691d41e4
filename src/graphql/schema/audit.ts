/** @module AuditEntry type and the auditLog query (newest first). */
import { auditLog } from '../../admin/audit.ts'
import type { AuditEntry } from '../../tenancy/audit.ts'
import { builder } from '../builder.ts'
import { actorOf } from '../context.ts'
import { paginate } from './pagination.ts'

const AuditEntryRef = builder.objectRef<AuditEntry>('AuditEntry').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    firmId: t.exposeID('firmId', { nullable: true }),
    actorId: t.exposeID('actorId', { nullable: true }),
    actorEmail: t.exposeString('actorEmail'),
    action: t.exposeString('action', { description: 'The mutation, e.g. revokeKey.' }),
    objectType: t.exposeString('objectType'),
    objectId: t.exposeID('objectId', { nullable: true }),
    before: t.expose('before', { type: 'JSON', nullable: true }),
    after: t.expose('after', { type: 'JSON', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
})

builder.queryFields((t) => ({
  auditLog: t.connection({ type: AuditEntryRef, resolve: (_r, args, ctx) => paginate(args, (page) => auditLog(ctx.deps, actorOf(ctx), page)) }),
}))
