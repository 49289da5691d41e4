/**
 * @module How the providers send an upstream request: the pooled HTTP/1.1 client (http1.ts) for http and https URLs,
 * else fetch — which is also what runs behind an egress proxy or with VIAPI_UPSTREAM_CLIENT=fetch.
 */
import { abortSignalOf } from './cancel.ts'
import { http1, type Http1Request } from './http1.ts'
import { replyOf, type UpstreamReply } from './upstream-body.ts'

const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'] as const

/**
 * Whether requests go through the pooled client: yes, unless VIAPI_UPSTREAM_CLIENT=fetch or an egress proxy is
 * configured (fetch honours HTTP(S)_PROXY and NO_PROXY; this client does not speak to proxies).
 */
export function pooledClientEnabled(env: Record<string, string | undefined> = process.env): boolean {
  if (env.VIAPI_UPSTREAM_CLIENT === 'fetch') return false
  return !PROXY_VARS.some((k) => env[k])
}

const parsed = new Map<string, URL | null>()

/** Sends one upstream request with the pooled client (http and https URLs), else with fetch. */
export function upstreamRequest(url: string, req: Http1Request, pooled: boolean): Promise<UpstreamReply> {
  let u = parsed.get(url)
  if (u === undefined) {
    // Base URLs come from configuration and catalog entries: few, so a small cache saves parsing each request.
    if (parsed.size > 1000) parsed.clear()
    const p = URL.canParse(url) ? new URL(url) : null
    u = p && (p.protocol === 'http:' || p.protocol === 'https:') ? p : null
    parsed.set(url, u)
  }
  if (pooled && u) return http1(u, req)
  // Upstream URLs must not be bounced elsewhere (design: no redirects).
  return fetch(url, { method: req.method, headers: req.headers, body: req.body, signal: abortSignalOf(req.signal), redirect: 'manual' }).then(replyOf)
}
