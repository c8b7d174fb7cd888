//! Contract of [`crate::WebhookEndpoints`], and of the fan-out of events to them.

use std::{collections::HashMap, sync::Arc};

use chrono::Duration;

use super::{claim_now, endpoint};
use crate::{
    EnvironmentName, Store,
    contract::{environment_id, event, millis_now, sealed},
    webhooks::{DeliveryFilter, DisabledReason, EndpointChanges, PreviousSecret, WebhookEndpoint},
};

/// The endpoints of the webhook tests: in development one subscribed to two event types
/// (`all`), one to `integration-created` only, one disabled by hand; one in production.
struct Endpoints {
    dev: String,
    prod: String,
    all: WebhookEndpoint,
    created_only: WebhookEndpoint,
}

async fn four_endpoints(store: &dyn Store) -> Endpoints {
    let dev = environment_id(store, EnvironmentName::Development).await;
    let prod = environment_id(store, EnvironmentName::Production).await;
    let all = endpoint(
        &dev,
        "https://a.example/hook",
        &["integration-created", "integration-deleted"],
    );
    let created_only = endpoint(&dev, "https://b.example/hook", &["integration-created"]);
    let disabled = WebhookEndpoint {
        enabled: false,
        disabled_reason: Some(DisabledReason::Manual),
        ..endpoint(&dev, "https://c.example/hook", &["integration-created"])
    };
    let production = endpoint(&prod, "https://d.example/hook", &["integration-created"]);
    for e in [&all, &created_only, &disabled, &production] {
        store.insert_webhook_endpoint(e).await.expect("insert");
    }
    Endpoints {
        dev,
        prod,
        all,
        created_only,
    }
}

/// Endpoints are stored, found in their environment only, and listed.
pub async fn webhook_endpoints_are_stored_and_listed(store: Arc<dyn Store>) {
    let Endpoints { dev, prod, all, .. } = four_endpoints(&*store).await;
    assert_eq!(
        store.webhook_endpoint(&dev, &all.id).await.expect("get"),
        Some(all.clone())
    );
    assert_eq!(
        store.webhook_endpoint(&prod, &all.id).await.expect("get"),
        None,
        "scoped"
    );
    assert_eq!(
        store
            .list_webhook_endpoints(Some(&dev))
            .await
            .expect("list")
            .len(),
        3
    );
    assert_eq!(
        store
            .list_webhook_endpoints(None)
            .await
            .expect("list")
            .len(),
        4
    );
}

/// Each event type reaches only enabled endpoints of its environment that subscribe to it,
/// with the event's exact body.
pub async fn events_fan_out_to_subscribed_enabled_endpoints(store: Arc<dyn Store>) {
    let Endpoints { dev, .. } = four_endpoints(&*store).await;
    store
        .record_event(&event(&dev, "integration-created"))
        .await
        .expect("event");
    store
        .record_event(&event(&dev, "integration-deleted"))
        .await
        .expect("event");
    store
        .record_event(&event(&dev, "connection-flow-failed"))
        .await
        .expect("event");
    let in_flight = HashMap::new();
    let claimed = store
        .claim_deliveries(&claim_now("lease-1", &in_flight, 100))
        .await
        .expect("claim");
    let mut got: Vec<(String, String)> = claimed
        .iter()
        .map(|c| (c.url.clone(), c.event_type.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "https://a.example/hook".to_owned(),
                "integration-created".to_owned()
            ),
            (
                "https://a.example/hook".to_owned(),
                "integration-deleted".to_owned()
            ),
            (
                "https://b.example/hook".to_owned(),
                "integration-created".to_owned()
            ),
        ]
    );
    let first = &claimed[0];
    assert_eq!(first.attempt, 1);
    assert_eq!(first.secret, sealed("secret-1"));
    assert!(
        first.payload.contains(&first.event_id),
        "the event's exact body travels"
    );
}

