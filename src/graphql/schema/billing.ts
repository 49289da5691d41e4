/** @module Prepaid credit: balance, ledger, adjustments, auto-reload and Stripe Checkout links. */
import * as billing from '../../admin/billing.ts'
import * as directory from '../../admin/directory.ts'
import type { CreditAccount } from '../../billing/credits.ts'
import type { VideoJob } from '../../billing/jobs.ts'
import type { LedgerEntry } from '../../billing/ledger.ts'
import { nanoToCents, nanoToUsd } from '../../shared/money.ts'
import { builder } from '../builder.ts'
import { actorOf } from '../context.ts'
import { paginate } from './pagination.ts'

const AutoReload = builder.objectRef<CreditAccount['autoReload']>('AutoReload').implement({
  fields: (t) => ({
    enabled: t.exposeBoolean('enabled'),
    thresholdCents: t.float({ nullable: true, resolve: (a) => (a.thresholdNano === null ? null : nanoToCents(a.thresholdNano)) }),
    amountCents: t.float({ nullable: true, resolve: (a) => (a.amountNano === null ? null : nanoToCents(a.amountNano)) }),
  }),
})

const CreditBalance = builder.objectRef<CreditAccount>('CreditBalance').implement({
  fields: (t) => ({
    id: t.exposeID('clientId'),
    clientId: t.exposeID('clientId'),
    balanceCents: t.float({ description: 'Prepaid balance in cents (decimal, not rounded).', resolve: (a) => nanoToCents(a.balanceNano) }),
    cardOnFile: t.exposeBoolean('cardOnFile'),
    autoReload: t.field({ type: AutoReload, resolve: (a) => a.autoReload }),
  }),
})

builder.queryFields((t) => ({
  creditBalance: t.field({
    type: CreditBalance,
    args: { clientId: t.arg.id({ required: true }) },
    resolve: (_r, { clientId }, ctx) => directory.creditBalance(ctx.deps, actorOf(ctx), String(clientId)),
  }),
}))

const LedgerEntryRef = builder.objectRef<LedgerEntry>('CreditLedgerEntry').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.exposeString('kind', { description: 'topup, usage, refund, adjustment, auto_reload, or hold and release (video jobs).' }),
    amountCents: t.float({ description: 'Signed: debits are negative. Decimal cents, not rounded.', resolve: (e) => nanoToCents(e.amountNano) }),
    balanceAfterCents: t.float({ resolve: (e) => nanoToCents(e.balanceAfterNano) }),
    reason: t.exposeString('reason', { nullable: true }),
    actor: t.exposeString('actor', { nullable: true }),
    stripeRef: t.exposeString('stripeRef', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
})

const VideoJobRef = builder.objectRef<VideoJob>('VideoJob').implement({
  description: 'An async video generation job and what it holds or billed.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The viapi_job_id.' }),
    status: t.exposeString('status', { description: 'queued, running, completed or failed.' }),
    model: t.exposeString('modelRequested'),
    provider: t.exposeString('provider'),
    modelUsed: t.exposeString('upstreamModel'),
    durationSeconds: t.exposeInt('durationSeconds'),
    resultUrl: t.exposeString('resultUrl', { nullable: true }),
    errorCode: t.exposeString('errorCode', { nullable: true }),
    errorMessage: t.exposeString('errorMessage', { nullable: true }),
    reservedUsd: t.float({ description: 'Held until the job settles; 0 after.', resolve: (j) => (j.settledAt ? 0 : nanoToUsd(j.reservedNano)) }),
    costUsd: t.float({ nullable: true, resolve: (j) => (j.costNano === null ? null : nanoToUsd(j.costNano)) }),
    markupUsd: t.float({ nullable: true, resolve: (j) => (j.markupNano === null ? null : nanoToUsd(j.markupNano)) }),
    billedUsd: t.float({ nullable: true, description: 'Once settled.', resolve: (j) => (j.billedNano === null ? null : nanoToUsd(j.billedNano)) }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    settledAt: t.expose('settledAt', { type: 'DateTime', nullable: true }),
  }),
})

builder.queryFields((t) => ({
  videoJobs: t.connection({
    type: VideoJobRef,
    description: "A client's video jobs, newest first.",
    args: { clientId: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => paginate(args, (page) => billing.videoJobs(ctx.deps, actorOf(ctx), String(args.clientId), page)),
  }),
}))

const CheckoutUrl = builder.objectRef<{ url: string; expiresAt: Date }>('CheckoutUrl').implement({
  fields: (t) => ({
    url: t.exposeString('url', { description: 'A one-time Stripe Checkout URL.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
})

const AdjustCreditsInput = builder.inputType('AdjustCreditsInput', {
  fields: (t) => ({
    clientId: t.id({ required: true }),
    amountCents: t.int({ required: true, description: 'Positive credits, negative debits. A prepaid balance cannot go below zero.' }),
    reason: t.string({ required: true }),
  }),
})

const SetAutoReloadInput = builder.inputType('SetAutoReloadInput', {
  fields: (t) => ({
    clientId: t.id({ required: true }),
    enabled: t.boolean({ required: true }),
    thresholdCents: t.int({ required: false, description: 'Reload when the balance falls below this.' }),
    amountCents: t.int({ required: false, description: 'How much to charge the saved card each time.' }),
  }),
})

const TopUpInput = builder.inputType('TopUpCheckoutInput', {
  fields: (t) => ({ clientId: t.id({ required: true }), amountCents: t.int({ required: true, description: '50 to 10,000,000.' }) }),
})

builder.queryFields((t) => ({
  creditLedger: t.connection({
    type: LedgerEntryRef,
    description: 'Newest first.',
    args: { clientId: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => paginate(args, (page) => billing.creditLedger(ctx.deps, actorOf(ctx), String(args.clientId), page)),
  }),
}))

builder.mutationFields((t) => ({
  adjustCredits: t.field({
    type: LedgerEntryRef,
    args: { input: t.arg({ type: AdjustCreditsInput, required: true }) },
    resolve: (_r, { input }, ctx) => billing.adjustCredits(ctx.deps, actorOf(ctx), { ...input, clientId: String(input.clientId) }),
  }),
  setAutoReload: t.field({
    type: CreditBalance,
    args: { input: t.arg({ type: SetAutoReloadInput, required: true }) },
    resolve: (_r, { input }, ctx) => billing.setAutoReload(ctx.deps, actorOf(ctx), { ...input, clientId: String(input.clientId) }),
  }),
  createBillingPortalUrl: t.field({
    type: CheckoutUrl,
    description: "A one-time Stripe Checkout URL for the client's card (setup mode), valid 24 hours.",
    args: { clientId: t.arg.id({ required: true }) },
    resolve: (_r, { clientId }, ctx) => billing.createBillingPortalUrl(ctx.deps, actorOf(ctx), String(clientId)),
  }),
  createTopUpCheckoutUrl: t.field({
    type: CheckoutUrl,
    args: { input: t.arg({ type: TopUpInput, required: true }) },
    resolve: (_r, { input }, ctx) => billing.createTopUpCheckoutUrl(ctx.deps, actorOf(ctx), { clientId: String(input.clientId), amountCents: input.amountCents }),
  }),
}))
