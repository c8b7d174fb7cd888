//! Contract of [`crate::WebhookEndpoints`] and [`crate::Deliveries`], with their fixtures.

use std::collections::HashMap;

use chrono::{Duration, Utc};

use super::{environment_id, event, millis_now, sealed};
use crate::{
    EnvironmentName, Store, ids,
    webhooks::{
        Attempt, AttemptOutcome, Claim, ClaimedDelivery, EndpointHealth, NextStep, WebhookEndpoint,
    },
};

mod deliveries;
mod endpoints;

pub use deliveries::*;
pub use endpoints::*;

/// An enabled endpoint of `environment_id` at `url`, subscribed to `types`, signing with
/// `secret-1`.
pub(super) fn endpoint(environment_id: &str, url: &str, types: &[&str]) -> WebhookEndpoint {
    let now = millis_now();
    WebhookEndpoint {
        id: ids::new_id(),
        environment_id: environment_id.into(),
        url: url.into(),
        event_types: types.iter().map(|t| (*t).to_owned()).collect(),
        enabled: true,
        disabled_reason: None,
        secret: sealed("secret-1"),
        previous_secret: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    }
}

fn claim_now<'a>(lease_id: &'a str, in_flight: &'a HashMap<String, u32>, limit: u32) -> Claim<'a> {
    let now = Utc::now();
    Claim {
        lease_id,
        now,
        lease_until: now + Duration::seconds(60),
        limit,
        per_endpoint: 100,
        in_flight,
    }
}

fn outcome(
    claimed: &ClaimedDelivery,
    status: Option<u16>,
    next: NextStep,
    health: EndpointHealth,
) -> AttemptOutcome {
    AttemptOutcome {
        delivery_id: claimed.id.clone(),
        lease_id: claimed.lease_id.clone(),
        endpoint_id: claimed.endpoint_id.clone(),
        attempt: Attempt {
            number: claimed.attempt,
            started_at: millis_now(),
            duration_ms: 12,
            http_status: status,
            error: status.is_none().then(|| "timed out after 15 s".to_owned()),
            response_excerpt: status.map(|s| format!("answer {s}")),
        },
        next,
        health,
    }
}

/// Two development endpoints subscribed to `integration-created`, and 20 such events: 40
/// deliveries, all due.
async fn twenty_events(store: &dyn Store) -> (String, WebhookEndpoint, WebhookEndpoint) {
    let dev = environment_id(store, EnvironmentName::Development).await;
    let hook = endpoint(&dev, "https://a.example/hook", &["integration-created"]);
    let other = endpoint(&dev, "https://b.example/hook", &["integration-created"]);
    store.insert_webhook_endpoint(&hook).await.expect("insert");
    store.insert_webhook_endpoint(&other).await.expect("insert");
    for _ in 0..20 {
        store
            .record_event(&event(&dev, "integration-created"))
            .await
            .expect("event");
    }
    (dev, hook, other)
}

/// The environment, the two endpoints and the claimed deliveries of [`leased`].
type Leased = (
    String,
    WebhookEndpoint,
    WebhookEndpoint,
    Vec<ClaimedDelivery>,
);

/// [`twenty_events`], every delivery claimed under `lease-b`.
async fn leased(store: &dyn Store) -> Leased {
    let (dev, hook, other) = twenty_events(store).await;
    let none = HashMap::new();
    let claimed = store
        .claim_deliveries(&claim_now("lease-b", &none, 100))
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 40);
    (dev, hook, other, claimed)
}
