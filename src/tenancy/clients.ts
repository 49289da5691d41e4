/** @module Owns the clients table: a firm's client accounts. */
import type { Sql } from '../shared/db.ts'
import { newId } from '../shared/ids.ts'

export interface Client {
  id: string
  firmId: string
  name: string
  slug: string
  email: string | null
  createdAt: Date
}

interface ClientRow {
  id: string
  firm_id: string
  name: string
  slug: string
  email: string | null
  created_at: Date
}

const toClient = (r: ClientRow): Client => ({ id: r.id, firmId: r.firm_id, name: r.name, slug: r.slug, email: r.email, createdAt: r.created_at })

export async function createClient(sql: Sql, input: { firmId: string; name: string; slug: string; email?: string | null }): Promise<Client> {
  const [row] = await sql<ClientRow[]>`
    insert into clients (id, firm_id, name, slug, email)
    values (${newId('cli')}, ${input.firmId}, ${input.name}, ${input.slug}, ${input.email ?? null})
    returning id, firm_id, name, slug, email, created_at`
  return toClient(row!)
}
