/** @module Owns the users table: firm admins and platform admins. */
import type { Sql } from '../shared/db.ts'
import { newId } from '../shared/ids.ts'

export type Role = 'firm_admin' | 'platform_admin'

export interface User {
  id: string
  firmId: string | null
  email: string
  role: Role
  createdAt: Date
}

interface UserRow {
  id: string
  firm_id: string | null
  email: string
  role: Role
  created_at: Date
}

const toUser = (r: UserRow): User => ({ id: r.id, firmId: r.firm_id, email: r.email, role: r.role, createdAt: r.created_at })

export async function createUser(sql: Sql, input: { email: string; role: Role; firmId: string | null }): Promise<User> {
  const [row] = await sql<UserRow[]>`
    insert into users (id, firm_id, email, role) values (${newId('usr')}, ${input.firmId}, ${input.email.trim()}, ${input.role})
    returning id, firm_id, email, role, created_at`
  return toUser(row!)
}

export async function findUserByEmail(sql: Sql, email: string): Promise<User | null> {
  const [row] = await sql<UserRow[]>`select id, firm_id, email, role, created_at from users where lower(email) = lower(${email.trim()})`
  return row ? toUser(row) : null
}

export async function getUser(sql: Sql, id: string): Promise<User | null> {
  const [row] = await sql<UserRow[]>`select id, firm_id, email, role, created_at from users where id = ${id}`
  return row ? toUser(row) : null
}
