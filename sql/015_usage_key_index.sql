-- Every usage query filters by client or firm (a key belongs to one client, so the client index serves key
-- questions too); this index only made each usage insert dearer.
drop index if exists usage_events_key_time;
