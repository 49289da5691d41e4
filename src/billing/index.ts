/** @module The billing plugin: the Stripe webhook and the page Checkout returns to. */
import { Elysia } from 'elysia'
import { handleStripeWebhook, type WebhookDeps } from './webhooks.ts'

const RETURN_PAGE = (status: string) =>
  `<!doctype html><meta charset="utf-8"><title>Viapi billing</title><body style="font-family:system-ui;max-width:32rem;margin:4rem auto">` +
  `<h1>${status === 'cancelled' ? 'Nothing was changed' : 'Thank you'}</h1><p>${status === 'card-added' ? 'Your card is saved.' : status === 'paid' ? 'Your payment went through; credits appear within a minute.' : 'You can close this page.'}</p></body>`

export function billingPlugin(deps: WebhookDeps) {
  return new Elysia({ name: 'billing' })
    .post(
      '/v1/billing/stripe/webhook',
      async ({ request }) => {
        const applied = await handleStripeWebhook(deps, await request.text(), request.headers.get('stripe-signature'))
        return { received: true, applied }
      },
      { parse: 'none', detail: { tags: ['Billing'], summary: 'Stripe webhook (signed by Stripe)', hide: false } },
    )
    .get(
      '/v1/billing/return',
      ({ query }) => {
        const status = typeof query.status === 'string' ? query.status : ''
        return new Response(RETURN_PAGE(status), { headers: { 'content-type': 'text/html; charset=utf-8' } })
      },
      { detail: { hide: true } },
    )
}
