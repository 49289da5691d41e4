/** @module CreditBalance type and the creditBalance query. */
import * as directory from '../../admin/directory.ts'
import type { CreditAccount } from '../../billing/credits.ts'
import { nanoToCents } from '../../shared/money.ts'
import { builder } from '../builder.ts'
import { actorOf } from '../context.ts'

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
