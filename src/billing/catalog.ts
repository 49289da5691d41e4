/** @module Owns the models table: the shipped catalog (catalog.json) synced into it, and the in-memory copy the hot path reads. */
import type { Pool, Sql } from '../shared/db.ts'
import { usdToNano } from '../shared/money.ts'
import type { ImageUnitPrices, TokenPrices } from './pricing.ts'
import shipped from './catalog.json'

export interface CatalogModel {
  id: string
  provider: string
  upstreamModel: string
  kind: string
  contextWindow: number | null
  maxOutputTokens: number | null
  zdr: boolean
  prices: TokenPrices
  /** Image models: per-image prices (nano-dollars) and the size and quality a request without them gets. */
  image: ImageUnitPrices | null
  /** Video models: nano-dollars per second and the durations the provider accepts. */
  video: VideoPricing | null
}

export interface VideoPricing {
  perSecondNano: bigint
  durations: number[]
  defaultSeconds: number
}

interface ShippedMedia {
  image?: { size: string; quality: string; prices: Record<string, string> }
  video?: { per_second: string; durations: number[]; default_seconds: number }
}

interface ShippedModel {
  id: string
  provider: string
  upstream_model: string
  kind: string
  context_window: number | null
  max_output_tokens: number | null
  zdr: boolean
  prices?: { input: string; cached_input: string | null; output: string; cache_write?: string | null }
  media?: ShippedMedia
}

/** "2.50" USD per million tokens is 2.5e9 nano-dollars per million tokens. */
function nanoPerMtok(usd: string | null): bigint | null {
  return usd === null ? null : usdToNano(usd)
}

/**
 * Upserts the shipped catalog into the models table (models removed from the file are kept: old usage refers to
 * them). Replicas starting together take turns: concurrent upserts of the same rows can deadlock.
 */
export async function syncCatalog(sql: Pool, models: ShippedModel[] = (shipped as { models: ShippedModel[] }).models): Promise<void> {
  const rows = models.map((m) => ({
    id: m.id,
    provider: m.provider,
    upstream_model: m.upstream_model,
    kind: m.kind,
    context_window: m.context_window,
    max_output_tokens: m.max_output_tokens,
    zdr: m.zdr,
    input_nano_per_mtok: nanoPerMtok(m.prices?.input ?? null),
    cached_input_nano_per_mtok: nanoPerMtok(m.prices?.cached_input ?? null),
    output_nano_per_mtok: nanoPerMtok(m.prices?.output ?? null),
    cache_write_nano_per_mtok: nanoPerMtok(m.prices?.cache_write ?? null),
    media: m.media ? sql.json(m.media as never) : null,
  }))
  if (rows.length === 0) return
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${CATALOG_LOCK})`
    await tx`
    insert into models ${tx(rows)}
    on conflict (id) do update set
      provider = excluded.provider, upstream_model = excluded.upstream_model, kind = excluded.kind,
      context_window = excluded.context_window, max_output_tokens = excluded.max_output_tokens, zdr = excluded.zdr,
      input_nano_per_mtok = excluded.input_nano_per_mtok, cached_input_nano_per_mtok = excluded.cached_input_nano_per_mtok,
      output_nano_per_mtok = excluded.output_nano_per_mtok, cache_write_nano_per_mtok = excluded.cache_write_nano_per_mtok,
      media = excluded.media, updated_at = now()`
  })
}

const CATALOG_LOCK = 7_361_514_283

interface ModelRow {
  id: string
  provider: string
  upstream_model: string
  kind: string
  context_window: number | null
  max_output_tokens: number | null
  zdr: boolean
  input_nano_per_mtok: bigint | null
  cached_input_nano_per_mtok: bigint | null
  output_nano_per_mtok: bigint | null
  cache_write_nano_per_mtok: bigint | null
  media: ShippedMedia | null
}

function imagePricing(media: ShippedMedia | null): ImageUnitPrices | null {
  const i = media?.image
  if (!i) return null
  return { size: i.size, quality: i.quality, prices: new Map(Object.entries(i.prices).map(([k, usd]) => [k, usdToNano(usd)])) }
}

export async function loadCatalog(sql: Sql): Promise<Map<string, CatalogModel>> {
  const rows = await sql<ModelRow[]>`select * from models order by id`
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        provider: r.provider,
        upstreamModel: r.upstream_model,
        kind: r.kind,
        contextWindow: r.context_window,
        maxOutputTokens: r.max_output_tokens,
        zdr: r.zdr,
        prices: {
          inputPerMtok: r.input_nano_per_mtok ?? 0n,
          cachedInputPerMtok: r.cached_input_nano_per_mtok,
          outputPerMtok: r.output_nano_per_mtok ?? 0n,
          cacheWritePerMtok: r.cache_write_nano_per_mtok,
        },
        image: imagePricing(r.media),
        video: r.media?.video ? { perSecondNano: usdToNano(r.media.video.per_second), durations: r.media.video.durations, defaultSeconds: r.media.video.default_seconds } : null,
      },
    ]),
  )
}
