/** A local fake of the Stripe API for the `stripe` SDK (pointed at it by STRIPE_API_BASE): records what it is asked. */
import { LocalServer } from './local-server.ts'

export interface StripeCall {
  method: string
  path: string
  params: URLSearchParams
  idempotencyKey: string | null
}

export class FakeStripe extends LocalServer {
  calls: StripeCall[] = []
  /** When set, creating a PaymentIntent fails as a declined card. */
  declineCards = false
  private n = 0
  private byIdempotency = new Map<string, unknown>()
  get base(): string {
    return this.origin
  }

  created(path: string): StripeCall[] {
    return this.calls.filter((c) => c.method === 'POST' && c.path === path)
  }

  protected async handle(req: Request): Promise<Response> {
    const url = new URL(req.url)
    const params = new URLSearchParams(req.method === 'POST' ? await req.text() : url.search)
    const key = req.headers.get('idempotency-key')
    this.calls.push({ method: req.method, path: url.pathname, params, idempotencyKey: key })
    if (key && this.byIdempotency.has(key)) {
      const prior = this.byIdempotency.get(key) as { error?: unknown }
      return Response.json(prior, { status: prior.error ? 402 : 200 })
    }
    const id = (p: string) => `${p}_fake${++this.n}`
    let body: Record<string, unknown>
    if (req.method === 'POST' && url.pathname === '/v1/customers') body = { id: id('cus'), object: 'customer', name: params.get('name'), email: params.get('email') }
    else if (req.method === 'POST' && url.pathname === '/v1/checkout/sessions') {
      const sid = id('cs')
      body = { id: sid, object: 'checkout.session', mode: params.get('mode'), customer: params.get('customer'), url: `https://checkout.stripe.test/c/pay/${sid}`, expires_at: Number(params.get('expires_at')) }
    } else if (req.method === 'GET' && url.pathname.startsWith('/v1/setup_intents/')) body = { id: url.pathname.split('/').pop(), object: 'setup_intent', payment_method: 'pm_card_visa', status: 'succeeded' }
    else if (req.method === 'POST' && url.pathname === '/v1/payment_intents') {
      if (this.declineCards) {
        const err = { error: { type: 'card_error', code: 'card_declined', message: 'Your card was declined.' } }
        if (key) this.byIdempotency.set(key, err)
        return Response.json(err, { status: 402 })
      }
      body = { id: id('pi'), object: 'payment_intent', amount: Number(params.get('amount')), status: 'succeeded', metadata: { client_id: params.get('metadata[client_id]'), kind: params.get('metadata[kind]') } }
    }
    else return Response.json({ error: { type: 'invalid_request_error', message: `fake stripe: no route ${req.method} ${url.pathname}` } }, { status: 404 })
    if (key) this.byIdempotency.set(key, body)
    return Response.json(body)
  }
}
