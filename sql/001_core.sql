-- Tenancy, keys, routes, model catalog and usage events. Money is integer nano-dollars (BIGINT).

create table firms (
  id          text primary key,
  name        text not null,
  markup_bps  integer not null default 0 check (markup_bps >= 0 and markup_bps <= 1000000),
  timezone    text not null default 'UTC',
  created_at  timestamptz not null default now()
);

create table users (
  id             text primary key,
  firm_id        text references firms (id) on delete cascade,
  email          text not null,
  role           text not null check (role in ('firm_admin', 'platform_admin')),
  password_hash  text,
  created_at     timestamptz not null default now(),
  check (role = 'platform_admin' or firm_id is not null)
);
create unique index users_email_key on users (lower(email));

-- Personal access tokens (vi_pat_): stored as a SHA-256 hash and a display prefix.
create table access_tokens (
  id            text primary key,
  user_id       text not null references users (id) on delete cascade,
  label         text not null,
  token_hash    text not null unique,
  prefix        text not null,
  created_at    timestamptz not null default now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);

create table clients (
  id            text primary key,
  firm_id       text not null references firms (id) on delete cascade,
  name          text not null,
  slug          text not null,
  email         text,
  markup_bps    integer check (markup_bps >= 0 and markup_bps <= 1000000),
  billing_mode  text not null default 'postpaid' check (billing_mode in ('prepaid', 'postpaid')),
  rpm           integer check (rpm > 0),
  rpd           integer check (rpd > 0),
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  unique (firm_id, slug)
);

-- Client API keys (vi_live_): never the secret, only its hash and the first 12 characters.
create table api_keys (
  id                text primary key,
  firm_id           text not null references firms (id) on delete cascade,
  client_id         text not null references clients (id) on delete cascade,
  label             text not null default '',
  key_hash          text not null unique,
  prefix            text not null,
  status            text not null default 'active' check (status in ('active', 'revoked')),
  monthly_cap_nano  bigint check (monthly_cap_nano > 0),
  cap_clamped       boolean not null default false,
  enforcement       text not null default 'hard' check (enforcement in ('hard', 'soft')),
  allowed_models    text[],
  rpm               integer check (rpm > 0),
  rpd               integer check (rpd > 0),
  expires_at        timestamptz,
  created_at        timestamptz not null default now(),
  revoked_at        timestamptz
);
create index api_keys_client on api_keys (client_id);

-- The model catalog, synced from src/billing/catalog.json at start. Prices: nano-dollars per million tokens.
create table models (
  id                          text primary key,
  provider                    text not null,
  upstream_model              text not null,
  kind                        text not null default 'chat',
  context_window              integer,
  max_output_tokens           integer,
  zdr                         boolean not null default false,
  input_nano_per_mtok         bigint,
  cached_input_nano_per_mtok  bigint,
  output_nano_per_mtok        bigint,
  updated_at                  timestamptz not null default now()
);

-- alias -> ordered targets ("provider:model"); client_id null is a firm-wide route.
create table routes (
  id          text primary key,
  firm_id     text not null references firms (id) on delete cascade,
  client_id   text references clients (id) on delete cascade,
  alias       text not null,
  target      text not null,
  fallbacks   text[] not null default '{}',
  created_at  timestamptz not null default now(),
  unique nulls not distinct (firm_id, client_id, alias)
);
create index routes_client on routes (client_id);

-- One row per admitted request; id is the request id, so replaying a spilled batch is harmless.
create table usage_events (
  id                 text primary key,
  firm_id            text not null,
  client_id          text not null,
  key_id             text not null,
  endpoint           text not null default 'chat.completions',
  model_requested    text not null,
  model_used         text,
  provider           text,
  prompt_tokens      integer not null default 0,
  completion_tokens  integer not null default 0,
  cached_tokens      integer not null default 0,
  cost_nano          bigint not null default 0,
  markup_nano        bigint not null default 0,
  billed_nano        bigint not null default 0,
  status             integer not null,
  outcome            text not null,
  error_code         text,
  usage_estimated    boolean not null default false,
  stream             boolean not null default false,
  latency_ms         integer not null default 0,
  created_at         timestamptz not null
);
create index usage_events_client_time on usage_events (client_id, created_at);
create index usage_events_firm_time on usage_events (firm_id, created_at);
