//! Rate limits: API requests per API key, failed authentications per client address, and in
//! the hosted flow page views and credential submissions per link, per client address and (for
//! submissions) per environment, and dashboard sign-in attempts per client address.
//!
//! Each is a token bucket (GCRA, from `governor`) held in this process: a limit of N a minute
//! allows a burst of N and then one request every 60/N seconds. With several instances behind
//! a load balancer each counts on its own, so the effective limit is N times the instances —
//! the limits exist to stop a runaway client, a flood or a brute-force loop, not to meter usage.
//!
//! A refusal must cost less than the work it refuses, or a flood of refused requests would
//! still take the server down: a check reads the limiter's own clock (a TSC read; creating a
//! clock per refusal cost a CPUID instruction, which traps to the hypervisor on a VM, and made
//! a 429 dearer than a served request), and a refusal carries only numbers, so the answer is
//! built without any lookup.

use std::{
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
    sync::{Arc, Weak},
    time::{Duration, Instant},
};

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::Response,
};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

/// How often idle keys are forgotten (see [`spawn_pruning`]).
pub const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// How many client addresses the failed-authentication limit remembers as blocked at once;
/// past it the least recently seen are dropped, and counted again from their next failure.
const BLOCKED_CAPACITY: usize = 10_000;

/// What a limit counts, named in refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// API requests per API key (`PLUGBOARD_RATE_LIMIT_API`).
    ApiKey,
    /// Failed API authentications per client address (`PLUGBOARD_RATE_LIMIT_AUTH`).
    AuthFailures,
    /// Flow pages per link (`PLUGBOARD_RATE_LIMIT_PAGES`).
    PagesPerLink,
    /// Flow pages per client address (`PLUGBOARD_RATE_LIMIT_PAGES_PER_CLIENT`).
    PagesPerClient,
    /// Credential submissions per link (`PLUGBOARD_RATE_LIMIT_CREDENTIALS`).
    CredentialsPerLink,
    /// Credential submissions per client address
    /// (`PLUGBOARD_RATE_LIMIT_CREDENTIALS_PER_CLIENT`).
    CredentialsPerClient,
    /// Credential submissions per environment
    /// (`PLUGBOARD_RATE_LIMIT_CREDENTIALS_PER_ENVIRONMENT`).
    CredentialsPerEnvironment,
    /// Dashboard sign-in attempts per client address (`PLUGBOARD_RATE_LIMIT_SIGNINS`).
    SigninsPerClient,
}

impl Scope {
    /// A stable name, for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKey => "api_key",
            Self::AuthFailures => "auth_failures",
            Self::PagesPerLink => "pages_per_link",
            Self::PagesPerClient => "pages_per_client",
            Self::CredentialsPerLink => "credentials_per_link",
            Self::CredentialsPerClient => "credentials_per_client",
            Self::CredentialsPerEnvironment => "credentials_per_environment",
            Self::SigninsPerClient => "signins_per_client",
        }
    }

    /// What was exceeded, as the start of an API error message.
    pub fn what(self) -> &'static str {
        match self {
            Self::ApiKey => "Too many requests with this API key",
            Self::AuthFailures => "Too many requests with invalid API keys from this address",
            Self::PagesPerLink | Self::PagesPerClient => "Too many page views",
            Self::CredentialsPerLink
            | Self::CredentialsPerClient
            | Self::CredentialsPerEnvironment => "Too many credential submissions",
            Self::SigninsPerClient => "Too many sign-in attempts from this address",
        }
    }
}

/// A refused request: which limit, its size, and when to come back. Plain numbers, so that
/// answering a refusal costs next to nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// The limit that was exceeded.
    pub scope: Scope,
    /// Its size, per minute.
    pub limit: u32,
    /// Whole seconds until the next request is allowed (at least 1), for `Retry-After`.
    pub retry_after: u64,
}

impl Refused {
    /// Turns a page (the flow's localised explanation) into the refusal: `429` with
    /// `Retry-After`.
    pub fn page(self, mut response: Response) -> Response {
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(self.retry_after));
        response
    }
}

/// A client address as the per-client limits count it: an IPv4 address, or an IPv6 address's
/// /64 (one subscriber usually holds a whole /64, so counting single IPv6 addresses would let
/// one client rotate through 2^64 of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    /// The key of `ip` (an IPv4-mapped IPv6 address counts as its IPv4 address).
    pub fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !(u128::from(u64::MAX));
                Self(IpAddr::V6(Ipv6Addr::from(prefix)))
            }
            v4 => Self(v4),
        }
    }
}

