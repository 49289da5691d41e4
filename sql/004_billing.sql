-- Prepaid credit ledger (append-only; credit_accounts.balance_nano is its running sum), Stripe links and the
-- Stripe events already applied (each applied once, in the transaction of its effect).

alter table credit_accounts add column stripe_customer_id text unique;
alter table credit_accounts add column payment_method_id text;

create table credit_ledger (
  id                  text primary key,
  client_id           text not null references clients (id) on delete cascade,
  firm_id             text not null references firms (id) on delete cascade,
  -- topup, usage, refund, adjustment, auto_reload
  kind                text not null,
  amount_nano         bigint not null,
  balance_after_nano  bigint not null,
  reason              text,
  actor               text,
  -- PaymentIntent, charge or refund id: a credit from Stripe is keyed by it, so replays never double-credit.
  stripe_ref          text,
  created_at          timestamptz not null default now()
);
create index credit_ledger_client on credit_ledger (client_id, id);
create unique index credit_ledger_stripe_ref on credit_ledger (kind, stripe_ref) where stripe_ref is not null;

create table stripe_events (
  id          text primary key,
  type        text not null,
  applied_at  timestamptz not null default now()
);
