-- Per-unit prices for media models, as the catalog ships them (USD decimal strings, exact):
-- images {"image": {"size", "quality", "prices": {"<size>/<quality>" | "<size>" | "*": "0.04"}}}.
alter table models add column media jsonb;