/// One keyed limit, or none when the operator turned it off.
pub struct Limit<K: std::hash::Hash + Eq + Clone> {
    scope: Scope,
    per_minute: Option<NonZeroU32>,
    limiter: Option<DefaultKeyedRateLimiter<K>>,
}

impl<K: std::hash::Hash + Eq + Clone> Limit<K> {
    /// `per_minute` requests a minute per key; `None` allows everything.
    pub fn new(scope: Scope, per_minute: Option<NonZeroU32>) -> Self {
        Self {
            scope,
            per_minute,
            limiter: per_minute.map(|n| RateLimiter::keyed(Quota::per_minute(n))),
        }
    }

    /// The configured limit per minute, if any.
    pub fn per_minute(&self) -> Option<u32> {
        self.per_minute.map(NonZeroU32::get)
    }

    /// Counts one request for `key`; a refusal says when the next one is allowed.
    pub fn check(&self, key: &K) -> Result<(), Refused> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| {
            // The limiter's own clock: a fresh clock would probe the CPU on every refusal.
            self.refused(not_until.wait_time_from(limiter.clock().now()))
        })
    }

    fn refused(&self, wait: Duration) -> Refused {
        Refused {
            scope: self.scope,
            limit: self.per_minute().unwrap_or_default(),
            retry_after: retry_after_seconds(wait),
        }
    }

    /// Forgets keys whose buckets are full again, so memory follows the active keys.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// How many keys the limit remembers.
    pub fn len(&self) -> usize {
        self.limiter.as_ref().map_or(0, |limiter| limiter.len())
    }

    /// Whether the limit remembers no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Limit<ClientKey> {
    /// Counts one request from the client at `ip`; a client whose address is unknown is not
    /// limited.
    pub fn check_client(&self, ip: Option<IpAddr>) -> Result<(), Refused> {
        ip.map_or(Ok(()), |ip| self.check(&ClientKey::of(ip)))
    }
}

/// Failed authentications per client address. Failures are counted; once a client is over the
/// limit it is refused before its key is even hashed, until its bucket allows another attempt,
/// so a flood of made-up keys costs neither a hash nor a database read.
pub struct AuthFailures {
    limit: Limit<ClientKey>,
    /// Clients over the limit, and until when.
    blocked: quick_cache::sync::Cache<ClientKey, Instant>,
}

impl AuthFailures {
    /// `per_minute` failures a minute per client; `None` allows everything.
    pub fn new(per_minute: Option<NonZeroU32>) -> Self {
        Self {
            limit: Limit::new(Scope::AuthFailures, per_minute),
            blocked: quick_cache::sync::Cache::new(BLOCKED_CAPACITY),
        }
    }

    /// The configured limit per minute, if any.
    pub fn per_minute(&self) -> Option<u32> {
        self.limit.per_minute()
    }

    /// Whether the client at `ip` may try to authenticate now. Counts nothing.
    pub fn admit(&self, ip: Option<IpAddr>) -> Result<(), Refused> {
        let Some(ip) = ip.filter(|_| self.limit.limiter.is_some()) else {
            return Ok(());
        };
        let key = ClientKey::of(ip);
        match self.blocked.get(&key) {
            Some(until) => match until.checked_duration_since(Instant::now()) {
                Some(wait) if !wait.is_zero() => Err(self.limit.refused(wait)),
                _ => {
                    self.blocked.remove(&key);
                    Ok(())
                }
            },
            None => Ok(()),
        }
    }

    /// Counts a failed authentication of the client at `ip`. A refusal means the client is
    /// now over the limit and is blocked until the refusal's `retry_after`.
    pub fn failed(&self, ip: Option<IpAddr>) -> Result<(), Refused> {
        let Some(ip) = ip else {
            return Ok(());
        };
        let key = ClientKey::of(ip);
        let Some(limiter) = &self.limit.limiter else {
            return Ok(());
        };
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(limiter.clock().now());
            self.blocked.insert(key, Instant::now() + wait);
            self.limit.refused(wait)
        })
    }

    /// Forgets idle clients and expired blocks.
    pub fn forget_idle(&self) {
        self.limit.forget_idle();
        let now = Instant::now();
        self.blocked.retain(|_, until| *until > now);
    }

    /// How many clients the limit remembers (counted or blocked).
    pub fn len(&self) -> usize {
        self.limit.len() + self.blocked.len()
    }

    /// Whether the limit remembers no client.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Wrong dashboard passwords per address (the e-mail typed, lower-cased), in this process:
/// what locks an address that has no account as an account is locked in the database
/// (`operators.rs`), so the lock does not tell which addresses have accounts.
pub struct AccountFailures(quick_cache::sync::Cache<String, (u32, Instant)>);

