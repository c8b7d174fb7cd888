-- Dashboard operators (SQLite): their accounts, the one-time sign-in tokens with which they
-- choose a password, and their sessions. Keep in step with store-postgres.
--
-- Only hashes are stored: an argon2id hash of each password, and the SHA-256 of each sign-in
-- token and session id. A copy of the database (a backup, a stolen disk) therefore opens no
-- dashboard: the token in a sign-in link and the session cookie exist only in the browser.

-- Operators are deployment-wide (one account sees both environments), so no environment_id.
-- email is stored lower-cased by the caller. password_hash is NULL until the operator chooses
-- a password through a sign-in token, and again after a reset. failed_signins counts failed
-- password sign-ins since the last successful one; it lives here, not in memory, so every
-- instance behind a load balancer enforces the same per-account limit.
CREATE TABLE operators (
    id                    TEXT PRIMARY KEY,
    email                 TEXT NOT NULL UNIQUE,
    role                  TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
    password_hash         TEXT,
    created_at            INTEGER NOT NULL,
    disabled_at           INTEGER,
    failed_signins        INTEGER NOT NULL DEFAULT 0 CHECK (failed_signins >= 0),
    last_failed_signin_at INTEGER,
    last_signed_in_at     INTEGER
) STRICT;

-- One row per unredeemed sign-in token, keyed by its SHA-256; redeeming deletes the row, which
-- makes each token single-use. Expired rows are pruned.
CREATE TABLE operator_signin_tokens (
    hash        BLOB PRIMARY KEY,
    operator_id TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;

-- One row per signed-in browser, keyed by the SHA-256 of the session cookie. A session ends
-- at expires_at however busy, or earlier when idle (last_seen_at too old); expired and idle
-- rows are pruned. ip and user_agent let an operator recognise their sessions.
CREATE TABLE operator_sessions (
    id_hash      BLOB PRIMARY KEY,
    operator_id  TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT,
    user_agent   TEXT
) STRICT;
CREATE INDEX operator_sessions_by_operator ON operator_sessions (operator_id);
