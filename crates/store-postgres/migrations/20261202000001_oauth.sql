-- OAuth sign-in (PostgreSQL): operators' OAuth apps, kept as revisions, and the sign-in
-- attempts of the hosted flow. Keep in step with store-sqlite.

-- A change of an app is a new revision, never an update, so an integration keeps refreshing
-- with the client it was created with. The latest revision of (environment, tool) is the
-- current one unless it is retired; the unique key stops two concurrent puts from numbering
-- the same revision.
CREATE TABLE oauth_apps (
    id                TEXT PRIMARY KEY,
    environment_id    TEXT NOT NULL REFERENCES environments (id),
    tool              TEXT NOT NULL,
    revision          BIGINT NOT NULL CHECK (revision >= 1),
    client_id         TEXT NOT NULL,
    secret_key_id     TEXT NOT NULL,
    secret_nonce      BYTEA NOT NULL,
    secret_ciphertext BYTEA NOT NULL,
    -- A JSON array of scope strings; NULL requests the catalog's defaults for the tool.
    scopes            TEXT,
    created_at        BIGINT NOT NULL,
    retired_at        BIGINT,
    UNIQUE (environment_id, tool, revision)
);
CREATE INDEX oauth_apps_by_secret_key ON oauth_apps (secret_key_id);

-- One row per "Sign in with …": keyed by the SHA-256 of the state sent to the vendor, so a
-- callback finds its attempt without the state being stored. consumed_at is set once, by one
-- conditional UPDATE, which makes each state single-use. The result (the sealed activation
-- token) is erased when the flow takes it. Rows live minutes; they are pruned after expiry.
CREATE TABLE oauth_attempts (
    state_hash        BYTEA PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    link_id           TEXT NOT NULL,
    environment_id    TEXT NOT NULL REFERENCES environments (id),
    tool              TEXT NOT NULL,
    browser_hash      BYTEA NOT NULL,
    key_id            TEXT NOT NULL,
    nonce             BYTEA NOT NULL,
    ciphertext        BYTEA NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    consumed_at       BIGINT,
    outcome           TEXT,
    result_key_id     TEXT,
    result_nonce      BYTEA,
    result_ciphertext BYTEA,
    result_taken      BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX oauth_attempts_by_expiry ON oauth_attempts (expires_at);
