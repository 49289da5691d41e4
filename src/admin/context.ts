/** @module What admin services need: the database, the change bus and the catalog. */
import type { CatalogModel } from '../billing/catalog.ts'
import type { StripeSetup } from '../billing/stripe.ts'
import type { Bus } from '../shared/bus.ts'
import type { Pool } from '../shared/db.ts'
import type { SealingKey } from '../shared/sealed.ts'

export interface AdminDeps {
  sql: Pool
  bus: Bus
  catalog: { current: ReadonlyMap<string, CatalogModel> }
  /** Null without STRIPE_SECRET_KEY: what needs Stripe then says so. */
  stripe: StripeSetup | null
  /** A client's prepaid credit moved by `deltaNano` outside the proxy (top-up, refund, adjustment). */
  onCreditChange: (clientId: string, deltaNano: bigint) => void
  /** VIAPI_ALLOW_PRIVATE_URLS: outbound URLs may point at loopback and private addresses. */
  allowPrivateUrls: boolean
  /** Seals firm-owned provider keys: the current key first. */
  secretKeys: SealingKey[]
}

/** Keyset page request: `after` is the last id seen, `limit` at most 100. */
export interface Page {
  after: string | null
  limit: number
}
