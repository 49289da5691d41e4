-- Providers that price writes to their prompt cache (Anthropic) get their own rate.
alter table models add column cache_write_nano_per_mtok bigint;
