-- Alerts are delivered from the moment a firm sets its webhook, not retroactively.
alter table firms add column webhook_set_at timestamptz;
