/** @module First-run setup: a firm, its admin and an admin token; with demo, a client, a key and a default route. */
import type { Pool } from '../shared/db.ts'
import { InvalidRequest } from '../shared/errors.ts'
import { createClient } from './clients.ts'
import { createFirm } from './firms.ts'
import { mintKey } from './keys.ts'
import { createRoute } from './routes.ts'
import { mintAccessToken } from './tokens.ts'
import { createUser, findUserByEmail } from './users.ts'

export interface BootstrapInput {
  firmName: string
  email: string
  demo: boolean
  /** Route target for the demo client's `default` alias. */
  demoTarget: string
  markupBps?: number
}

export interface BootstrapResult {
  firm_id: string
  admin_token: string
  client_id?: string
  api_key?: string
}

export async function bootstrap(sql: Pool, input: BootstrapInput): Promise<BootstrapResult> {
  if (!input.firmName.trim()) throw new InvalidRequest('--firm must not be empty', 'firm')
  if (!/^[^\s@]+@[^\s@]+$/.test(input.email)) throw new InvalidRequest(`--email is not an email address: ${input.email}`, 'email')
  return sql.begin(async (tx) => {
    if (await findUserByEmail(tx, input.email)) throw new InvalidRequest(`a user with the email ${input.email} already exists`, 'email')
    const firm = await createFirm(tx, { name: input.firmName.trim(), markupBps: input.markupBps })
    const user = await createUser(tx, { email: input.email, role: 'firm_admin', firmId: firm.id })
    const { token } = await mintAccessToken(tx, { userId: user.id, label: 'bootstrap' })
    const result: BootstrapResult = { firm_id: firm.id, admin_token: token }
    if (input.demo) {
      const client = await createClient(tx, { firmId: firm.id, name: 'Demo client', slug: 'demo', email: null })
      await createRoute(tx, { firmId: firm.id, clientId: client.id, alias: 'default', target: input.demoTarget })
      const { secret } = await mintKey(tx, { firmId: firm.id, clientId: client.id, label: 'demo' })
      result.client_id = client.id
      result.api_key = secret
    }
    return result
  })
}
