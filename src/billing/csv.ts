/** @module RFC 4180 CSV for usage export: quoting, and neutralising cells a spreadsheet would run as formulas. */
import type { ExportRow } from './usage-export.ts'

export const USAGE_CSV_HEADER =
  'time,request_id,client_id,client_name,key_prefix,model_requested,model_used,provider,prompt_tokens,completion_tokens,cached_tokens,cost_usd,markup_usd,billed_usd,status,stream'

/** A text cell: a leading = + - @ (or tab/CR) gets a ' so spreadsheets show it as text; quotes, commas and newlines are quoted. */
export function csvText(value: string | null): string {
  if (value === null) return ''
  let s = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  if (/[",\r\n]/.test(s)) s = `"${s.replace(/"/g, '""')}"`
  return s
}

/** Exact decimal USD from nano-dollars (9 decimals), so column sums reconcile to the nano. */
export function usdDecimal(nano: bigint): string {
  const neg = nano < 0n
  const abs = neg ? -nano : nano
  return `${neg ? '-' : ''}${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0')}`
}

export function usageCsvLine(r: ExportRow): string {
  return [
    r.created_at.toISOString(),
    csvText(r.id),
    csvText(r.client_id),
    csvText(r.client_name),
    csvText(r.key_prefix),
    csvText(r.model_requested),
    csvText(r.model_used),
    csvText(r.provider),
    r.prompt_tokens,
    r.completion_tokens,
    r.cached_tokens,
    usdDecimal(r.cost_nano),
    usdDecimal(r.markup_nano),
    usdDecimal(r.billed_nano),
    r.status,
    r.stream,
  ].join(',')
}
