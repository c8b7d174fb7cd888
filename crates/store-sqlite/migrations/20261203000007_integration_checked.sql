-- When an integration's credentials were last checked (the dashboard shows it beside the next
-- check). Keep in step with the other backend.
ALTER TABLE integrations ADD COLUMN checked_at INTEGER;
