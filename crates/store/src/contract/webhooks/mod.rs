//! Contract of [`crate::WebhookEndpoints`] and [`crate::Deliveries`], with their fixtures.

use std::collections::HashMap;

use chrono::{Duration, Utc};

use super::{millis_now, sealed};
use crate::ids;
use crate::webhooks::{
    Attempt, AttemptOutcome, Claim, ClaimedDelivery, EndpointHealth, NextStep, WebhookEndpoint,
};

mod deliveries;
mod endpoints;

pub use deliveries::*;
pub use endpoints::*;

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
