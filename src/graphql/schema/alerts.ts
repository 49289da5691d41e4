/** @module Alert type, the alerts query, and setFirmWebhook. */
import * as alerts from '../../admin/alerts.ts'
import type { Alert } from '../../billing/alerts.ts'
import { builder } from '../builder.ts'
import { actorOf } from '../context.ts'
import { paginate } from './pagination.ts'

const AlertRef = builder.objectRef<Alert>('Alert').implement({
  description: 'A firm-facing event, e.g. spending_limit.threshold_crossed, key.cap_reached, credits.low_balance, auto_reload.failed.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Stable: the id webhook deliveries carry, for dedupe.' }),
    type: t.exposeString('type'),
    clientId: t.exposeID('clientId', { nullable: true }),
    keyId: t.exposeID('keyId', { nullable: true }),
    period: t.exposeString('period'),
    threshold: t.exposeInt('threshold'),
    data: t.expose('data', { type: 'JSON' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
    deliveryAttempts: t.exposeInt('attempts'),
    lastDeliveryError: t.exposeString('lastError', { nullable: true }),
  }),
})

const FirmWebhook = builder.objectRef<{ url: string | null; secret: string | null }>('FirmWebhook').implement({
  fields: (t) => ({
    url: t.exposeString('url', { nullable: true }),
    secret: t.exposeString('secret', { nullable: true, description: 'HMAC key for X-Viapi-Signature; shown only here.' }),
  }),
})

const SetFirmWebhookInput = builder.inputType('SetFirmWebhookInput', {
  fields: (t) => ({
    url: t.string({ required: false, description: 'https URL; null removes the webhook.' }),
    firmId: t.id({ required: false, description: 'Platform admins only.' }),
  }),
})

builder.queryFields((t) => ({
  alerts: t.connection({ type: AlertRef, description: 'Newest first.', resolve: (_r, args, ctx) => paginate(args, (page) => alerts.alerts(ctx.deps, actorOf(ctx), page)) }),
}))

builder.mutationFields((t) => ({
  setFirmWebhook: t.field({
    type: FirmWebhook,
    args: { input: t.arg({ type: SetFirmWebhookInput, required: true }) },
    resolve: (_r, { input }, ctx) => alerts.setFirmWebhook(ctx.deps, actorOf(ctx), { url: input.url ?? null, firmId: input.firmId == null ? null : String(input.firmId) }),
  }),
}))
