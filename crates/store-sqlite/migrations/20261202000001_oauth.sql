-- OAuth sign-in (SQLite): operators' OAuth apps, kept as revisions, and the sign-in attempts
-- of the hosted flow. Keep in step with store-postgres.

-- A change of an app is a new revision, never an update, so an integration keeps refreshing
-- with the client it was created with. The latest revision of (environment, tool) is the
-- current one unless it is retired; the unique key stops two concurrent puts from numbering
-- the same revision.
CREATE TABLE oauth_apps (
    id                TEXT PRIMARY KEY,
    environment_id    TEXT NOT NULL REFERENCES environments (id),
    tool              TEXT NOT NULL,
    revision          INTEGER NOT NULL CHECK (revision >= 1),
    client_id         TEXT NOT NULL,
    secret_key_id     TEXT NOT NULL,
    secret_nonce      BLOB NOT NULL,
    secret_ciphertext BLOB NOT NULL,
    -- A JSON array of scope strings; NULL requests the catalog's defaults for the tool.
    scopes            TEXT,
    created_at        INTEGER NOT NULL,
    retired_at        INTEGER,
    UNIQUE (environment_id, tool, revision)
) STRICT;
CREATE INDEX oauth_apps_by_secret_key ON oauth_apps (secret_key_id);

-- One row per "Sign in with …": keyed by the SHA-256 of the state sent to the vendor, so a
-- callback finds its attempt without the state being stored. consumed_at is set once, by one
-- conditional UPDATE, which makes each state single-use. The result (the sealed activation
-- token) is erased when the flow takes it. Rows live minutes; they are pruned after expiry.
CREATE TABLE oauth_attempts (
    state_hash        BLOB PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    link_id           TEXT NOT NULL,
    environment_id    TEXT NOT NULL REFERENCES environments (id),
    tool              TEXT NOT NULL,
    browser_hash      BLOB NOT NULL,
    key_id            TEXT NOT NULL,
    nonce             BLOB NOT NULL,
    ciphertext        BLOB NOT NULL,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    consumed_at       INTEGER,
    outcome           TEXT,
    result_key_id     TEXT,
    result_nonce      BLOB,
    result_ciphertext BLOB,
    result_taken      INTEGER NOT NULL DEFAULT 0 CHECK (result_taken IN (0, 1))
) STRICT;
CREATE INDEX oauth_attempts_by_expiry ON oauth_attempts (expires_at);
