/** @module Owns the credit_accounts table: a client's prepaid balance (nano-dollars) and auto-reload settings. */
import type { Sql } from '../shared/db.ts'

export interface CreditAccount {
  clientId: string
  balanceNano: bigint
  cardOnFile: boolean
  autoReload: { enabled: boolean; thresholdNano: bigint | null; amountNano: bigint | null }
}

interface Row {
  client_id: string
  balance_nano: bigint
  card_on_file: boolean
  auto_reload_enabled: boolean
  auto_reload_threshold_nano: bigint | null
  auto_reload_amount_nano: bigint | null
}

/** The client's account; a client that never had one has a zero balance and no auto-reload. */
export async function getCreditAccount(sql: Sql, clientId: string): Promise<CreditAccount> {
  const [r] = await sql<Row[]>`select * from credit_accounts where client_id = ${clientId}`
  return {
    clientId,
    balanceNano: r?.balance_nano ?? 0n,
    cardOnFile: r?.card_on_file ?? false,
    autoReload: { enabled: r?.auto_reload_enabled ?? false, thresholdNano: r?.auto_reload_threshold_nano ?? null, amountNano: r?.auto_reload_amount_nano ?? null },
  }
}
