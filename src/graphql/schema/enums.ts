/** @module Enums shared by several types. */
import { builder } from '../builder.ts'

export const Enforcement = builder.enumType('Enforcement', {
  description: 'HARD blocks requests past the cap; SOFT only alerts.',
  values: { HARD: { value: 'hard' }, SOFT: { value: 'soft' } } as const,
})

export const KeyStatus = builder.enumType('KeyStatus', {
  values: { ACTIVE: { value: 'active' }, REVOKED: { value: 'revoked' }, EXPIRED: { value: 'expired' } } as const,
})

export const BillingMode = builder.enumType('BillingMode', {
  description: 'PREPAID clients spend credits bought ahead; POSTPAID clients are invoiced for usage.',
  values: { PREPAID: { value: 'prepaid' }, POSTPAID: { value: 'postpaid' } } as const,
})

export const Role = builder.enumType('Role', {
  values: { FIRM_ADMIN: { value: 'firm_admin' }, PLATFORM_ADMIN: { value: 'platform_admin' } } as const,
})
