-- OAuth 2.1 for the MCP endpoint: registered clients, one-time authorization codes, rotating refresh tokens, and
-- the key access tokens are signed with (shared by every replica). Codes and tokens are stored hashed.

create table oauth_clients (
  id             text primary key,
  name           text not null default '',
  redirect_uris  text[] not null,
  created_at     timestamptz not null default now()
);

create table oauth_codes (
  code_hash       text primary key,
  client_id       text not null references oauth_clients (id) on delete cascade,
  user_id         text not null references users (id) on delete cascade,
  redirect_uri    text not null,
  code_challenge  text not null,
  resource        text not null,
  scope           text not null default '',
  expires_at      timestamptz not null,
  used_at         timestamptz
);

create table oauth_refresh_tokens (
  token_hash  text primary key,
  client_id   text not null references oauth_clients (id) on delete cascade,
  user_id     text not null references users (id) on delete cascade,
  resource    text not null,
  scope       text not null default '',
  expires_at  timestamptz not null,
  revoked_at  timestamptz,
  created_at  timestamptz not null default now()
);

create table oauth_keys (
  id          text primary key,
  secret      text not null,
  created_at  timestamptz not null default now()
);