/// Changes: disabling by hand records why; enabling clears it; other environments' endpoints
/// are out of reach.
pub async fn endpoint_changes_disable_and_enable(store: Arc<dyn Store>) {
    let Endpoints {
        dev,
        prod,
        created_only,
        ..
    } = four_endpoints(&*store).await;
    // Changes: disabling by hand records why; enabling clears it.
    let changed = store
        .update_webhook_endpoint(
            &dev,
            &created_only.id,
            &EndpointChanges {
                url: Some("https://b.example/v2".into()),
                event_types: Some(vec!["integration-deleted".into()]),
                enabled: Some(false),
            },
            millis_now(),
        )
        .await
        .expect("update")
        .expect("exists");
    assert_eq!(changed.url, "https://b.example/v2");
    assert_eq!(changed.event_types, vec!["integration-deleted".to_owned()]);
    assert_eq!(
        (changed.enabled, changed.disabled_reason),
        (false, Some(DisabledReason::Manual))
    );
    let enabled = store
        .update_webhook_endpoint(
            &dev,
            &created_only.id,
            &EndpointChanges {
                enabled: Some(true),
                ..Default::default()
            },
            millis_now(),
        )
        .await
        .expect("update")
        .expect("exists");
    assert_eq!((enabled.enabled, enabled.disabled_reason), (true, None));
    assert_eq!(
        store
            .update_webhook_endpoint(
                &prod,
                &created_only.id,
                &EndpointChanges::default(),
                millis_now()
            )
            .await
            .expect("update"),
        None
    );
}

/// Rotation keeps the old secret, with its expiry.
pub async fn rotation_keeps_the_previous_secret(store: Arc<dyn Store>) {
    let Endpoints { dev, all, .. } = four_endpoints(&*store).await;
    // Rotation keeps the old secret, with its expiry.
    let expires = millis_now() + Duration::hours(24);
    let rotated = store
        .rotate_webhook_secret(&dev, &all.id, &sealed("secret-2"), expires, millis_now())
        .await
        .expect("rotate")
        .expect("exists");
    assert_eq!(rotated.secret, sealed("secret-2"));
    assert_eq!(
        rotated.previous_secret,
        Some(PreviousSecret {
            secret: sealed("secret-1"),
            expires_at: expires
        })
    );
    assert!(
        store
            .sealing_key_ids()
            .await
            .expect("ids")
            .contains(&"k1".to_owned())
    );
}

/// A test event reaches its endpoint only, even one not subscribed to its type.
pub async fn a_test_event_reaches_one_endpoint(store: Arc<dyn Store>) {
    let Endpoints {
        dev,
        all,
        created_only,
        ..
    } = four_endpoints(&*store).await;
    let expires = millis_now() + Duration::hours(24);
    store
        .rotate_webhook_secret(&dev, &all.id, &sealed("secret-2"), expires, millis_now())
        .await
        .expect("rotate")
        .expect("exists");
    let in_flight = HashMap::new();
    // A test event reaches its endpoint only, even one not subscribed to its type.
    let test = event(&dev, "webhook-test");
    let delivery = store
        .queue_event_for_endpoint(&test, &created_only.id)
        .await
        .expect("queue")
        .expect("endpoint exists");
    let claimed = store
        .claim_deliveries(&claim_now("lease-2", &in_flight, 100))
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        (claimed[0].id.as_str(), claimed[0].event_id.as_str()),
        (delivery.as_str(), test.id.as_str())
    );
    assert_eq!(
        claimed[0].previous_secret, None,
        "another endpoint's rotation"
    );
    assert_eq!(
        store
            .queue_event_for_endpoint(&event(&dev, "webhook-test"), "missing")
            .await
            .expect("queue"),
        None
    );
}

/// Deleting an endpoint deletes its deliveries, and only its own.
pub async fn deleting_an_endpoint_deletes_its_deliveries(store: Arc<dyn Store>) {
    let Endpoints {
        dev,
        all,
        created_only,
        ..
    } = four_endpoints(&*store).await;
    store
        .record_event(&event(&dev, "integration-created"))
        .await
        .expect("event");
    let test = event(&dev, "webhook-test");
    let delivery = store
        .queue_event_for_endpoint(&test, &created_only.id)
        .await
        .expect("queue")
        .expect("endpoint exists");
    // Deleting an endpoint deletes its deliveries.
    assert!(
        store
            .delete_webhook_endpoint(&dev, &all.id)
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_webhook_endpoint(&dev, &all.id)
            .await
            .expect("delete")
    );
    assert_eq!(
        store
            .delivery(&dev, &delivery)
            .await
            .expect("get")
            .map(|d| d.delivery.endpoint_id),
        Some(created_only.id.clone())
    );
    assert!(
        store
            .list_deliveries(&dev, &all.id, &DeliveryFilter::default(), None, 10)
            .await
            .expect("list")
            .is_empty()
    );
}
