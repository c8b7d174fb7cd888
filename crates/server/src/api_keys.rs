//! API keys: creating and revoking them (the CLI and `serve --demo`), and checking the key of
//! every API request, with a short-lived cache so that most requests need no database read.
//!
//! A key is 256 random bits with an environment prefix (`tokens.rs`); only its SHA-256 is
//! stored, and the key itself is shown once, by [`create`].

use std::time::{Duration, Instant};

use chrono::Utc;
use plugboard_store::{ApiKey, EnvironmentName, StoreError};

use crate::{
    AppState,
    audit::{Action, Caller},
    error::{DomainError, Missing},
    extract::Authenticated,
    tokens,
};

/// How long an authenticated API key is trusted without asking the database again. A key
/// revoked by another process (the CLI, another instance) stops working within this time; one
/// revoked through this process stops at once.
pub const CACHE_TTL: Duration = Duration::from_secs(10);

/// Longest key name, in characters: a label in `api-keys list`, not a document.
const MAX_NAME: usize = 100;

/// Recently authenticated keys, by the SHA-256 of the key. Unknown keys are never cached, so a
/// new key works at once.
pub(crate) struct KeyCache(quick_cache::sync::Cache<Vec<u8>, CachedKey>);

impl Default for KeyCache {
    fn default() -> Self {
        Self(quick_cache::sync::Cache::new(10_000))
    }
}

/// A valid API key as remembered between requests.
#[derive(Clone)]
struct CachedKey {
    environment_id: String,
    key_id: String,
    checked_at: Instant,
}

/// Creates an API key for `environment`. Returns the stored record and the key itself, which
/// exists nowhere else: only its hash is stored.
pub async fn create(
    state: &AppState,
    environment: EnvironmentName,
    name: &str,
    caller: &Caller,
) -> Result<(ApiKey, String), DomainError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(DomainError::invalid(
            "name",
            format!("must be 1 to {MAX_NAME} characters"),
        ));
    }
    let key = tokens::new_api_key(environment);
    let record = ApiKey {
        id: plugboard_store::ids::new_id(),
        environment_id: state.environments.get(environment).id.clone(),
        name: name.to_owned(),
        key_hash: tokens::hash(&key),
        prefix: tokens::display_prefix(&key),
        created_at: Utc::now(),
        revoked_at: None,
        last_used_at: None,
    };
    state.store.insert_api_key(&record).await?;
    tracing::info!(key_id = %record.id, %environment, "API key created");
    let entry = caller
        .entry(Action::ApiKeyCreated)
        .target("api_key", &record.id)
        .detail("name", record.name.clone())
        .detail("prefix", record.prefix.clone());
    caller.record(state, &record.environment_id, entry).await;
    Ok((record, key))
}

/// Revokes an API key, effective at once in this process and within [`CACHE_TTL`] in others.
pub async fn revoke(state: &AppState, id: &str, caller: &Caller) -> Result<(), DomainError> {
    let keys = state.store.list_api_keys(None).await?;
    let revoked = state.store.revoke_api_key(id, Utc::now()).await?;
    let Some(key) = keys.iter().find(|key| key.id == id) else {
        return Err(DomainError::NotFound(Missing::ApiKey(id.to_owned())));
    };
    state.api_keys.0.remove(&key.key_hash);
    if !revoked {
        return Err(DomainError::NotFound(Missing::ApiKey(id.to_owned())));
    }
    tracing::info!(key_id = %id, "API key revoked");
    let entry = caller
        .entry(Action::ApiKeyRevoked)
        .target("api_key", &key.id)
        .detail("name", key.name.clone());
    caller.record(state, &key.environment_id, entry).await;
    Ok(())
}

/// The environment and id of an API key, if the key is valid. Valid keys are remembered for
/// [`CACHE_TTL`], so most requests need no database read to authenticate.
pub async fn authenticate(
    state: &AppState,
    key: &str,
) -> Result<Option<Authenticated>, StoreError> {
    let hash = tokens::hash(key);
    let cache = &state.api_keys.0;
    if let Some(cached) = cache.get(&hash)
        && cached.checked_at.elapsed() < CACHE_TTL
    {
        return Ok(authenticated(
            state,
            &cached.environment_id,
            cached.key_id,
            hash,
        ));
    }
    let Some(found) = state.store.active_api_key_by_hash(&hash).await? else {
        cache.remove(&hash);
        return Ok(None);
    };
    // The dashboard shows when a key was last used. Recorded off the request's path, and only
    // here, on a cache miss: at most once per CACHE_TTL per key and process, and the store
    // writes at most once a minute.
    let store = state.store.clone();
    let key_id = found.id.clone();
    tokio::spawn(async move {
        if let Err(error) = store.touch_api_key(&key_id, Utc::now()).await {
            tracing::debug!(%error, key_id, "could not record the API key's use");
        }
    });
    let cached = CachedKey {
        environment_id: found.environment_id,
        key_id: found.id,
        checked_at: Instant::now(),
    };
    cache.insert(hash.clone(), cached.clone());
    Ok(authenticated(
        state,
        &cached.environment_id,
        cached.key_id,
        hash,
    ))
}

fn authenticated(
    state: &AppState,
    environment_id: &str,
    api_key_id: String,
    key_hash: Vec<u8>,
) -> Option<Authenticated> {
    let environment = state.environments.by_id(environment_id)?.clone();
    Some(Authenticated {
        environment,
        api_key_id,
        key_hash,
    })
}
