-- Webhook endpoints and the delivery queue (SQLite). Keep in step with store-postgres.

CREATE TABLE webhook_endpoints (
    id                  TEXT PRIMARY KEY,
    environment_id      TEXT NOT NULL REFERENCES environments (id),
    url                 TEXT NOT NULL,
    -- Subscribed event types, comma-separated (types never contain commas).
    event_types         TEXT NOT NULL,
    enabled             INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    disabled_reason     TEXT CHECK (disabled_reason IN ('MANUAL', 'GONE', 'FAILING')),
    secret_key_id       TEXT NOT NULL,
    secret_nonce        BLOB NOT NULL,
    secret_ciphertext   BLOB NOT NULL,
    previous_key_id     TEXT,
    previous_nonce      BLOB,
    previous_ciphertext BLOB,
    previous_expires_at INTEGER,
    failing_since       INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_endpoints_by_environment ON webhook_endpoints (environment_id, created_at);
CREATE INDEX webhook_endpoints_by_secret_key ON webhook_endpoints (secret_key_id);

-- One row per (event, endpoint), written in the transaction that writes the event. While an
-- attempt runs, next_attempt_at is the end of its lease, so a crashed worker's deliveries
-- simply become due again.
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL REFERENCES events (id),
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    environment_id   TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    lease_id         TEXT,
    last_http_status INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (event_id, endpoint_id)
) STRICT;
-- The worker's queue: pending rows per endpoint, in due order (a claim takes a fair share of
-- each endpoint's due rows).
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_attempt_at)
    WHERE status = 'PENDING';
-- The delivery log pages by (created_at, id) per endpoint.
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created_at, id);

CREATE TABLE webhook_attempts (
    delivery_id      TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number           INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    http_status      INTEGER,
    error            TEXT,
    response_excerpt TEXT,
    PRIMARY KEY (delivery_id, number)
) STRICT;
