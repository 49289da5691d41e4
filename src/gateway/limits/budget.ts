/**
 * @module Money guardrails in memory: key budget caps, client spending limits and prepaid credit, all in
 * nano-dollars of billed amount. Admission reserves the most a request can cost, clamped to what is left, and
 * settling replaces the reservation by the real amount, so overspend is bounded by one request's maximum cost
 * per replica. Several replicas each use 1/N of what is left between syncs (sync.ts); counters start from
 * Postgres (this month's billed usage, the credit balance) and are shared through Redis.
 */
import type { Enforcement } from '../../tenancy/keys.ts'

export type BudgetKind = 'spend' | 'credit'

export interface Budget {
  /** Redis key suffix and map key, e.g. "sp:k:key_…:2026-11" or "cr:cli_…". */
  id: string
  kind: BudgetKind
  /** Spend this month (spend) or balance (credit), as of the last sync, all replicas included. */
  global: bigint
  /** Billed here since the last sync snapshot, and in a sync under way (spend added, or credit used). */
  unsynced: bigint
  sending: bigint
  /** Reserved here by requests still running. */
  reserved: bigint
  /** The value loaded from Postgres, offered to Redis when it has none (rebuild after loss). */
  seed: bigint
  touchedAt: number
}

/** One money limit on a request. */
export interface MoneyCheck {
  budget: Budget
  /** Cap or limit for spend budgets; unused for credit. */
  limit: bigint
  enforcement: Enforcement
  /** Named in the refusal, e.g. "this key's monthly budget cap". */
  name: string
}

/** What is left of a check for this replica: its share of the global remainder, less its own use. */
export function allowance(c: MoneyCheck, share: number): bigint {
  const b = c.budget
  const remaining = b.kind === 'spend' ? c.limit - b.global : b.global
  const mine = remaining <= 0n ? remaining : share >= 1 ? remaining : (remaining * BigInt(Math.round(share * 1_000_000))) / 1_000_000n
  return mine - b.unsynced - b.sending - b.reserved
}

export interface Reservation {
  amount: bigint
  checks: MoneyCheck[]
}

/**
 * Refused by the first hard check with nothing left (or, when the cost is known up front — images, video — with less
 * left than it); else reserves min(worst case, least allowance) on every check.
 */
export function reserve(checks: MoneyCheck[], worstCase: bigint, share: number, mustCover = false): Reservation | { refused: MoneyCheck } {
  let amount = worstCase
  for (const c of checks) {
    if (c.enforcement !== 'hard') continue
    const left = allowance(c, share)
    if (left <= 0n || (mustCover && left < worstCase)) return { refused: c }
    if (left < amount) amount = left
  }
  for (const c of checks) c.budget.reserved += amount
  return { amount, checks }
}

/** Replaces the reservation by the billed amount on every budget it touched. */
export function settle(r: Reservation, billedNano: bigint, now: number): void {
  for (const c of r.checks) {
    c.budget.reserved -= r.amount
    c.budget.unsynced += billedNano
    c.budget.touchedAt = now
  }
}

/** Spend before and after a settle, for threshold alerts: percents of the limit crossed by this amount. */
export function crossed(thresholds: number[], limit: bigint, before: bigint, after: bigint): number[] {
  if (limit <= 0n) return []
  return thresholds.filter((t) => before * 100n < limit * BigInt(t) && after * 100n >= limit * BigInt(t))
}
