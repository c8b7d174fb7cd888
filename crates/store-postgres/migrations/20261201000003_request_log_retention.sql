-- Retention: the oldest entries of the whole log are pruned in small batches (the server's
-- retention.rs), which needs them in time order across integrations.
CREATE INDEX request_log_by_time ON request_log (created_at);
