-- Failed attempts that another attempt followed are usage events too (nothing billed); reports count requests, so
-- they are told apart: 0 for the request's own event, n for its n-th failed attempt.
alter table usage_events add column attempt integer not null default 0;
