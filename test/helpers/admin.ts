/** GraphQL and JWT helpers for admin-plane tests. */
import { SignJWT } from 'jose'

export interface GqlResult<T = Record<string, unknown>> {
  status: number
  data: T | null
  errors: { message: string; extensions?: { code?: string; field?: string; reason?: string } }[] | undefined
}

export async function gql<T = Record<string, unknown>>(url: string, token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<GqlResult<T>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  })
  const body = (await res.json()) as { data?: T | null; errors?: GqlResult['errors'] }
  return { status: res.status, data: body.data ?? null, errors: body.errors }
}

/** Data of a call that must succeed. */
export async function ok<T = Record<string, unknown>>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const r = await gql<T>(url, token, query, variables)
  if (r.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`)
  return r.data!
}

/** The first error's code of a call that must fail. */
export async function failCode(url: string, token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<{ code: string | undefined; field: string | undefined; message: string }> {
  const r = await gql(url, token, query, variables)
  const e = r.errors?.[0]
  if (!e) throw new Error(`expected an error, got ${JSON.stringify(r.data)}`)
  return { code: e.extensions?.code, field: e.extensions?.field, message: e.message }
}

export function hsJwt(secret: string, claims: Record<string, unknown>, opts: { audience?: string; expiresIn?: string | number; issuer?: string } = {}): Promise<string> {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setAudience(opts.audience ?? 'authenticated')
  if (opts.issuer) jwt = jwt.setIssuer(opts.issuer)
  jwt = jwt.setExpirationTime(opts.expiresIn ?? '1h')
  return jwt.sign(new TextEncoder().encode(secret))
}

/** A new PREPAID client of the token's firm with `cents` of credit and one key. */
export async function prepaidClient(url: string, token: string, slug: string, cents: number): Promise<{ id: string; key: string }> {
  const c = await ok<{ createClient: { id: string } }>(url, token, 'mutation($n: String!) { createClient(input: {name: $n, slug: $n}) { id } }', { n: slug })
  const id = c.createClient.id
  await ok(url, token, 'mutation($c: ID!) { updateClient(id: $c, input: {billingMode: PREPAID}) { id } }', { c: id })
  await ok(url, token, 'mutation($c: ID!, $a: Int!) { adjustCredits(input: {clientId: $c, amountCents: $a, reason: "seed"}) { id } }', { c: id, a: cents })
  const k = await ok<{ mintGuardrailedKey: { secret: string } }>(url, token, 'mutation($c: ID!) { mintGuardrailedKey(input: {clientId: $c}) { secret } }', { c: id })
  return { id, key: k.mintGuardrailedKey.secret }
}
