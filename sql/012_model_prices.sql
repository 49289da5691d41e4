-- Per-firm prices for catalog models (negotiated rates, or a firm's own markup built into cost). Nano-dollars per
-- million tokens; null falls back to the input price, as in the catalog.
create table model_prices (
  firm_id                     text not null references firms (id) on delete cascade,
  model_id                    text not null references models (id) on delete cascade,
  input_nano_per_mtok         bigint not null check (input_nano_per_mtok >= 0),
  cached_input_nano_per_mtok  bigint check (cached_input_nano_per_mtok >= 0),
  output_nano_per_mtok        bigint not null check (output_nano_per_mtok >= 0),
  cache_write_nano_per_mtok   bigint check (cache_write_nano_per_mtok >= 0),
  updated_at                  timestamptz not null default now(),
  primary key (firm_id, model_id)
);
