-- The dashboard's reads: an environment's deliveries by time (the overview's counts), and the
-- integration list filtered by status or by failing credentials, newest first. Keep in step
-- with the other backend.
CREATE INDEX webhook_deliveries_by_environment ON webhook_deliveries (environment_id, created_at);
CREATE INDEX integrations_by_status ON integrations (environment_id, status, created_at, id);
CREATE INDEX integrations_failing ON integrations (environment_id, created_at, id)
    WHERE failing_since IS NOT NULL;
