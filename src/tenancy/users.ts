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

/** Stores an argon2id hash of the password (Bun.password). */
export async function setPassword(sql: Sql, userId: string, password: string): Promise<void> {
  const hash = await Bun.password.hash(password, { algorithm: 'argon2id' })
  await sql`update users set password_hash = ${hash} where id = ${userId}`
}

/** The user whose email and password match, or null. Takes the same time whether or not the email exists. */
export async function checkPassword(sql: Sql, email: string, password: string): Promise<User | null> {
  const [row] = await sql<(UserRow & { password_hash: string | null })[]>`
    select id, firm_id, email, role, created_at, password_hash from users where lower(email) = lower(${email.trim()})`
  const hash = row?.password_hash ?? DUMMY_HASH
  const ok = await Bun.password.verify(password, await hash)
  return row && row.password_hash && ok ? toUser(row) : null
}

const DUMMY_HASH = Bun.password.hash('not a password of anyone', { algorithm: 'argon2id' })
