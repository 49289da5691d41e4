-- Async video jobs: durable, claimed by one gateway worker at a time (FOR UPDATE SKIP LOCKED plus a lease), and
-- settled exactly once (settled_at), which writes the job's usage event and, for prepaid clients, releases the hold.
create table video_jobs (
  id                 text primary key,
  firm_id            text not null references firms (id) on delete cascade,
  client_id          text not null references clients (id) on delete cascade,
  key_id             text not null references api_keys (id) on delete cascade,
  model_requested    text not null,
  model_id           text not null,
  provider           text not null,
  upstream_model     text not null,
  -- the submission: prompt, duration_seconds, image, ratio, …
  request            jsonb not null,
  duration_seconds   integer not null,
  status             text not null default 'queued' check (status in ('queued', 'running', 'completed', 'failed')),
  provider_job_id    text,
  result_url         text,
  error_code         text,
  error_message      text,
  markup_bps         integer not null,
  per_second_nano    bigint not null,
  -- billed amount held at submission: the most the job can cost on any of its targets
  reserved_nano      bigint not null check (reserved_nano >= 0),
  prepaid            boolean not null,
  -- the spending month the hold counts in (the firm's timezone), to refund the right counters
  period             text not null,
  cost_nano          bigint,
  markup_nano        bigint,
  billed_nano        bigint,
  polls              integer not null default 0,
  next_poll_at       timestamptz not null default now(),
  claimed_until      timestamptz,
  deadline_at        timestamptz not null,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  settled_at         timestamptz
);
create index video_jobs_due on video_jobs (next_poll_at) where settled_at is null;
create index video_jobs_open on video_jobs (client_id) where settled_at is null;
