/** @module Personal access tokens as their owners manage them. */
import { listAccessTokens, mintAccessToken, revokeAccessToken, type AccessToken } from '../tenancy/tokens.ts'
import { found, type Actor } from './actor.ts'
import { audit } from './audit.ts'
import type { AdminDeps } from './context.ts'
import { text } from './validate.ts'

export async function mintPat(deps: AdminDeps, actor: Actor, label: string): Promise<{ token: string; record: AccessToken }> {
  const clean = text(label, 'label', 100)
  return deps.sql.begin(async (tx) => {
    const minted = await mintAccessToken(tx, { userId: actor.userId, label: clean })
    await audit(tx, actor, { firmId: actor.firmId, action: 'createAccessToken', objectType: 'access_token', objectId: minted.record.id, after: minted.record })
    return minted
  })
}

export function listPats(deps: AdminDeps, actor: Actor): Promise<AccessToken[]> {
  return listAccessTokens(deps.sql, actor.userId)
}

export async function revokePat(deps: AdminDeps, actor: Actor, id: string): Promise<AccessToken> {
  return deps.sql.begin(async (tx) => {
    const t = found(await revokeAccessToken(tx, actor.userId, id), 'access token')
    await audit(tx, actor, { firmId: actor.firmId, action: 'revokeAccessToken', objectType: 'access_token', objectId: id, after: t })
    return t
  })
}
