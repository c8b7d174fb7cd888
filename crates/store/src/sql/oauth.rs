//! Shared statements of [`crate::Oauth`]. Only the locks differ between the dialects and live
//! in each backend's `oauth.rs`: PostgreSQL serialises app revisions with a row lock on the
//! environment and locks credentials with `SELECT … FOR UPDATE`; SQLite takes the database's
//! write lock with a no-op write.

use chrono::{DateTime, Utc};

use crate::{
    Sealed,
    ids::IntegrationId,
    oauth::{NewOauthApp, OauthAttempt},
    rows::{
        OAUTH_APP_COLUMNS, OAUTH_ATTEMPT_COLUMNS, OauthAppRow, OauthAttemptRow, OauthResultRow,
        encode_scopes, encode_settings,
    },
    to_millis,
};

statements! {
    /// Stores a new revision numbered one above the latest of (environment, tool), retired
    /// ones included. One statement, so the number and the row cannot drift apart; two
    /// concurrent puts that read the same latest collide on the unique key rather than share a
    /// number.
    fn insert_app<'q>(new: &'q NewOauthApp) -> QueryAs<OauthAppRow> {
        sqlx::query_as(text!(
            "INSERT INTO oauth_apps ({OAUTH_APP_COLUMNS}) \
             SELECT $1, $2, $3, COALESCE(MAX(revision), 0) + 1, $4, $5, $6, $7, $8, $9, NULL, \
             $10 \
             FROM oauth_apps WHERE environment_id = $2 AND tool = $3 \
             RETURNING {OAUTH_APP_COLUMNS}"
        ))
        .bind(new.id.as_str())
        .bind(new.environment_id.as_str())
        .bind(new.tool.as_str())
        .bind(new.client_id.as_str())
        .bind(new.client_secret.key_id.as_str())
        .bind(new.client_secret.nonce.as_slice())
        .bind(new.client_secret.ciphertext.as_slice())
        .bind(encode_scopes(new.scopes.as_deref()))
        .bind(to_millis(new.created_at))
        .bind(encode_settings(&new.settings))
    }

    /// The latest revision of (environment, tool), only if it is not retired: a retired latest
    /// means no app, whatever the older revisions say.
    fn current_app<'q>(environment_id: &'q str, tool: &'q str) -> QueryAs<OauthAppRow> {
        sqlx::query_as(text!(
            "SELECT {OAUTH_APP_COLUMNS} FROM oauth_apps \
             WHERE environment_id = $1 AND tool = $2 AND retired_at IS NULL \
             AND revision = (SELECT MAX(revision) FROM oauth_apps \
                 WHERE environment_id = $1 AND tool = $2)"
        ))
        .bind(environment_id)
        .bind(tool)
    }

    /// The current app of every tool of the environment, by tool id.
    fn current_apps<'q>(environment_id: &'q str) -> QueryAs<OauthAppRow> {
        sqlx::query_as(text!(
            "SELECT {OAUTH_APP_COLUMNS} FROM oauth_apps AS app \
             WHERE environment_id = $1 AND retired_at IS NULL \
             AND revision = (SELECT MAX(latest.revision) FROM oauth_apps AS latest \
                 WHERE latest.environment_id = app.environment_id AND latest.tool = app.tool) \
             ORDER BY tool"
        ))
        .bind(environment_id)
    }

    /// A revision by id, retired or not.
    fn app<'q>(id: &'q str) -> QueryAs<OauthAppRow> {
        sqlx::query_as(text!("SELECT {OAUTH_APP_COLUMNS} FROM oauth_apps WHERE id = $1"))
            .bind(id)
    }

    /// Retires the latest revision of (environment, tool) if it is not retired yet.
    fn retire_app<'q>(environment_id: &'q str, tool: &'q str, at: DateTime<Utc>) -> Query {
        sqlx::query(
            "UPDATE oauth_apps SET retired_at = $1 \
             WHERE environment_id = $2 AND tool = $3 AND retired_at IS NULL \
             AND revision = (SELECT MAX(revision) FROM oauth_apps \
                 WHERE environment_id = $2 AND tool = $3)",
        )
        .bind(to_millis(at))
        .bind(environment_id)
        .bind(tool)
    }

    /// Records an attempt as it starts (unconsumed, without outcome whatever `attempt` says:
    /// only the callback sets those).
    fn insert_attempt<'q>(attempt: &'q OauthAttempt) -> Query {
        sqlx::query(
            "INSERT INTO oauth_attempts (state_hash, id, link_id, environment_id, tool, \
             browser_hash, key_id, nonce, ciphertext, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(attempt.state_hash.as_slice())
        .bind(attempt.id.as_str())
        .bind(attempt.link_id.as_str())
        .bind(attempt.environment_id.as_str())
        .bind(attempt.tool.as_str())
        .bind(attempt.browser_hash.as_slice())
        .bind(attempt.sealed.key_id.as_str())
        .bind(attempt.sealed.nonce.as_slice())
        .bind(attempt.sealed.ciphertext.as_slice())
        .bind(to_millis(attempt.created_at))
        .bind(to_millis(attempt.expires_at))
    }

    /// Consumes an unconsumed, unexpired attempt and returns it. One conditional UPDATE: the
    /// database serialises writers of the row (PostgreSQL re-checks the condition on the row
    /// a concurrent winner wrote; SQLite has one writer), so of N callbacks exactly one gets a
    /// row.
    fn consume_attempt<'q>(state_hash: &'q [u8], now: DateTime<Utc>) -> QueryAs<OauthAttemptRow> {
        sqlx::query_as(text!(
            "UPDATE oauth_attempts SET consumed_at = $1 \
             WHERE state_hash = $2 AND consumed_at IS NULL AND expires_at > $1 \
             RETURNING {OAUTH_ATTEMPT_COLUMNS}"
        ))
        .bind(to_millis(now))
        .bind(state_hash)
    }

    /// Records how a consumed attempt ended, once.
    fn finish_attempt<'q>(id: &'q str, outcome: &'q str, result: Option<&'q Sealed>) -> Query {
        sqlx::query(
            "UPDATE oauth_attempts SET outcome = $1, result_key_id = $2, result_nonce = $3, \
             result_ciphertext = $4 \
             WHERE id = $5 AND consumed_at IS NOT NULL AND outcome IS NULL",
        )
        .bind(outcome)
        .bind(result.map(|r| r.key_id.as_str()))
        .bind(result.map(|r| r.nonce.as_slice()))
        .bind(result.map(|r| r.ciphertext.as_slice()))
        .bind(id)
    }

    /// An attempt of the link, by id.
    fn attempt<'q>(link_id: &'q str, id: &'q str) -> QueryAs<OauthAttemptRow> {
        sqlx::query_as(text!(
            "SELECT {OAUTH_ATTEMPT_COLUMNS} FROM oauth_attempts WHERE id = $1 AND link_id = $2"
        ))
        .bind(id)
        .bind(link_id)
    }

    /// Marks a finished attempt's result taken, once, and returns it. `RETURNING` gives the
    /// row as updated on both dialects, so the result is erased by [`erase_result`] after
    /// this, in the same transaction, rather than here.
    fn take_result<'q>(link_id: &'q str, id: &'q str) -> QueryAs<OauthResultRow> {
        sqlx::query_as(
            "UPDATE oauth_attempts SET result_taken = TRUE \
             WHERE id = $1 AND link_id = $2 AND outcome IS NOT NULL AND result_taken = FALSE \
             RETURNING outcome, result_key_id, result_nonce, result_ciphertext",
        )
        .bind(id)
        .bind(link_id)
    }

    /// Erases a taken result: the activation token exists nowhere else once handed over.
    fn erase_result<'q>(id: &'q str) -> Query {
        sqlx::query(
            "UPDATE oauth_attempts SET result_key_id = NULL, result_nonce = NULL, \
             result_ciphertext = NULL WHERE id = $1",
        )
        .bind(id)
    }

    /// Deletes up to `limit` attempts that expired before `before`, oldest first.
    fn prune_attempts<'q>(before: DateTime<Utc>, limit: u32) -> Query {
        sqlx::query(
            "DELETE FROM oauth_attempts WHERE state_hash IN \
             (SELECT state_hash FROM oauth_attempts WHERE expires_at < $1 \
             ORDER BY expires_at LIMIT $2)",
        )
        .bind(to_millis(before))
        .bind(i64::from(limit))
    }

    /// Stores refreshed credentials, without touching any `updated_at`: new tokens are not a
    /// change of the integration. Runs under the backend's credentials lock.
    fn store_credentials<'q>(id: &'q IntegrationId, sealed: &'q Sealed) -> Query {
        sqlx::query(
            "UPDATE credentials SET key_id = $1, nonce = $2, ciphertext = $3 \
             WHERE integration_id = $4",
        )
        .bind(sealed.key_id.as_str())
        .bind(sealed.nonce.as_slice())
        .bind(sealed.ciphertext.as_slice())
        .bind(id.as_str())
    }
}
