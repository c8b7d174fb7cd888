//! Shared statements of [`crate::Operators`]: all of them, since nothing here differs between
//! the dialects. Every multi-statement operation runs them in one transaction of its backend.

use chrono::{DateTime, Utc};

use crate::{
    operators::{Operator, OperatorSession, SigninToken},
    rows::{OPERATOR_COLUMNS, OPERATOR_SESSION_COLUMNS, OperatorRow, OperatorSessionRow},
    to_millis,
};

statements! {
    /// Stores a new operator unless one with this e-mail address exists: then nothing is
    /// written and no row is affected (`ON CONFLICT … DO NOTHING` reads the same on both
    /// dialects, and leaves a transaction usable where a unique violation would abort it on
    /// PostgreSQL).
    fn insert_operator<'q>(operator: &'q Operator) -> Query {
        sqlx::query(text!(
            "INSERT INTO operators ({OPERATOR_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $9) ON CONFLICT (email) DO NOTHING"
        ))
        .bind(operator.id.as_str())
        .bind(operator.email.as_str())
        .bind(operator.role.as_str())
        .bind(operator.password_hash.as_deref())
        .bind(to_millis(operator.created_at))
        .bind(operator.disabled_at.map(to_millis))
        .bind(i64::from(operator.failed_signins))
        .bind(operator.last_failed_signin_at.map(to_millis))
        .bind(operator.last_signed_in_at.map(to_millis))
    }

    /// The operator with this id.
    fn operator<'q>(id: &'q str) -> QueryAs<OperatorRow> {
        sqlx::query_as(text!("SELECT {OPERATOR_COLUMNS} FROM operators WHERE id = $1")).bind(id)
    }

    /// The operator with this e-mail address.
    fn operator_by_email<'q>(email: &'q str) -> QueryAs<OperatorRow> {
        sqlx::query_as(text!("SELECT {OPERATOR_COLUMNS} FROM operators WHERE email = $1"))
            .bind(email)
    }

    /// Every operator, by e-mail address.
    fn list_operators<'q>() -> QueryAs<OperatorRow> {
        sqlx::query_as(text!("SELECT {OPERATOR_COLUMNS} FROM operators ORDER BY email"))
    }

    /// Disables (a time) or enables (`None`) an operator.
    fn set_disabled<'q>(id: &'q str, disabled_at: Option<DateTime<Utc>>) -> Query {
        sqlx::query("UPDATE operators SET disabled_at = $1 WHERE id = $2")
            .bind(disabled_at.map(to_millis))
            .bind(id)
    }

    /// Forgets an operator's password and failures, as a reset does.
    fn reset<'q>(id: &'q str) -> Query {
        sqlx::query(
            "UPDATE operators SET password_hash = NULL, failed_signins = 0, \
             last_failed_signin_at = NULL WHERE id = $1",
        )
        .bind(id)
    }

    /// Stores a sign-in token's hash.
    fn insert_token<'q>(token: &'q SigninToken) -> Query {
        sqlx::query(
            "INSERT INTO operator_signin_tokens (hash, operator_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token.hash.as_slice())
        .bind(token.operator_id.as_str())
        .bind(to_millis(token.created_at))
        .bind(to_millis(token.expires_at))
    }

    /// Deletes every sign-in token of an operator.
    fn delete_tokens<'q>(operator_id: &'q str) -> Query {
        sqlx::query("DELETE FROM operator_signin_tokens WHERE operator_id = $1").bind(operator_id)
    }

    /// Deletes the token with this hash if it is unexpired at `now`, and returns whose it was.
    /// One conditional DELETE: of two concurrent redemptions, the database lets one delete
    /// the row (PostgreSQL re-checks the second against the deleted row; SQLite has one
    /// writer), so the other gets nothing.
    fn take_token<'q>(hash: &'q [u8], now: DateTime<Utc>) -> QueryAs<(String,)> {
        sqlx::query_as(
            "DELETE FROM operator_signin_tokens WHERE hash = $1 AND expires_at > $2 \
             RETURNING operator_id",
        )
        .bind(hash)
        .bind(to_millis(now))
    }

    /// The enabled operator owning an unexpired sign-in token.
    fn token_operator<'q>(hash: &'q [u8], now: DateTime<Utc>) -> QueryAs<OperatorRow> {
        sqlx::query_as(text!(
            "SELECT {OPERATOR_COLUMNS} FROM operators WHERE disabled_at IS NULL AND id = \
             (SELECT operator_id FROM operator_signin_tokens WHERE hash = $1 AND expires_at > $2)"
        ))
        .bind(hash)
        .bind(to_millis(now))
    }

    /// Stores the password chosen through a sign-in token and clears the failures, if the
    /// operator is enabled, and returns the operator as changed. The condition is checked
    /// under the row's lock, so a concurrent disable either comes first (no row: the
    /// redemption rolls back) or after (and ends the session this redemption starts).
    fn set_password<'q>(id: &'q str, password_hash: &'q str) -> QueryAs<OperatorRow> {
        sqlx::query_as(text!(
            "UPDATE operators SET password_hash = $1, failed_signins = 0, \
             last_failed_signin_at = NULL WHERE id = $2 AND disabled_at IS NULL \
             RETURNING {OPERATOR_COLUMNS}"
        ))
        .bind(password_hash)
        .bind(id)
    }

    /// Counts a failed password sign-in; a run whose last failure came before `$3` restarts.
    fn record_failure<'q>(
        operator_id: &'q str,
        now: DateTime<Utc>,
        restart_before: DateTime<Utc>,
    ) -> Query {
        sqlx::query(
            "UPDATE operators SET failed_signins = CASE \
                 WHEN last_failed_signin_at IS NULL OR last_failed_signin_at < $3 THEN 1 \
                 ELSE failed_signins + 1 END, \
             last_failed_signin_at = $1 WHERE id = $2",
        )
        .bind(to_millis(now))
        .bind(operator_id)
        .bind(to_millis(restart_before))
    }

    /// Clears the failures and records a sign-in at `at`.
    fn signed_in<'q>(operator_id: &'q str, at: DateTime<Utc>) -> Query {
        sqlx::query(
            "UPDATE operators SET failed_signins = 0, last_failed_signin_at = NULL, \
             last_signed_in_at = $1 WHERE id = $2",
        )
        .bind(to_millis(at))
        .bind(operator_id)
    }

    /// Stores a session of `operator_id` (which the caller passes apart from the session, so
    /// that a redemption starts it for the token's operator).
    fn insert_session<'q>(session: &'q OperatorSession, operator_id: &'q str) -> Query {
        sqlx::query(
            "INSERT INTO operator_sessions (id_hash, operator_id, created_at, last_seen_at, \
             expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(session.id_hash.as_slice())
        .bind(operator_id)
        .bind(to_millis(session.created_at))
        .bind(to_millis(session.last_seen_at))
        .bind(to_millis(session.expires_at))
        .bind(session.ip.as_deref())
        .bind(session.user_agent.as_deref())
    }

    /// The session with this id hash and its operator, if the session is unexpired at `now`,
    /// was seen at or after `idle_since`, and the operator is enabled.
    fn session<'q>(
        id_hash: &'q [u8],
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> QueryAs<OperatorSessionRow> {
        sqlx::query_as(text!(
            "SELECT {OPERATOR_SESSION_COLUMNS} FROM operator_sessions AS s \
             JOIN operators AS o ON o.id = s.operator_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND s.last_seen_at >= $3 \
             AND o.disabled_at IS NULL"
        ))
        .bind(id_hash)
        .bind(to_millis(now))
        .bind(to_millis(idle_since))
    }

    /// Moves a session's last-seen time.
    fn touch_session<'q>(id_hash: &'q [u8], now: DateTime<Utc>) -> Query {
        sqlx::query("UPDATE operator_sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(to_millis(now))
            .bind(id_hash)
    }

    /// Deletes one session.
    fn delete_session<'q>(id_hash: &'q [u8]) -> Query {
        sqlx::query("DELETE FROM operator_sessions WHERE id_hash = $1").bind(id_hash)
    }

    /// Deletes every session of an operator.
    fn delete_sessions<'q>(operator_id: &'q str) -> Query {
        sqlx::query("DELETE FROM operator_sessions WHERE operator_id = $1").bind(operator_id)
    }

    /// Deletes sessions expired at `now` or last seen before `idle_since`: the complement of
    /// what [`session`] accepts.
    fn prune_sessions<'q>(now: DateTime<Utc>, idle_since: DateTime<Utc>) -> Query {
        sqlx::query("DELETE FROM operator_sessions WHERE expires_at <= $1 OR last_seen_at < $2")
            .bind(to_millis(now))
            .bind(to_millis(idle_since))
    }

    /// Deletes sign-in tokens expired at `now`.
    fn prune_tokens<'q>(now: DateTime<Utc>) -> Query {
        sqlx::query("DELETE FROM operator_signin_tokens WHERE expires_at <= $1")
            .bind(to_millis(now))
    }
}
