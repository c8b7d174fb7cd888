//! Shared statements of [`crate::Integrations`]. The redemption of an activation token differs
//! (a group commit on SQLite, one CTE on PostgreSQL) and lives in each backend.

use chrono::{DateTime, Utc};

use crate::{
    Integration, IntegrationCursor, IntegrationFilter, IntegrationSearch, IntegrationStatus,
    NewActivationToken, Relink, Sealed,
    ids::IntegrationId,
    rows::{
        DueCheckRow, INTEGRATION_COLUMNS, IntegrationHealthRow, IntegrationRow,
        ListedIntegrationRow, SealedRow, StatusCountRow,
    },
    to_millis,
};

/// The `LIKE` pattern that finds `text` anywhere, in any case: lower-cased, with `LIKE`'s own
/// characters escaped by `\`, so a search for `100%` finds "100%" and not everything.
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The shortest search text the backends look up by index; a shorter one walks.
pub const INDEXED_TEXT: usize = 3;

/// The search text to look up by index, if it is long enough.
pub fn indexed_text(search: &IntegrationSearch) -> Option<&str> {
    search
        .text
        .as_deref()
        .filter(|text| text.chars().count() >= INDEXED_TEXT)
}

/// The filters and cursor every form of the dashboard's search ends with (`$5`–`$11`).
pub const SEARCH_FILTERS: &str = "AND ($5 IS NULL OR tool = $5) \
    AND ($6 IS NULL OR category = $6) \
    AND ($7 IS NULL OR status = $7) \
    AND ($8 = FALSE OR failing_since IS NOT NULL) \
    AND ($9 IS NULL OR (created_at, id) < ($9, $10)) \
    ORDER BY created_at DESC, id DESC LIMIT $11";

/// An FTS5 phrase that matches `text` as a substring with the trigram tokenizer: the text in
/// double quotes, its own double quotes doubled.
pub fn fts5_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