impl Default for AccountFailures {
    fn default() -> Self {
        Self(quick_cache::sync::Cache::new(BLOCKED_CAPACITY))
    }
}

impl AccountFailures {
    fn lockout() -> Duration {
        crate::operators::LOCKOUT
            .to_std()
            .unwrap_or(Duration::from_secs(900))
    }

    /// How much longer `address` is locked, if it is.
    pub fn locked_for(&self, address: &str) -> Option<chrono::Duration> {
        let (count, last) = self.0.get(address)?;
        let left = Self::lockout().checked_sub(last.elapsed())?;
        (count >= crate::operators::LOCKOUT_AFTER)
            .then(|| chrono::Duration::from_std(left).unwrap_or_default())
    }

    /// Counts a wrong password for `address`; a run older than the lock starts again.
    pub fn failed(&self, address: &str) {
        let count = match self.0.get(address) {
            Some((count, last)) if last.elapsed() < Self::lockout() => count + 1,
            _ => 1,
        };
        self.0.insert(address.to_owned(), (count, Instant::now()));
    }

    /// Forgets `address`'s failures after a successful sign-in.
    pub fn succeeded(&self, address: &str) {
        self.0.remove(address);
    }
}

/// A wait as whole seconds for `Retry-After`: rounded up, at least 1.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    let rounded_up = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    rounded_up.max(1)
}

/// Every limit of the process.
pub struct RateLimits {
    /// API requests, keyed by the SHA-256 of the API key.
    pub api: Limit<Vec<u8>>,
    /// Failed API authentications, keyed by client address.
    pub auth_failures: AuthFailures,
    /// Flow pages (`GET /connect`), keyed by link id.
    pub pages: Limit<String>,
    /// Flow pages, keyed by client address.
    pub pages_per_client: Limit<ClientKey>,
    /// Credential submissions in the hosted flow, keyed by link id.
    pub credentials: Limit<String>,
    /// Credential submissions, keyed by client address: one client with many links.
    pub credentials_per_client: Limit<ClientKey>,
    /// Credential submissions, keyed by environment id: many clients with many links.
    pub credentials_per_environment: Limit<String>,
    /// Dashboard sign-in attempts, keyed by client address.
    pub signins: Limit<ClientKey>,
    /// Wrong dashboard passwords, keyed by the address typed.
    pub signin_addresses: AccountFailures,
}

impl RateLimits {
    /// The limits `config` asks for.
    pub fn new(config: &crate::config::Config) -> Self {
        Self {
            api: Limit::new(Scope::ApiKey, config.rate_limit_api),
            auth_failures: AuthFailures::new(config.rate_limit_auth),
            pages: Limit::new(Scope::PagesPerLink, config.rate_limit_pages),
            pages_per_client: Limit::new(Scope::PagesPerClient, config.rate_limit_pages_per_client),
            credentials: Limit::new(Scope::CredentialsPerLink, config.rate_limit_credentials),
            credentials_per_client: Limit::new(
                Scope::CredentialsPerClient,
                config.rate_limit_credentials_per_client,
            ),
            credentials_per_environment: Limit::new(
                Scope::CredentialsPerEnvironment,
                config.rate_limit_credentials_per_environment,
            ),
            signins: Limit::new(Scope::SigninsPerClient, config.rate_limit_signins),
            signin_addresses: AccountFailures::default(),
        }
    }

    /// Forgets every idle key of every limit.
    pub fn forget_idle(&self) {
        self.api.forget_idle();
        self.auth_failures.forget_idle();
        self.pages.forget_idle();
        self.pages_per_client.forget_idle();
        self.credentials.forget_idle();
        self.credentials_per_client.forget_idle();
        self.credentials_per_environment.forget_idle();
        self.signins.forget_idle();
    }

    /// How many keys all limits remember together.
    pub fn len(&self) -> usize {
        self.api.len()
            + self.auth_failures.len()
            + self.pages.len()
            + self.pages_per_client.len()
            + self.credentials.len()
            + self.credentials_per_client.len()
            + self.credentials_per_environment.len()
            + self.signins.len()
    }

