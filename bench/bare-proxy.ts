/** The floor any Bun gateway can reach: a few lines of Bun.serve + fetch piping the body through. */
const upstream = process.env.UPSTREAM_URL!
const server = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  idleTimeout: 0,
  async fetch(req) {
    const res = await fetch(upstream + '/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: await req.text() })
    return new Response(res.body, { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' } })
  },
})
console.log(JSON.stringify({ port: server.port }))
export {}
