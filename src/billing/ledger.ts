/**
 * @module Owns the credit_ledger table and the balance it keeps in credit_accounts: every change to a prepaid
 * balance is an appended entry (nano-dollars; debits negative) written in the same transaction as the running
 * balance, which can always be rebuilt from the entries.
 */
import type { Pool, Sql } from '../shared/db.ts'
import { newId } from '../shared/ids.ts'
import { describeError, log } from '../shared/log.ts'

/** hold and release book reservations that must outlive a request (async jobs); chat reservations stay in memory. */
export type LedgerKind = 'topup' | 'usage' | 'refund' | 'adjustment' | 'auto_reload' | 'hold' | 'release'

export interface LedgerEntry {
  id: string
  clientId: string
  kind: LedgerKind
  amountNano: bigint
  balanceAfterNano: bigint
  reason: string | null
  actor: string | null
  stripeRef: string | null
  createdAt: Date
}

interface Row {
  id: string
  client_id: string
  kind: LedgerKind
  amount_nano: bigint
  balance_after_nano: bigint
  reason: string | null
  actor: string | null
  stripe_ref: string | null
  created_at: Date
}

const toEntry = (r: Row): LedgerEntry => ({
  id: r.id,
  clientId: r.client_id,
  kind: r.kind,
  amountNano: r.amount_nano,
  balanceAfterNano: r.balance_after_nano,
  reason: r.reason,
  actor: r.actor,
  stripeRef: r.stripe_ref,
  createdAt: r.created_at,
})

/**
 * Appends an entry and moves the running balance, inside the caller's transaction. Returns null when an entry
 * with the same kind and Stripe reference exists (a replayed payment is not credited twice).
 */
export async function appendEntry(
  tx: Sql,
  e: { clientId: string; firmId: string; kind: LedgerKind; amountNano: bigint; reason?: string | null; actor?: string | null; stripeRef?: string | null },
): Promise<LedgerEntry | null> {
  if (e.stripeRef) {
    const [dup] = await tx`select 1 from credit_ledger where kind = ${e.kind} and stripe_ref = ${e.stripeRef}`
    if (dup) return null
  }
  const [acct] = await tx<{ balance_nano: bigint }[]>`
    insert into credit_accounts (client_id, firm_id, balance_nano) values (${e.clientId}, ${e.firmId}, ${e.amountNano})
    on conflict (client_id) do update set balance_nano = credit_accounts.balance_nano + excluded.balance_nano, updated_at = now()
    returning balance_nano`
  const [row] = await tx<Row[]>`
    insert into credit_ledger (id, client_id, firm_id, kind, amount_nano, balance_after_nano, reason, actor, stripe_ref)
    values (${newId('led')}, ${e.clientId}, ${e.firmId}, ${e.kind}, ${e.amountNano}, ${acct!.balance_nano}, ${e.reason ?? null}, ${e.actor ?? null}, ${e.stripeRef ?? null})
    returning *`
  return toEntry(row!)
}

/** Newest first; `after` is the last id of the previous page. */
export async function listLedger(sql: Sql, clientId: string, page: { after: string | null; limit: number }): Promise<LedgerEntry[]> {
  const rows = await sql<Row[]>`
    select * from credit_ledger where client_id = ${clientId} ${page.after ? sql`and id < ${page.after}` : sql``}
    order by id desc limit ${page.limit}`
  return rows.map(toEntry)
}

/** Clients whose running balance differs from the sum of their ledger entries. */
export async function ledgerMismatches(sql: Sql): Promise<{ clientId: string; balanceNano: bigint; ledgerNano: bigint }[]> {
  const rows = await sql<{ client_id: string; balance_nano: bigint; ledger_nano: bigint }[]>`
    select a.client_id, a.balance_nano, coalesce(sum(l.amount_nano), 0)::bigint as ledger_nano
    from credit_accounts a left join credit_ledger l on l.client_id = a.client_id
    group by a.client_id, a.balance_nano
    having a.balance_nano <> coalesce(sum(l.amount_nano), 0)`
  return rows.map((r) => ({ clientId: r.client_id, balanceNano: r.balance_nano, ledgerNano: r.ledger_nano }))
}

/** Sets a client's running balance to the sum of its entries; returns the rebuilt balance. */
export async function rebuildBalance(sql: Sql, clientId: string): Promise<bigint> {
  const [r] = await sql<{ balance_nano: bigint }[]>`
    update credit_accounts set balance_nano = (select coalesce(sum(amount_nano), 0) from credit_ledger where client_id = ${clientId}), updated_at = now()
    where client_id = ${clientId} returning balance_nano`
  return r?.balance_nano ?? 0n
}

/** The periodic consistency check: logs every client whose balance and ledger disagree. Never throws. */
export async function checkLedger(sql: Pool): Promise<number> {
  try {
    const bad = await ledgerMismatches(sql)
    for (const m of bad) log.error('credit balance differs from its ledger', { client_id: m.clientId, balance_nano: m.balanceNano.toString(), ledger_nano: m.ledgerNano.toString() })
    return bad.length
  } catch (err) {
    log.warn('ledger check failed', { error: describeError(err) })
    return -1
  }
}
