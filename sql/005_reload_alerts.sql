-- Auto-reload bookkeeping (one claim at a time across replicas) and firm alert delivery.

alter table credit_accounts add column reload_cycle integer not null default 0;
alter table credit_accounts add column reload_failures integer not null default 0;
alter table credit_accounts add column reload_pending_until timestamptz;

alter table firms add column webhook_url text;
alter table firms add column webhook_secret text;

alter table alerts add column delivered_at timestamptz;
alter table alerts add column attempts integer not null default 0;
alter table alerts add column next_attempt_at timestamptz not null default now();
alter table alerts add column last_error text;
create index alerts_due on alerts (next_attempt_at) where delivered_at is null;
