-- The audit trail: operator actions and the end user's steps in the flow. Append-only.
CREATE TABLE audit_events (
    id             TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id),
    action         TEXT NOT NULL,
    actor          TEXT NOT NULL,
    target         TEXT,
    link_id        TEXT,
    ip             TEXT,
    user_agent     TEXT,
    detail         TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX audit_events_by_time ON audit_events (environment_id, created_at DESC, id DESC);
CREATE INDEX audit_events_by_link ON audit_events (environment_id, link_id) WHERE link_id IS NOT NULL;
