/** @module Validation and clamping of admin input: clear errors naming the field, clamps reported not silent. */
import { InvalidRequest } from '../shared/errors.ts'
import { usdToNano } from '../shared/money.ts'

/** Caps and spending limits above this are clamped to it (USD per month). */
export const MAX_MONTHLY_USD = 500
export const MAX_RPM = 10_000_000
export const MAX_RPD = 1_000_000_000

const invalid = (field: string, message: string) => new InvalidRequest(`${field}: ${message}`, field, 'validation_failed')

/** A positive USD amount per month, clamped at $500; returns nano-dollars and whether it was clamped. */
export function monthlyUsd(value: number, field: string): { nano: bigint; clamped: boolean } {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, 'must be a number of US dollars')
  if (value <= 0) throw invalid(field, 'must be greater than zero')
  if (value > MAX_MONTHLY_USD) return { nano: usdToNano(MAX_MONTHLY_USD), clamped: true }
  return { nano: usdToNano(value), clamped: false }
}

export function rate(value: number, field: string, max: number): number {
  if (!Number.isInteger(value) || value <= 0) throw invalid(field, 'must be a whole number greater than zero')
  if (value > max) throw invalid(field, `must be at most ${max.toLocaleString('en-US')}`)
  return value
}

export function text(value: string, field: string, max = 200): string {
  const v = value.trim()
  if (v === '') throw invalid(field, 'must not be empty')
  if (v.length > max) throw invalid(field, `must be at most ${max} characters`)
  return v
}

export function slug(value: string, field = 'slug'): string {
  if (!/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/.test(value)) throw invalid(field, 'must be 1-64 lowercase letters, digits or dashes, not starting or ending with a dash')
  return value
}

export function email(value: string, field = 'email'): string {
  const v = value.trim()
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) || v.length > 254) throw invalid(field, 'must be an email address')
  return v
}

export function modelList(values: string[], field = 'allowedModels'): string[] {
  if (values.length > 200) throw invalid(field, 'must list at most 200 models')
  const out = [...new Set(values.map((v) => v.trim()))]
  for (const v of out) if (!/^[A-Za-z0-9._:/-]{1,128}$/.test(v)) throw invalid(field, `"${v}" is not a model id`)
  return out
}

export function thresholds(values: number[], field = 'alertThresholds'): number[] {
  if (values.length > 10) throw invalid(field, 'must list at most 10 thresholds')
  for (const v of values) if (!Number.isInteger(v) || v < 1 || v > 100) throw invalid(field, 'each threshold must be a whole percent from 1 to 100')
  return [...new Set(values)].sort((a, b) => a - b)
}

/** Markup percent with at most two decimals, 0 to 1000 %, as basis points. */
export function percentToBps(value: number, field = 'percent'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1000) throw invalid(field, 'must be a percent from 0 to 1000')
  const bps = Math.round(value * 100)
  if (Math.abs(bps - value * 100) > 1e-6) throw invalid(field, 'must have at most two decimals')
  return bps
}

export function future(value: Date, field: string, now = Date.now()): Date {
  if (Number.isNaN(value.getTime())) throw invalid(field, 'must be an ISO 8601 date-time')
  if (value.getTime() <= now) throw invalid(field, 'must be in the future')
  return value
}
