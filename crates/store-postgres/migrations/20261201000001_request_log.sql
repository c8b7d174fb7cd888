-- The passthrough request log: one row per call to a tool, never a body, a header or a
-- credential. Append-only. integration_id has no foreign key: the server writes the log in
-- batches that may land after the integration's deletion, and a key would fail the whole batch
-- for one late entry (which stays, reachable only by its id). delete_integration deletes the
-- integration's rows in the transaction that deletes the integration.
CREATE TABLE request_log (
    id             TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id),
    integration_id TEXT NOT NULL,
    tool           TEXT NOT NULL,
    api            TEXT NOT NULL,
    method         TEXT NOT NULL,
    path           TEXT NOT NULL,
    remote_status  BIGINT,
    error          TEXT,
    duration_ms    BIGINT NOT NULL,
    request_bytes  BIGINT NOT NULL,
    response_bytes BIGINT NOT NULL,
    attempts       BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX request_log_by_integration
    ON request_log (environment_id, integration_id, created_at DESC, id DESC);
