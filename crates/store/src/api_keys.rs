//! Operators' API keys: stored as hashes, found by hash, listed and revoked.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

/// An API key as stored: never the key itself, only its SHA-256 hash and a display prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// 24 base58 characters; what `plugboard keys revoke` and the API name the key by.
    pub id: String,
    /// The environment the key acts in.
    pub environment_id: String,
    /// The operator's label for the key.
    pub name: String,
    /// SHA-256 of the full key.
    pub key_hash: Vec<u8>,
    /// The first characters of the key, enough to recognise it in a list.
    pub prefix: String,
    /// When the key was created.
    pub created_at: DateTime<Utc>,
    /// When the key was revoked; a revoked key authenticates nothing.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When the key last authenticated a request (to the minute: see
    /// [`ApiKeys::touch_api_key`]); `None` if never.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Operators' API keys.
#[async_trait]
pub trait ApiKeys: Send + Sync {
    /// Stores a new API key (its hash, never the key).
    async fn insert_api_key(&self, key: &ApiKey) -> Result<()>;

    /// The unrevoked API key with this SHA-256 hash.
    async fn active_api_key_by_hash(&self, hash: &[u8]) -> Result<Option<ApiKey>>;

    /// All API keys, newest first, optionally of one environment only.
    async fn list_api_keys(&self, environment_id: Option<&str>) -> Result<Vec<ApiKey>>;

    /// Records that the key authenticated a request at `now`, unless that was recorded less
    /// than a minute before: a busy key costs at most one write a minute.
    async fn touch_api_key(&self, id: &str, now: DateTime<Utc>) -> Result<()>;

    /// Revokes a key; `false` if no unrevoked key has this id.
    async fn revoke_api_key(&self, id: &str, now: DateTime<Utc>) -> Result<bool>;
}
