-- Firm-owned provider keys (bring your own key), encrypted at rest with VIAPI_SECRET_KEY (AES-256-GCM).
create table provider_credentials (
  firm_id     text not null references firms (id) on delete cascade,
  provider    text not null,
  secret_enc  text not null,
  key_hint    text not null,
  base_url    text,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  primary key (firm_id, provider)
);
