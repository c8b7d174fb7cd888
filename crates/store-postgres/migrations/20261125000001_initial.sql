-- Plugboard's initial schema (PostgreSQL). Timestamps are Unix milliseconds (BIGINT) so that both
-- backends compare and order them identically. Keep in step with store-sqlite.

CREATE TABLE environments (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE CHECK (name IN ('production', 'development')),
    scope_config_id TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id             TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id),
    name           TEXT NOT NULL,
    key_hash       BYTEA NOT NULL UNIQUE,
    prefix         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    revoked_at     BIGINT
);

CREATE TABLE integrations (
    id                         TEXT PRIMARY KEY,
    environment_id             TEXT NOT NULL REFERENCES environments (id),
    tool                       TEXT NOT NULL,
    category                   TEXT NOT NULL,
    status                     TEXT NOT NULL,
    setup_status               TEXT NOT NULL,
    end_user_email             TEXT,
    end_user_organization_name TEXT NOT NULL,
    end_user_origin_id         TEXT,
    scope_config_id            TEXT NOT NULL,
    remote_environment         TEXT,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
);

-- The list endpoint pages by (created_at, id) within an environment, optionally by customer.
CREATE INDEX integrations_by_environment ON integrations (environment_id, created_at, id);
CREATE INDEX integrations_by_origin ON integrations (environment_id, end_user_origin_id, created_at, id);

CREATE TABLE credentials (
    integration_id TEXT PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
    key_id         TEXT NOT NULL,
    nonce          BYTEA NOT NULL,
    ciphertext     BYTEA NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX credentials_by_key ON credentials (key_id);

-- A link completes at most one integration: the primary key enforces it.
CREATE TABLE consumed_links (
    link_id        TEXT PRIMARY KEY,
    integration_id TEXT NOT NULL,
    consumed_at    BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);

CREATE TABLE activation_tokens (
    token_hash     BYTEA PRIMARY KEY,
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    environment_id TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    redeemed_at    BIGINT
);
CREATE INDEX activation_tokens_by_integration ON activation_tokens (integration_id);

CREATE TABLE magic_links (
    id                         TEXT PRIMARY KEY,
    environment_id             TEXT NOT NULL REFERENCES environments (id),
    integration_id             TEXT,
    end_user_email             TEXT,
    end_user_organization_name TEXT NOT NULL,
    end_user_origin_id         TEXT,
    category                   TEXT NOT NULL,
    tool                       TEXT,
    created_at                 BIGINT NOT NULL,
    expires_at                 BIGINT NOT NULL,
    revoked_at                 BIGINT
);
CREATE INDEX magic_links_by_environment ON magic_links (environment_id, created_at);

-- The webhook outbox: written in the transaction of the change it reports.
CREATE TABLE events (
    id             TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id),
    event_type     TEXT NOT NULL,
    payload        TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX events_by_environment ON events (environment_id, created_at);
