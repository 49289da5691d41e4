-- Admin plane: client spending limits, the audit log, prepaid credit accounts.

create table spending_limits (
  client_id           text primary key references clients (id) on delete cascade,
  firm_id             text not null references firms (id) on delete cascade,
  monthly_limit_nano  bigint not null check (monthly_limit_nano > 0),
  limit_clamped       boolean not null default false,
  alert_thresholds    integer[] not null default '{50,80,100}',
  enforcement         text not null default 'hard' check (enforcement in ('hard', 'soft')),
  updated_at          timestamptz not null default now()
);

-- Every admin mutation: who, what, which object, before/after (never secrets or hashes).
create table audit_log (
  id           text primary key,
  firm_id      text,
  actor_id     text,
  actor_email  text not null,
  action       text not null,
  object_type  text not null,
  object_id    text,
  before       jsonb,
  after        jsonb,
  created_at   timestamptz not null default now()
);
create index audit_log_firm on audit_log (firm_id, id);

-- Prepaid credit per client; the balance is nano-dollars.
create table credit_accounts (
  client_id                    text primary key references clients (id) on delete cascade,
  firm_id                      text not null references firms (id) on delete cascade,
  balance_nano                 bigint not null default 0,
  auto_reload_enabled          boolean not null default false,
  auto_reload_threshold_nano   bigint,
  auto_reload_amount_nano      bigint,
  card_on_file                 boolean not null default false,
  updated_at                   timestamptz not null default now()
);

create index usage_events_key_time on usage_events (key_id, created_at);
