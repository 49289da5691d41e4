/** @module Owns the model_prices table: a firm's own prices for catalog models, overriding the list prices. */
import type { Sql } from '../shared/db.ts'
import type { TokenPrices } from './pricing.ts'

interface Row {
  model_id: string
  input_nano_per_mtok: bigint
  cached_input_nano_per_mtok: bigint | null
  output_nano_per_mtok: bigint
  cache_write_nano_per_mtok: bigint | null
}

const toPrices = (r: Row): TokenPrices => ({
  inputPerMtok: r.input_nano_per_mtok,
  cachedInputPerMtok: r.cached_input_nano_per_mtok,
  outputPerMtok: r.output_nano_per_mtok,
  cacheWritePerMtok: r.cache_write_nano_per_mtok,
})

export async function firmPrices(sql: Sql, firmId: string): Promise<Map<string, TokenPrices>> {
  const rows = await sql<Row[]>`select * from model_prices where firm_id = ${firmId}`
  return new Map(rows.map((r) => [r.model_id, toPrices(r)]))
}

export async function setFirmPrice(sql: Sql, firmId: string, modelId: string, p: TokenPrices): Promise<void> {
  await sql`
    insert into model_prices (firm_id, model_id, input_nano_per_mtok, cached_input_nano_per_mtok, output_nano_per_mtok, cache_write_nano_per_mtok)
    values (${firmId}, ${modelId}, ${p.inputPerMtok}, ${p.cachedInputPerMtok}, ${p.outputPerMtok}, ${p.cacheWritePerMtok ?? null})
    on conflict (firm_id, model_id) do update set input_nano_per_mtok = excluded.input_nano_per_mtok, cached_input_nano_per_mtok = excluded.cached_input_nano_per_mtok,
      output_nano_per_mtok = excluded.output_nano_per_mtok, cache_write_nano_per_mtok = excluded.cache_write_nano_per_mtok, updated_at = now()`
}

export async function deleteFirmPrice(sql: Sql, firmId: string, modelId: string): Promise<boolean> {
  return (await sql`delete from model_prices where firm_id = ${firmId} and model_id = ${modelId} returning model_id`).length > 0
}
