//! Shared statements of [`crate::ApiKeys`].

use chrono::{DateTime, Utc};

use crate::{
    ApiKey,
    rows::{API_KEY_COLUMNS, ApiKeyRow},
    to_millis,
};

statements! {
    /// Stores a new key.
    fn insert<'q>(key: &'q ApiKey) -> Query {
        sqlx::query(text!(
            "INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(key.id.as_str())
        .bind(key.environment_id.as_str())
        .bind(key.name.as_str())
        .bind(key.key_hash.as_slice())
        .bind(key.prefix.as_str())
        .bind(to_millis(key.created_at))
        .bind(key.revoked_at.map(to_millis))
        .bind(key.last_used_at.map(to_millis))
    }

    /// Records a use, unless one was recorded within the minute before.
    fn touch<'q>(id: &'q str, now: DateTime<Utc>) -> Query {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 \
             AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(to_millis(now))
        .bind(id)
        .bind(to_millis(now - chrono::Duration::minutes(1)))
    }

    /// The unrevoked key with this hash.
    fn active_by_hash<'q>(hash: &'q [u8]) -> QueryAs<ApiKeyRow> {
        sqlx::query_as(text!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
        ))
        .bind(hash)
    }

    /// Every key, newest first, of one environment when given.
    fn list<'q>(environment_id: Option<&'q str>) -> QueryAs<ApiKeyRow> {
        sqlx::query_as(text!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE ($1 IS NULL OR environment_id = $1) \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(environment_id)
    }

    /// Revokes an unrevoked key.
    fn revoke<'q>(id: &'q str, now: DateTime<Utc>) -> Query {
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(to_millis(now))
            .bind(id)
    }
}
