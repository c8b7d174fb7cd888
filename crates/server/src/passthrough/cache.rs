//! What passthrough keeps between calls of one integration: the integration itself (for two
//! seconds), its opened credentials and the access tokens its token logins returned.
//!
//! Opening sealed credentials costs a key derivation and a decryption, and a token login a
//! round trip to the tool; neither should happen on every call. Both caches are keyed by the
//! integration's `updated_at` as well as its id, so a relink (new credentials) misses them at
//! once on every instance. Entries live at most [`CREDENTIALS_TTL`] (tokens: their lifetime,
//! less a margin) and are wiped from memory when dropped.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use zeroize::{Zeroize, Zeroizing};

use plugboard_store::{Integration, ids::IntegrationId};

use crate::{integrations::Credentials, lock};

/// How long opened credentials are kept.
pub const CREDENTIALS_TTL: Duration = Duration::from_secs(300);

/// How long an integration read for a call is reused by the next calls: a burst of calls costs
/// one database read. This process forgets it at once when it disables, deletes or relinks the
/// integration; another process may use it for this long after such a change.
pub const INTEGRATION_TTL: Duration = Duration::from_secs(2);

/// Tokens are renewed this long before the tool says they expire, so a call never starts with
/// a token that expires on the way.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// Most integrations either cache holds; past it, expired entries are dropped and, if that is
/// not enough, everything (a cache miss costs one unsealing or login, never correctness).
const MAX_ENTRIES: usize = 10_000;

/// Opened credentials, wiped from memory when the last call using them ends.
pub struct Opened(Credentials);

impl Opened {
    /// Wraps freshly opened credentials.
    pub fn new(credentials: Credentials) -> Self {
        Self(credentials)
    }

    /// The values, by field id.
    pub fn get(&self) -> &Credentials {
        &self.0
    }
}

impl Drop for Opened {
    fn drop(&mut self) {
        for value in self.0.values_mut() {
            value.zeroize();
        }
    }
}

/// Which credentials an entry holds: an integration as of its last change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// The integration id.
    pub integration: String,
    /// Its `updated_at`, in milliseconds: a relink changes it.
    pub version: i64,
}

struct Entry<T> {
    value: T,
    until: Instant,
}

/// A small map with expiry, shared by both caches.
struct Expiring<T> {
    map: Mutex<HashMap<Key, Entry<T>>>,
}

impl<T: Clone> Expiring<T> {
    fn new() -> Self {
        Self {
            map: Mutex::default(),
        }
    }

    fn get(&self, key: &Key) -> Option<T> {
        let map = lock(&self.map);
        map.get(key)
            .filter(|entry| entry.until > Instant::now())
            .map(|entry| entry.value.clone())
    }

    fn put(&self, key: Key, value: T, ttl: Duration) {
        let now = Instant::now();
        let mut map = lock(&self.map);
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, entry| entry.until > now);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        // Older versions of the same integration are useless from now on.
        map.retain(|other, _| other.integration != key.integration);
        map.insert(
            key,
            Entry {
                value,
                until: now + ttl,
            },
        );
    }

    fn remove(&self, key: &Key) {
        lock(&self.map).remove(key);
    }

    fn remove_integration(&self, integration: &str) {
        lock(&self.map).retain(|key, _| key.integration != integration);
    }
}

/// The two caches.
pub struct Caches {
    integrations: Expiring<Arc<Integration>>,
    credentials: Expiring<Arc<Opened>>,
    tokens: Expiring<Arc<Zeroizing<String>>>,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Caches")
    }
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            integrations: Expiring::new(),
            credentials: Expiring::new(),
            tokens: Expiring::new(),
        }
    }
}

impl Caches {
    /// The integration `id` of environment `environment`, if read in the last
    /// [`INTEGRATION_TTL`]. An integration of another environment is never returned.
    pub fn integration(&self, environment: &str, id: &IntegrationId) -> Option<Arc<Integration>> {
        self.integrations
            .get(&integration_key(id))
            .filter(|integration| integration.environment_id == environment)
    }

    /// Keeps an integration just read for [`INTEGRATION_TTL`].
    pub fn keep_integration(&self, integration: Arc<Integration>) {
        self.integrations.put(
            integration_key(&integration.id),
            integration,
            INTEGRATION_TTL,
        );
    }

    /// Forgets an integration this process just changed (disabled, deleted, relinked).
    pub fn forget_integration(&self, id: &IntegrationId) {
        self.integrations.remove_integration(id.as_str());
    }

    /// The opened credentials of `key`, if cached.
    pub fn credentials(&self, key: &Key) -> Option<Arc<Opened>> {
        self.credentials.get(key)
    }

    /// Keeps opened credentials for [`CREDENTIALS_TTL`].
    pub fn keep_credentials(&self, key: Key, opened: Arc<Opened>) {
        self.credentials.put(key, opened, CREDENTIALS_TTL);
    }

    /// The access token of `key`'s API `api`, if cached and not about to expire.
    pub fn token(&self, key: &Key, api: &str) -> Option<Arc<Zeroizing<String>>> {
        self.tokens.get(&token_key(key, api))
    }

    /// Keeps an access token until shortly before `lifetime` ends (not at all if it is shorter
    /// than the margin: such a token is used for the one call that fetched it).
    pub fn keep_token(
        &self,
        key: &Key,
        api: &str,
        token: Arc<Zeroizing<String>>,
        lifetime: Duration,
    ) {
        if let Some(ttl) = lifetime
            .checked_sub(TOKEN_MARGIN)
            .filter(|ttl| !ttl.is_zero())
        {
            self.tokens.put(token_key(key, api), token, ttl);
        }
    }

    /// Forgets a token the tool refused (401), so the next attempt logs in again.
    pub fn forget_token(&self, key: &Key, api: &str) {
        self.tokens.remove(&token_key(key, api));
    }
}

fn integration_key(id: &IntegrationId) -> Key {
    Key {
        integration: id.to_string(),
        version: 0,
    }
}

fn token_key(key: &Key, api: &str) -> Key {
    Key {
        integration: format!("{}/{api}", key.integration),
        version: key.version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(version: i64) -> Key {
        Key {
            integration: "acme:1".into(),
            version,
        }
    }

    #[test]
    fn a_new_version_replaces_the_old_one() {
        let caches = Caches::default();
        let opened = Arc::new(Opened::new([("api_key".into(), "old".into())].into()));
        caches.keep_credentials(key(1), opened);
        assert!(caches.credentials(&key(1)).is_some());
        assert!(
            caches.credentials(&key(2)).is_none(),
            "a relinked integration misses"
        );
        let newer = Arc::new(Opened::new([("api_key".into(), "new".into())].into()));
        caches.keep_credentials(key(2), newer);
        assert!(
            caches.credentials(&key(1)).is_none(),
            "the old version is dropped"
        );
    }

    #[test]
    fn tokens_expire_before_the_tool_says_and_can_be_forgotten() {
        let caches = Caches::default();
        let token = Arc::new(Zeroizing::new("t".to_owned()));
        caches.keep_token(&key(1), "v1", token.clone(), Duration::from_secs(30));
        assert!(
            caches.token(&key(1), "v1").is_none(),
            "shorter than the margin"
        );
        caches.keep_token(&key(1), "v1", token, Duration::from_secs(3600));
        assert!(caches.token(&key(1), "v1").is_some());
        assert!(caches.token(&key(1), "v2").is_none());
        caches.forget_token(&key(1), "v1");
        assert!(caches.token(&key(1), "v1").is_none());
    }
}
