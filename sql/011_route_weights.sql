-- Weighted load balancing: when set, one weight per target (primary first, then fallbacks); the first target of a
-- request is drawn by weight, the rest follow as fallbacks.
alter table routes add column weights integer[];
