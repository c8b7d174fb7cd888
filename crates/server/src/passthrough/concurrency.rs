//! At most N passthrough calls in flight per integration (per process), as Kombo limits them:
//! one customer's burst cannot take every connection to a tool, and a tool's own
//! concurrency limits are not hammered. A refused call learns the limit and what remains.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use crate::lock;

/// The counters of calls in flight, by integration id.
#[derive(Debug)]
pub struct Concurrency {
    limit: u32,
    in_flight: Arc<Mutex<HashMap<String, u32>>>,
}

/// A call's place among its integration's calls; dropping it frees the place.
#[derive(Debug)]
pub struct Permit {
    key: String,
    in_flight: Arc<Mutex<HashMap<String, u32>>>,
    /// Places left for other calls while this one runs.
    pub remaining: u32,
}

/// The integration has `limit` calls in flight already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full {
    /// The limit.
    pub limit: u32,
}

impl Concurrency {
    /// At most `limit` calls per integration.
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            in_flight: Arc::default(),
        }
    }

    /// The limit, for the `Concurrency-Limit` header.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Takes a place for a call of `integration`, or says the integration is at its limit.
    pub fn acquire(&self, integration: &str) -> Result<Permit, Full> {
        let mut map = lock(&self.in_flight);
        let count = map.entry(integration.to_owned()).or_insert(0);
        if *count >= self.limit {
            return Err(Full { limit: self.limit });
        }
        *count += 1;
        Ok(Permit {
            key: integration.to_owned(),
            in_flight: self.in_flight.clone(),
            remaining: self.limit - *count,
        })
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut map = lock(&self.in_flight);
        if let Some(count) = map.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                map.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_per_integration_and_freed_on_drop() {
        let limits = Concurrency::new(2);
        let first = limits.acquire("a").expect("first");
        assert_eq!(first.remaining, 1);
        let second = limits.acquire("a").expect("second");
        assert_eq!(second.remaining, 0);
        assert_eq!(limits.acquire("a").expect_err("full"), Full { limit: 2 });
        assert!(limits.acquire("b").is_ok(), "another integration");
        drop(first);
        assert!(limits.acquire("a").is_ok());
        drop(second);
        assert!(
            lock(&limits.in_flight).is_empty(),
            "no counters are kept for idle integrations"
        );
    }
}
