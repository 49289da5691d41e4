-- Guardrails: a client-level model allowlist, and alert events (threshold crossings, caps reached) once per period.

alter table clients add column allowed_models text[];

create table alerts (
  id          text primary key,
  firm_id     text not null references firms (id) on delete cascade,
  client_id   text references clients (id) on delete cascade,
  key_id      text,
  type        text not null,
  -- The period the alert belongs to (e.g. '2026-11'), so each fires once per period.
  period      text not null,
  threshold   integer not null default 0,
  data        jsonb not null default '{}',
  created_at  timestamptz not null default now(),
  unique nulls not distinct (type, client_id, key_id, period, threshold)
);
create index alerts_firm on alerts (firm_id, id);
