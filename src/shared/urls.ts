/**
 * @module Outbound URLs set by admins (firm webhooks, upstream base URLs): http(s) only, and no loopback,
 * private, link-local or metadata addresses unless VIAPI_ALLOW_PRIVATE_URLS=true. Hostnames are resolved and
 * every address checked, at the time the URL is set and again before each use.
 */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { InvalidRequest } from './errors.ts'

/** True for addresses a server on the public internet must never reach on a tenant's behalf. */
export function isPrivateAddress(ip: string): boolean {
  const v = isIP(ip)
  if (v === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number]
    return a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || a >= 224
  }
  if (v === 6) {
    const x = ip.toLowerCase()
    if (x === '::' || x === '::1') return true
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(x)
    if (mapped) return isPrivateAddress(mapped[1]!)
    return /^f[cd]/.test(x) || /^fe[89ab]/.test(x) || x.startsWith('ff')
  }
  return true
}

/** Parses and checks an outbound URL; throws InvalidRequest naming `field`. */
export async function checkOutboundUrl(raw: string, field: string, allowPrivate: boolean): Promise<URL> {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new InvalidRequest(`${field}: not a valid URL`, field, 'validation_failed')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidRequest(`${field}: must be an http(s) URL`, field, 'validation_failed')
  if (url.username || url.password) throw new InvalidRequest(`${field}: must not carry credentials`, field, 'validation_failed')
  if (allowPrivate) return url
  if (url.protocol !== 'https:') throw new InvalidRequest(`${field}: must use https`, field, 'validation_failed')
  const host = url.hostname.replace(/^\[|\]$/g, '')
  let addresses: string[]
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address)
  } catch {
    throw new InvalidRequest(`${field}: the host ${host} does not resolve`, field, 'validation_failed')
  }
  if (addresses.length === 0 || addresses.some(isPrivateAddress)) {
    throw new InvalidRequest(`${field}: loopback, private and link-local addresses are not allowed`, field, 'validation_failed')
  }
  return url
}
