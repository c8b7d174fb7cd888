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
