/** @module Who is calling the admin plane, and what that lets them see. */
import { GatewayError, NotFound } from '../shared/errors.ts'
import type { FirmScope } from '../tenancy/scope.ts'
import type { Role } from '../tenancy/users.ts'

export interface Actor {
  userId: string
  email: string
  role: Role
  /** The admin's firm; null for platform admins, who see every firm. */
  firmId: string | null
  via: 'jwt' | 'pat' | 'oauth'
}

export class Unauthenticated extends GatewayError {
  constructor(message = 'Authentication required: send "Authorization: Bearer <dashboard JWT or vi_pat_ token>".') {
    super(401, 'authentication_error', 'unauthenticated', message)
  }
}

/** The firms an actor may read or change. */
export function scopeOf(actor: Actor): FirmScope {
  return actor.role === 'platform_admin' ? null : actor.firmId
}

/** The firm a write lands in: a firm admin's own; a platform admin must name one. */
export function targetFirm(actor: Actor, requested: string | null | undefined): string {
  if (actor.role === 'platform_admin') {
    if (!requested) throw new GatewayError(400, 'invalid_request_error', 'validation_failed', 'firmId is required for platform admins', 'firmId')
    return requested
  }
  if (requested && requested !== actor.firmId) throw new NotFound('No such firm.')
  return actor.firmId!
}

/** Found, or the same not-found whether the object is missing or belongs to another firm. */
export function found<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new NotFound(`No such ${what}.`)
  return value
}
