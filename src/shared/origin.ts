/** @module The gateway's public origin (OAuth metadata and audiences, links it hands out): VIAPI_PUBLIC_URL, else the request's. */

export function publicOrigin(request: Request, env: Record<string, string | undefined>): string {
  if (env.VIAPI_PUBLIC_URL) return env.VIAPI_PUBLIC_URL.replace(/\/+$/, '')
  const url = new URL(request.url)
  return url.origin
}
