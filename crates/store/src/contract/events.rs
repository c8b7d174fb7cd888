//! Contract of [`crate::Events`].

use std::sync::Arc;

use chrono::Duration;

use super::{environment_id, event, millis_now, new_integration};
use crate::{EnvironmentName, Event, Store};

/// Standalone events are stored with their detail, found by id in their environment only, and
/// listed newest first.
pub async fn standalone_events_are_stored_and_found(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let new = new_integration(&dev, "personio", None);
    store.create_integration(&new).await.expect("create");
    let failed = Event {
        detail: Some("invalid_credentials".into()),
        // Newer than the creation event even within the same millisecond.
        created_at: millis_now() + Duration::milliseconds(5),
        ..event(&dev, "connection-flow-failed")
    };
    store.record_event(&failed).await.expect("record");
    assert_eq!(
        store.event(&dev, &failed.id).await.expect("get"),
        Some(failed.clone())
    );
    let prod = environment_id(&*store, EnvironmentName::Production).await;
    assert_eq!(
        store.event(&prod, &failed.id).await.expect("get"),
        None,
        "scoped to its environment"
    );
    assert_eq!(
        store.recent_events(&dev, 1).await.expect("events"),
        vec![failed]
    );
}

/// An integration's events are found by its id, newest first, with their deliveries; events
/// about other integrations or none are not.
pub async fn an_integrations_events_and_deliveries_are_found(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let prod = environment_id(&*store, EnvironmentName::Production).await;
    let endpoint = super::webhooks::endpoint(
        &dev,
        "https://hooks.example.com/a",
        &[
            "integration-created",
            "integration-state-changed",
            "connection-flow-failed",
        ],
    );
    store
        .insert_webhook_endpoint(&endpoint)
        .await
        .expect("endpoint");
    let about = |id: Option<&str>, event_type: &str, at: i64| Event {
        integration_id: id.map(str::to_owned),
        created_at: millis_now() + Duration::milliseconds(at),
        ..event(&dev, event_type)
    };
    let first = about(Some("personio:one"), "integration-created", 1);
    let second = about(Some("personio:one"), "integration-state-changed", 2);
    let other = about(Some("personio:two"), "integration-created", 3);
    let none = about(None, "connection-flow-failed", 4);
    for event in [&first, &second, &other, &none] {
        store.record_event(event).await.expect("record");
    }
    let found = store
        .integration_events(&dev, "personio:one", 10)
        .await
        .expect("events");
    assert_eq!(
        found,
        vec![second.clone(), first.clone()],
        "newest first, only its own"
    );
    assert_eq!(
        store
            .integration_events(&dev, "personio:one", 1)
            .await
            .expect("events"),
        vec![second.clone()]
    );
    assert!(
        store
            .integration_events(&prod, "personio:one", 10)
            .await
            .expect("events")
            .is_empty(),
        "scoped to the environment"
    );
    let deliveries = store
        .integration_deliveries(&dev, "personio:one", 10)
        .await
        .expect("deliveries");
    let events: Vec<&str> = deliveries.iter().map(|d| d.event_id.as_str()).collect();
    assert_eq!(events, [second.id.as_str(), first.id.as_str()]);
    assert!(deliveries.iter().all(|d| d.endpoint_id == endpoint.id));
    assert_eq!(
        store
            .integration_deliveries(&dev, "personio:one", 1)
            .await
            .expect("deliveries")
            .len(),
        1,
        "the deliveries of the newest events only"
    );
}
