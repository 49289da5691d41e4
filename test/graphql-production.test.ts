/** Production GraphQL settings, in-process: introspection only for authenticated callers, no GraphiQL. */
import { expect, test } from 'bun:test'
import type { AdminDeps } from '../src/admin/context.ts'
import { createGraphQL } from '../src/graphql/yoga.ts'

// Introspection and the GraphiQL page never touch the services, so no database is needed here.
const deps = {} as AdminDeps
const actor = { userId: 'usr_1', email: 'a@b.c', role: 'firm_admin' as const, firmId: 'firm_1', via: 'pat' as const }
const introspect = (yoga: ReturnType<typeof createGraphQL>, who: typeof actor | null) =>
  yoga.fetch(new Request('http://x/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }) }), { actor: who })

test('in production, anonymous introspection is refused and members may introspect', async () => {
  const yoga = createGraphQL(deps, true)
  const anon = (await (await introspect(yoga, null)).json()) as { errors?: { message: string }[] }
  expect(anon.errors?.[0]?.message).toMatch(/introspection/i)
  const member = (await (await introspect(yoga, actor)).json()) as { data?: unknown }
  expect(member.data).toEqual({ __schema: { queryType: { name: 'Query' } } })
})

test('outside production anonymous introspection works and GraphiQL is served; in production it is not', async () => {
  const dev = createGraphQL(deps, false)
  expect(((await (await introspect(dev, null)).json()) as { data?: unknown }).data).toBeTruthy()
  const page = await dev.fetch(new Request('http://x/graphql', { headers: { accept: 'text/html' } }), { actor: null })
  expect(await page.text()).toContain('GraphiQL')
  const prod = await createGraphQL(deps, true).fetch(new Request('http://x/graphql', { headers: { accept: 'text/html' } }), { actor: null })
  expect(await prod.text()).not.toContain('GraphiQL')
})
