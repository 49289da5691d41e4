-- Usage is stored in columnar chunks: one row per client per minute per meter flush, its events' values as arrays.
-- A row per event cost Postgres ~5 µs of CPU per proxied request (heap tuple, WAL, primary key, client index); a
-- chunk costs that once for up to a batch of events, ~1 µs an event in all.
--
-- Each array holds the chunk's events in one order; a column whose value is the same for every event of the
-- flush holds that value once. Every event of a chunk has t_min <= created_at <= t_max < t_min + 1 minute, so a
-- reader of [from, to) looks only at chunks with t_min in (from - 1 minute, to), from the client index.
-- The chunk's id is its first event's request id: writing the same chunk twice conflicts, and the writer then
-- skips the events already stored (a request id is stored once).
create table usage_chunks (
  id                 text primary key,
  firm_id            text not null,
  client_id          text not null,
  t_min              timestamptz not null,
  t_max              timestamptz not null,
  n                  integer not null,
  ids                text[] not null,
  key_id             text[] not null,
  endpoint           text[] not null,
  model_requested    text[] not null,
  model_used         text[] not null,
  provider           text[] not null,
  prompt_tokens      integer[] not null,
  completion_tokens  integer[] not null,
  cached_tokens      integer[] not null,
  cost_nano          bigint[] not null,
  markup_nano        bigint[] not null,
  billed_nano        bigint[] not null,
  status             integer[] not null,
  outcome            text[] not null,
  error_code         text[] not null,
  usage_estimated    boolean[] not null,
  stream             boolean[] not null,
  latency_ms         integer[] not null,
  created_ms         bigint[] not null,
  attempt            integer[] not null
);
create index usage_chunks_client_time on usage_chunks (client_id, t_min);

-- Stored out of line uncompressed: compressing a chunk's arrays cost more CPU than their rows' inserts saved.
alter table usage_chunks
  alter column ids set storage external, alter column key_id set storage external,
  alter column prompt_tokens set storage external, alter column completion_tokens set storage external,
  alter column cached_tokens set storage external, alter column cost_nano set storage external,
  alter column markup_nano set storage external, alter column billed_nano set storage external,
  alter column latency_ms set storage external, alter column created_ms set storage external;

insert into usage_chunks
select min(id), firm_id, client_id, min(created_at), max(created_at), count(*),
  array_agg(id order by created_at, id), array_agg(key_id order by created_at, id),
  array_agg(endpoint order by created_at, id), array_agg(model_requested order by created_at, id),
  array_agg(model_used order by created_at, id), array_agg(provider order by created_at, id),
  array_agg(prompt_tokens order by created_at, id), array_agg(completion_tokens order by created_at, id),
  array_agg(cached_tokens order by created_at, id), array_agg(cost_nano order by created_at, id),
  array_agg(markup_nano order by created_at, id), array_agg(billed_nano order by created_at, id),
  array_agg(status order by created_at, id), array_agg(outcome order by created_at, id),
  array_agg(error_code order by created_at, id), array_agg(usage_estimated order by created_at, id),
  array_agg(stream order by created_at, id), array_agg(latency_ms order by created_at, id),
  array_agg((extract(epoch from created_at) * 1000)::bigint order by created_at, id),
  array_agg(attempt order by created_at, id)
from usage_events
group by firm_id, client_id, date_trunc('minute', created_at);

drop table usage_events;

-- One row per event, as the table was. `chunk_at` and `chunk_end` are the chunk's t_min and t_max: a reader bounds
-- them (see above) so that only the chunks that can hold its window are unpacked.
create view usage_events as
select u.id, c.firm_id, c.client_id,
  case when cardinality(c.key_id) = 1 then c.key_id[1] else u.key_id end as key_id,
  case when cardinality(c.endpoint) = 1 then c.endpoint[1] else u.endpoint end as endpoint,
  case when cardinality(c.model_requested) = 1 then c.model_requested[1] else u.model_requested end as model_requested,
  case when cardinality(c.model_used) = 1 then c.model_used[1] else u.model_used end as model_used,
  case when cardinality(c.provider) = 1 then c.provider[1] else u.provider end as provider,
  case when cardinality(c.prompt_tokens) = 1 then c.prompt_tokens[1] else u.prompt_tokens end as prompt_tokens,
  case when cardinality(c.completion_tokens) = 1 then c.completion_tokens[1] else u.completion_tokens end as completion_tokens,
  case when cardinality(c.cached_tokens) = 1 then c.cached_tokens[1] else u.cached_tokens end as cached_tokens,
  case when cardinality(c.cost_nano) = 1 then c.cost_nano[1] else u.cost_nano end as cost_nano,
  case when cardinality(c.markup_nano) = 1 then c.markup_nano[1] else u.markup_nano end as markup_nano,
  case when cardinality(c.billed_nano) = 1 then c.billed_nano[1] else u.billed_nano end as billed_nano,
  case when cardinality(c.status) = 1 then c.status[1] else u.status end as status,
  case when cardinality(c.outcome) = 1 then c.outcome[1] else u.outcome end as outcome,
  case when cardinality(c.error_code) = 1 then c.error_code[1] else u.error_code end as error_code,
  case when cardinality(c.usage_estimated) = 1 then c.usage_estimated[1] else u.usage_estimated end as usage_estimated,
  case when cardinality(c.stream) = 1 then c.stream[1] else u.stream end as stream,
  case when cardinality(c.latency_ms) = 1 then c.latency_ms[1] else u.latency_ms end as latency_ms,
  timestamptz 'epoch' + (case when cardinality(c.created_ms) = 1 then c.created_ms[1] else u.created_ms end) * interval '1 millisecond' as created_at,
  case when cardinality(c.attempt) = 1 then c.attempt[1] else u.attempt end as attempt,
  c.t_min as chunk_at, c.t_max as chunk_end
from usage_chunks c
cross join lateral unnest(c.ids, c.key_id, c.endpoint, c.model_requested, c.model_used, c.provider, c.prompt_tokens,
  c.completion_tokens, c.cached_tokens, c.cost_nano, c.markup_nano, c.billed_nano, c.status, c.outcome, c.error_code,
  c.usage_estimated, c.stream, c.latency_ms, c.created_ms, c.attempt)
  as u(id, key_id, endpoint, model_requested, model_used, provider, prompt_tokens, completion_tokens, cached_tokens,
    cost_nano, markup_nano, billed_nano, status, outcome, error_code, usage_estimated, stream, latency_ms, created_ms,
    attempt);
