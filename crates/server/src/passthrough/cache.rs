//! What passthrough keeps between calls of one integration: the integration itself (for two
//! seconds), its opened credentials and the access tokens its token logins returned.
//!
//! Opening sealed credentials costs a key derivation and a decryption, and a token login a
//! round trip to the tool; neither should happen on every call. Both caches are keyed by the
//! integration's `updated_at` as well as its id, so a relink (new credentials) misses them at
//! once on every instance. Entries live at most [`CREDENTIALS_TTL`] (tokens: their lifetime,
//! less a margin), are dropped when found expired or by the pruning every minute, and are
//! wiped from memory when dropped.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use zeroize::Zeroizing;

use plugboard_store::{Integration, ids::IntegrationId};

use crate::{integrations::Opened, lock};

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
        let mut map = lock(&self.map);
        let entry = map.get(key)?;
        if entry.until > Instant::now() {
            return Some(entry.value.clone());
        }
        // Expired: dropped now, so a secret does not outlive its time.
        map.remove(key);
        None
    }

    /// Drops every expired entry.
    fn prune(&self) {
        let now = Instant::now();
        lock(&self.map).retain(|_, entry| entry.until > now);
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

    /// Drops every entry of `integration` (a token's key is `<integration>/<api>`).
    fn remove_integration(&self, integration: &str) {
        lock(&self.map).retain(|key, _| {
            key.integration != integration
                && !key
                    .integration
                    .strip_prefix(integration)
                    .is_some_and(|rest| rest.starts_with('/'))
        });
    }
}

/// How long after a refused call brought a connection check forward the next one does not.
pub const REFUSAL_COOLDOWN: Duration = Duration::from_secs(300);

/// How often expired entries are dropped.
pub const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Prunes `caches` every [`PRUNE_EVERY`] until they are dropped with the application state.
pub fn spawn_pruning(caches: &Arc<Caches>) {
    let caches = Arc::downgrade(caches);
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(PRUNE_EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let Some(caches) = caches.upgrade() else {
                return;
            };
            caches.prune();
        }
    });
}

/// The caches of integrations, opened credentials and access tokens.
pub struct Caches {
    /// Integrations whose refused call brought a connection check forward recently.
    refusals: Expiring<()>,
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
            refusals: Expiring::new(),
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

    /// Forgets everything kept of an integration this process just changed (disabled,
    /// deleted, relinked): the integration, its opened credentials and its access tokens.
    pub fn forget_integration(&self, id: &IntegrationId) {
        self.refusals.remove_integration(id.as_str());
        self.integrations.remove_integration(id.as_str());
        self.credentials.remove_integration(id.as_str());
        self.tokens.remove_integration(id.as_str());
    }

    /// Whether a refused call (401, 403) of `id` should bring its connection check forward:
    /// once per [`REFUSAL_COOLDOWN`], so that a product looping over what it may not read does
    /// not turn every call into a verification request to the tool.
    pub fn first_refusal(&self, id: &IntegrationId) -> bool {
        let key = integration_key(id);
        if self.refusals.get(&key).is_some() {
            return false;
        }
        self.refusals.put(key, (), REFUSAL_COOLDOWN);
        true
    }

    /// Drops every expired entry, so that the credentials and tokens of integrations no longer
    /// called leave memory; run every minute ([`spawn_pruning`]).
    pub fn prune(&self) {
        self.refusals.prune();
        self.integrations.prune();
        self.credentials.prune();
        self.tokens.prune();
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
    use std::collections::BTreeMap;

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
    fn forgetting_an_integration_drops_its_credentials_and_tokens() {
        let caches = Caches::default();
        let opened = Arc::new(Opened::new([("api_key".into(), "k".into())].into()));
        let token = Arc::new(Zeroizing::new("t".to_owned()));
        caches.keep_credentials(key(1), opened);
        caches.keep_token(&key(1), "v1", token, Duration::from_secs(3600));
        let other = Key {
            integration: "acme:10".into(),
            version: 1,
        };
        let kept = Arc::new(Opened::new(BTreeMap::new()));
        caches.keep_credentials(other.clone(), kept);
        caches.forget_integration(
            &IntegrationId::parse("acme:111111111111111111111111").expect("id"),
        );
        assert!(caches.credentials(&other).is_some());
        let id = IntegrationId::parse("acme:111111111111111111111112").expect("id");
        let own = Key {
            integration: id.to_string(),
            version: 1,
        };
        caches.keep_credentials(own.clone(), Arc::new(Opened::new(BTreeMap::new())));
        caches.keep_token(
            &own,
            "v1",
            Arc::new(Zeroizing::new("t".into())),
            Duration::from_secs(3600),
        );
        caches.forget_integration(&id);
        assert!(caches.credentials(&own).is_none());
        assert!(caches.token(&own, "v1").is_none());
        assert!(
            caches.credentials(&other).is_some(),
            "another integration is kept"
        );
        assert!(caches.credentials(&key(1)).is_some());
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
