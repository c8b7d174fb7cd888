//! Rate limits: API requests per API key, credential submissions per link.
//!
//! Both are token buckets (GCRA, from `governor`) held in this process: a limit of N a minute
//! allows a burst of N and then one request every 60/N seconds. With several instances behind
//! a load balancer each counts on its own, so the effective limit is N times the instances —
//! the limits exist to stop a runaway client or a brute-force loop, not to meter usage.

use std::{num::NonZeroU32, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

/// One keyed limit, or none when the operator turned it off.
pub struct Limit<K: std::hash::Hash + Eq + Clone> {
    per_minute: Option<NonZeroU32>,
    limiter: Option<DefaultKeyedRateLimiter<K>>,
}

impl<K: std::hash::Hash + Eq + Clone> Limit<K> {
    /// `per_minute` requests a minute per key; `None` allows everything.
    pub fn new(per_minute: Option<NonZeroU32>) -> Self {
        Self {
            per_minute,
            limiter: per_minute.map(|n| RateLimiter::keyed(Quota::per_minute(n))),
        }
    }

    /// The configured limit per minute, if any.
    pub fn per_minute(&self) -> Option<u32> {
        self.per_minute.map(NonZeroU32::get)
    }

    /// Counts one request for `key`. `Err` carries how long until the next one is allowed.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| {
            not_until.wait_time_from(governor::clock::DefaultClock::default().now())
        })
    }

    /// Forgets keys whose buckets are full again, so memory follows the active keys.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
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
    /// Credential submissions in the hosted flow, keyed by link id.
    pub credentials: Limit<String>,
}

impl RateLimits {
    /// The limits `config` asks for.
    pub fn new(config: &crate::config::Config) -> Self {
        Self {
            api: Limit::new(config.rate_limit_api),
            credentials: Limit::new(config.rate_limit_credentials),
        }
    }
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("api", &self.api.per_minute())
            .field("credentials", &self.credentials.per_minute())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_the_limit_then_refusal_with_a_wait() {
        let limit = Limit::new(NonZeroU32::new(3));
        let key = "link".to_owned();
        for _ in 0..3 {
            assert!(limit.check(&key).is_ok());
        }
        let wait = limit.check(&key).expect_err("fourth");
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(
            limit.check(&"other".to_owned()).is_ok(),
            "keys are independent"
        );
    }

    #[test]
    fn off_allows_everything() {
        let limit = Limit::<String>::new(None);
        for _ in 0..10_000 {
            assert!(limit.check(&"k".to_owned()).is_ok());
        }
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_seconds(Duration::from_millis(2001)), 3);
    }
}