statements! {
    /// Writes the integration row.
    fn insert<'q>(integration: &'q Integration) -> Query {
        sqlx::query(text!(
            "INSERT INTO integrations ({INTEGRATION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(integration.id.as_str())
        .bind(integration.environment_id.as_str())
        .bind(integration.tool.as_str())
        .bind(integration.category.as_str())
        .bind(integration.status.as_str())
        .bind(integration.setup_status.as_str())
        .bind(integration.end_user.email.as_deref())
        .bind(integration.end_user.organization_name.as_str())
        .bind(integration.end_user.origin_id.as_deref())
        .bind(integration.scope_config_id.as_str())
        .bind(integration.remote_environment.as_deref())
        .bind(to_millis(integration.created_at))
        .bind(to_millis(integration.updated_at))
    }

    /// Writes an integration's first credentials.
    fn insert_credentials<'q>(
        id: &'q IntegrationId,
        sealed: &'q Sealed,
        now: DateTime<Utc>,
    ) -> Query {
        sqlx::query(
            "INSERT INTO credentials (integration_id, key_id, nonce, ciphertext, updated_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.as_str())
        .bind(sealed.key_id.as_str())
        .bind(sealed.nonce.as_slice())
        .bind(sealed.ciphertext.as_slice())
        .bind(to_millis(now))
    }

    /// Stores the hash of an activation token.
    fn insert_activation_token<'q>(
        token: &'q NewActivationToken,
        integration_id: &'q IntegrationId,
        environment_id: &'q str,
        now: DateTime<Utc>,
    ) -> Query {
        sqlx::query(
            "INSERT INTO activation_tokens \
             (token_hash, integration_id, environment_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token.hash.as_slice())
        .bind(integration_id.as_str())
        .bind(environment_id)
        .bind(to_millis(now))
        .bind(to_millis(token.expires_at))
    }

    /// Reactivates a relinked integration if it still has the expected status; its new
    /// credentials start afresh, with no failed connection checks behind them.
    fn reactivate<'q>(relink: &'q Relink) -> QueryAs<IntegrationRow> {
        sqlx::query_as(text!(
            "UPDATE integrations SET status = 'ACTIVE', updated_at = $1, \
             scope_config_id = COALESCE($2, scope_config_id), \
             failing_since = NULL, check_due_at = NULL \
             WHERE id = $3 AND status = $4 RETURNING {INTEGRATION_COLUMNS}"
        ))
        .bind(to_millis(relink.now))
        .bind(relink.scope_config_id.as_deref())
        .bind(relink.integration_id.as_str())
        .bind(relink.expected_status.as_str())
    }

    /// Replaces an integration's credentials.
    fn replace_credentials<'q>(
        id: &'q IntegrationId,
        sealed: &'q Sealed,
        now: DateTime<Utc>,
    ) -> Query {
        sqlx::query(
            "UPDATE credentials SET key_id = $1, nonce = $2, ciphertext = $3, updated_at = $4 \
             WHERE integration_id = $5",
        )
        .bind(sealed.key_id.as_str())
        .bind(sealed.nonce.as_slice())
        .bind(sealed.ciphertext.as_slice())
        .bind(to_millis(now))
        .bind(id.as_str())
    }

    /// The integration with this id in this environment.
    fn get<'q>(environment_id: &'q str, id: &'q IntegrationId) -> QueryAs<IntegrationRow> {
        sqlx::query_as(text!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE id = $1 AND environment_id = $2"
        ))
        .bind(id.as_str())
        .bind(environment_id)
    }

    /// A page of an environment's integrations, oldest first, after a `(created_at, id)`
    /// position; a `None` filter matches everything.
    fn list<'q>(
        environment_id: &'q str,
        filter: &'q IntegrationFilter,
        after: Option<&'q IntegrationCursor>,
        limit: u32,
    ) -> QueryAs<IntegrationRow> {
        sqlx::query_as(text!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations \
             WHERE environment_id = $1 \
             AND ($2 IS NULL OR end_user_origin_id = $2) \
             AND ($3 IS NULL OR tool = $3) \
             AND ($4 IS NULL OR category = $4) \
             AND ($5 IS NULL OR status = $5) \
             AND ($6 IS NULL OR (created_at, id) > ($6, $7)) \
             ORDER BY created_at, id LIMIT $8"
        ))
        .bind(environment_id)
        .bind(filter.origin_id.as_deref())
        .bind(filter.tool.as_deref())
        .bind(filter.category.map(|c| c.as_str()))
        .bind(filter.status.map(IntegrationStatus::as_str))
        .bind(after.map(|cursor| to_millis(cursor.created_at)))
        .bind(after.map(|cursor| cursor.id.as_str()))
        .bind(i64::from(limit))
    }

    /// The dashboard's search, newest first, walking the environment's integrations until the
    /// page is full: the list without a text, and a text shorter than [`INDEXED_TEXT`], too
    /// short for trigrams and matching many names. The text matches an id, origin id or e-mail
    /// address exactly (the address in any case) or a part of the organisation's name in any
    /// case ([`contains_pattern`]). A longer text is each backend's indexed lookup,
    /// [`search_indexed`].
    fn search<'q>(
        environment_id: &'q str,
        search: &'q IntegrationSearch,
        before: Option<&'q IntegrationCursor>,
        limit: u32,
    ) -> QueryAs<ListedIntegrationRow> {
        search_indexed(
            text!(
                "SELECT {INTEGRATION_COLUMNS}, failing_since, check_due_at, checked_at FROM integrations \
                 WHERE environment_id = $1 \
                 AND ($2 IS NULL OR id = $2 OR end_user_origin_id = $2 \
                      OR lower(end_user_email) = $3 \
                      OR lower(end_user_organization_name) LIKE $4 ESCAPE '\\') \
                 AND ($5 IS NULL OR tool = $5) \
                 AND ($6 IS NULL OR category = $6) \
                 AND ($7 IS NULL OR status = $7) \
                 AND ($8 = FALSE OR failing_since IS NOT NULL) \
                 AND ($9 IS NULL OR (created_at, id) < ($9, $10)) \
                 ORDER BY created_at DESC, id DESC LIMIT $11"
            ),
            environment_id,
            search,
            before,
            limit,
            search.text.as_deref().map(contains_pattern),
        )
    }

    /// The dashboard's search by `statement`, a backend's indexed lookup (the union of the
    /// id, origin id, e-mail and organisation-name indexes, whose name index differs: FTS5 on
    /// SQLite, pg_trgm on PostgreSQL), with the parameters every form of it takes: `$1` the
    /// environment, `$2` the text, `$3` it lower-cased, `$4` `name_match` (what the backend's
    /// name index is asked), `$5`–`$8` the filters, `$9`/`$10` the cursor, `$11` the limit.
    fn search_indexed<'q>(
        statement: &'static str,
        environment_id: &'q str,
        search: &'q IntegrationSearch,
        before: Option<&'q IntegrationCursor>,
        limit: u32,
        name_match: Option<String>,
    ) -> QueryAs<ListedIntegrationRow> {
        sqlx::query_as(statement)
            .bind(environment_id)
            .bind(search.text.as_deref())
            .bind(search.text.as_deref().map(str::to_lowercase))
            .bind(name_match)
            .bind(search.tool.as_deref())
            .bind(search.category.map(|c| c.as_str()))
            .bind(search.status.map(IntegrationStatus::as_str))
            .bind(search.failing)
            .bind(before.map(|cursor| to_millis(cursor.created_at)))
            .bind(before.map(|cursor| cursor.id.as_str()))
            .bind(i64::from(limit))
    }

    /// The check columns of one integration.
    fn health<'q>(environment_id: &'q str, id: &'q IntegrationId) -> QueryAs<IntegrationHealthRow> {
        sqlx::query_as(
            "SELECT failing_since, check_due_at, checked_at FROM integrations \
             WHERE environment_id = $1 AND id = $2",
        )
        .bind(environment_id)
        .bind(id.as_str())
    }

    /// An environment's integrations counted by status and failing credentials.
    fn count_by_status<'q>(environment_id: &'q str) -> QueryAs<StatusCountRow> {
        sqlx::query_as(
            "SELECT status, \
             CAST(CASE WHEN failing_since IS NULL THEN 0 ELSE 1 END AS BIGINT) AS failing, \
             COUNT(*) AS count FROM integrations WHERE environment_id = $1 \
             GROUP BY status, CASE WHEN failing_since IS NULL THEN 0 ELSE 1 END",
        )
        .bind(environment_id)
    }

    /// Deletes an integration (its credentials and tokens go with it by cascade).
    fn delete<'q>(environment_id: &'q str, id: &'q IntegrationId) -> Query {
        sqlx::query("DELETE FROM integrations WHERE id = $1 AND environment_id = $2")
            .bind(id.as_str())
            .bind(environment_id)
    }

    /// Changes the status if it still is `from`.
    fn update_status<'q>(
        environment_id: &'q str,
        id: &'q IntegrationId,
        from: IntegrationStatus,
        to: IntegrationStatus,
        now: DateTime<Utc>,
    ) -> Query {
        sqlx::query(
            "UPDATE integrations SET status = $1, updated_at = $2 \
             WHERE id = $3 AND environment_id = $4 AND status = $5",
        )
        .bind(to.as_str())
        .bind(to_millis(now))
        .bind(id.as_str())
        .bind(environment_id)
        .bind(from.as_str())
    }

    /// An integration's sealed credentials.
    fn credentials<'q>(id: &'q IntegrationId) -> QueryAs<SealedRow> {
        sqlx::query_as(
            "SELECT key_id, nonce, ciphertext FROM credentials WHERE integration_id = $1",
        )
        .bind(id.as_str())
    }

    /// Claims due connection checks (see `Integrations::claim_connection_checks`). The due
    /// condition is repeated outside the subquery: on PostgreSQL, a second process whose
    /// subquery saw the same rows re-checks it on the rows the first one updated, and skips
    /// them.
    fn claim_checks<'q>(
        now: DateTime<Utc>,
        interval: chrono::Duration,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> QueryAs<DueCheckRow> {
        sqlx::query_as(text!(
            "UPDATE integrations SET check_due_at = $1 \
             WHERE id IN (SELECT id FROM integrations \
                 WHERE status IN ('ACTIVE', 'INVALID') \
                 AND COALESCE(check_due_at, updated_at + $2) <= $3 \
                 ORDER BY COALESCE(check_due_at, updated_at + $2), id LIMIT $4) \
             AND status IN ('ACTIVE', 'INVALID') \
             AND COALESCE(check_due_at, updated_at + $2) <= $3 \
             RETURNING {INTEGRATION_COLUMNS}, failing_since"
        ))
        .bind(to_millis(lease_until))
        .bind(interval.num_milliseconds())
        .bind(to_millis(now))
        .bind(i64::from(limit))
    }

    /// Records a check's result and the next check, if the integration is unchanged since
    /// `updated_at`.
    fn record_check<'q>(
        id: &'q IntegrationId,
        updated_at: DateTime<Utc>,
        failing_since: Option<DateTime<Utc>>,
        next: DateTime<Utc>,
    ) -> Query {
        sqlx::query(
            "UPDATE integrations SET failing_since = $1, check_due_at = $2, checked_at = $5 \
             WHERE id = $3 AND updated_at = $4",
        )
        .bind(failing_since.map(to_millis))
        .bind(to_millis(next))
        .bind(id.as_str())
        .bind(to_millis(updated_at))
        // The time it is recorded: what the dashboard shows as the last check.
        .bind(to_millis(Utc::now()))
    }

    /// Brings the next check forward to `at` unless it is due sooner.
    fn schedule_check<'q>(id: &'q IntegrationId, at: DateTime<Utc>) -> Query {
        sqlx::query(
            "UPDATE integrations SET check_due_at = $1 \
             WHERE id = $2 AND (check_due_at IS NULL OR check_due_at > $1)",
        )
        .bind(to_millis(at))
        .bind(id.as_str())
    }
}