    /// Whether no limit remembers any key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Forgets idle keys of `limits` every `every`, so that a limiter's memory follows the keys
/// active in the last minute rather than every key ever seen (links, addresses and made-up
/// keys are unbounded). The task holds only a weak reference: it ends once the state is gone.
pub fn spawn_pruning(limits: &Arc<RateLimits>, every: Duration) -> tokio::task::JoinHandle<()> {
    let limits: Weak<RateLimits> = Arc::downgrade(limits);
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate; there is nothing to forget yet.
        interval.tick().await;
        loop {
            interval.tick().await;
            let Some(limits) = limits.upgrade() else {
                return;
            };
            limits.forget_idle();
        }
    })
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("api", &self.api.per_minute())
            .field("auth_failures", &self.auth_failures.per_minute())
            .field("pages", &self.pages.per_minute())
            .field("pages_per_client", &self.pages_per_client.per_minute())
            .field("credentials", &self.credentials.per_minute())
            .field(
                "credentials_per_client",
                &self.credentials_per_client.per_minute(),
            )
            .field(
                "credentials_per_environment",
                &self.credentials_per_environment.per_minute(),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_the_limit_then_refusal_with_a_wait() {
        let limit = Limit::new(Scope::CredentialsPerLink, NonZeroU32::new(3));
        let key = "link".to_owned();
        for _ in 0..3 {
            assert!(limit.check(&key).is_ok());
        }
        let refused = limit.check(&key).expect_err("fourth");
        assert_eq!(refused.scope, Scope::CredentialsPerLink);
        assert_eq!(refused.limit, 3);
        assert!(
            (16..=20).contains(&refused.retry_after),
            "{}",
            refused.retry_after
        );
        assert!(
            limit.check(&"other".to_owned()).is_ok(),
            "keys are independent"
        );
    }

    #[test]
    fn off_allows_everything() {
        let limit = Limit::<String>::new(Scope::ApiKey, None);
        for _ in 0..10_000 {
            assert!(limit.check(&"k".to_owned()).is_ok());
        }
        assert!(limit.is_empty());
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_seconds(Duration::from_millis(2001)), 3);
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let ip = |text: &str| text.parse::<IpAddr>().expect("address");
        assert_eq!(
            ClientKey::of(ip("2001:db8:1:2:aaaa::1")),
            ClientKey::of(ip("2001:db8:1:2:bbbb:cccc:dddd:eeee"))
        );
        assert_ne!(
            ClientKey::of(ip("2001:db8:1:2::1")),
            ClientKey::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            ClientKey::of(ip("::ffff:192.0.2.7")),
            ClientKey::of(ip("192.0.2.7")),
            "an IPv4-mapped address is its IPv4 address"
        );
        assert_ne!(
            ClientKey::of(ip("192.0.2.7")),
            ClientKey::of(ip("192.0.2.8"))
        );
    }

    #[test]
    fn failed_authentications_block_the_client_before_it_is_counted() {
        let failures = AuthFailures::new(NonZeroU32::new(2));
        let attacker = Some("2001:db8::1".parse().expect("address"));
        let neighbour = Some("2001:db8::2".parse().expect("address"));
        let other = Some("192.0.2.1".parse().expect("address"));
        for _ in 0..2 {
            assert!(failures.admit(attacker).is_ok());
            assert!(failures.failed(attacker).is_ok());
        }
        let refused = failures.failed(attacker).expect_err("third failure");
        assert_eq!(refused.scope, Scope::AuthFailures);
        let early = failures
            .admit(attacker)
            .expect_err("blocked before counting");
        assert!((1..=30).contains(&early.retry_after), "{early:?}");
        assert!(
            failures.admit(neighbour).is_err(),
            "the same /64 is the same client"
        );
        assert!(failures.admit(other).is_ok(), "clients are independent");
        assert!(
            failures.admit(None).is_ok(),
            "an unknown address is let through"
        );
        let off = AuthFailures::new(None);
        for _ in 0..1000 {
            assert!(off.failed(attacker).is_ok() && off.admit(attacker).is_ok());
        }
    }

    #[tokio::test]
    async fn idle_keys_are_forgotten_and_the_pruner_ends_with_the_state() {
        let mut config = crate::config::Config::defaults();
        // 60,000 a minute: a bucket refills in a millisecond, so a key is idle almost at once.
        config.rate_limit_pages = NonZeroU32::new(60_000);
        config.rate_limit_auth = NonZeroU32::new(60_000);
        let limits = Arc::new(RateLimits::new(&config));
        limits.pages.check(&"link".to_owned()).expect("allowed");
        limits
            .auth_failures
            .failed(Some("192.0.2.1".parse().expect("address")))
            .expect("allowed");
        assert_eq!(limits.len(), 2);
        let pruner = spawn_pruning(&limits, Duration::from_millis(10));
        let deadline = Instant::now() + Duration::from_secs(30);
        while !limits.is_empty() {
            assert!(Instant::now() < deadline, "idle keys were never forgotten");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(limits);
        tokio::time::timeout(Duration::from_secs(30), pruner)
            .await
            .expect("the pruner ends once the state is gone")
            .expect("the pruner does not panic");
    }
}
