/** @module Audit helpers for admin services: who did it, written in the same transaction as the change. */
import type { Sql } from '../shared/db.ts'
import { listAudit, writeAudit, type AuditEntry } from '../tenancy/audit.ts'
import { scopeOf, type Actor } from './actor.ts'
import type { AdminDeps, Page } from './context.ts'

export function audit(
  tx: Sql,
  actor: Actor,
  e: { firmId: string | null; action: string; objectType: string; objectId: string | null; before?: unknown; after?: unknown },
): Promise<void> {
  return writeAudit(tx, { ...e, actorId: actor.userId, actorEmail: actor.email })
}

export function auditLog(deps: AdminDeps, actor: Actor, page: Page): Promise<AuditEntry[]> {
  return listAudit(deps.sql, scopeOf(actor), page)
}
