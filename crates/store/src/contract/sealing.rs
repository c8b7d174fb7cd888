//! Contract of [`crate::Sealing`]: which keys sealed what, and re-sealing.

use std::{collections::HashMap, sync::Arc};

use chrono::Duration;

use super::{environment_id, millis_now, new_integration, webhooks::endpoint};
use crate::{
    EnvironmentName, Sealed, Store, ids,
    sealing::{SealedRecord, SealedSlot},
    webhooks::WebhookEndpoint,
};

fn sealed_with(key_id: &str, nonce: u8) -> Sealed {
    Sealed {
        key_id: key_id.into(),
        nonce: vec![nonce; 24],
        ciphertext: vec![nonce; 40],
    }
}

/// Three integrations' credentials under key `old`, sorted by id, and an endpoint whose `old`
/// secret was rotated out for one under `new`.
async fn seed_old_keys(store: &dyn Store) -> (String, Vec<String>, WebhookEndpoint) {
    let dev = environment_id(store, EnvironmentName::Development).await;
    let mut integrations = Vec::new();
    for _ in 0..3 {
        let mut new = new_integration(&dev, "personio", None);
        new.credentials = sealed_with("old", 1);
        store.create_integration(&new).await.expect("create");
        integrations.push(new.integration.id.to_string());
    }
    integrations.sort();
    let mut rotated = endpoint(&dev, "https://a.example/hook", &["integration-created"]);
    rotated.secret = sealed_with("old", 2);
    store
        .insert_webhook_endpoint(&rotated)
        .await
        .expect("insert");
    store
        .rotate_webhook_secret(
            &dev,
            &rotated.id,
            &sealed_with("new", 3),
            millis_now() + Duration::hours(1),
            millis_now(),
        )
        .await
        .expect("rotate")
        .expect("exists");
    (dev, integrations, rotated)
}

/// One re-sealing batch of each slot: credentials first, then the previous secret.
async fn batches(store: &dyn Store) -> (Vec<SealedRecord>, Vec<SealedRecord>, Vec<SealedRecord>) {
    let first = store
        .sealed_records(SealedSlot::Credentials, "new", None, 2)
        .await
        .expect("batch");
    let after = first[1].record_id.clone();
    let rest = store
        .sealed_records(SealedSlot::Credentials, "new", Some(&after), 2)
        .await
        .expect("batch");
    let previous = store
        .sealed_records(SealedSlot::PreviousWebhookSecret, "new", None, 10)
        .await
        .expect("batch");
    (first, rest, previous)
}

/// Counts per key cover every slot; re-sealing finds every value not under the current key,
/// in every slot, batch by batch.
pub async fn sealing_counts_and_batches_visit_old_keys(store: Arc<dyn Store>) {
    let (_, integrations, _) = seed_old_keys(&*store).await;
    let counts: HashMap<String, u64> = store
        .sealing_key_counts()
        .await
        .expect("counts")
        .into_iter()
        .collect();
    assert_eq!(
        counts.get("old"),
        Some(&4),
        "3 credentials + 1 previous secret: {counts:?}"
    );
    assert_eq!(counts.get("new"), Some(&1));

    // Credentials, two to a batch, in id order.
    let first = store
        .sealed_records(SealedSlot::Credentials, "new", None, 2)
        .await
        .expect("batch");
    let ids: Vec<_> = first.iter().map(|r| r.record_id.clone()).collect();
    assert_eq!(ids, integrations[..2]);
    let rest = store
        .sealed_records(SealedSlot::Credentials, "new", Some(&ids[1]), 2)
        .await
        .expect("batch");
    assert_eq!(rest.len(), 1);
    assert!(
        store
            .sealed_records(SealedSlot::WebhookSecret, "new", None, 10)
            .await
            .expect("none")
            .is_empty()
    );
    let previous = store
        .sealed_records(SealedSlot::PreviousWebhookSecret, "new", None, 10)
        .await
        .expect("batch");
    assert_eq!(previous.len(), 1);
    assert_eq!(previous[0].sealed, sealed_with("old", 2));
}

/// Re-sealing never overwrites a value that changed since it was read, and leaves the current
/// secret alone.
pub async fn resealing_is_compare_and_set(store: Arc<dyn Store>) {
    let (dev, _, rotated) = seed_old_keys(&*store).await;
    let (first, rest, previous) = batches(&*store).await;
    // A compare-and-set: the first write wins, a stale one is refused.
    assert!(
        store
            .reseal(&first[0], &sealed_with("new", 10))
            .await
            .expect("reseal")
    );
    assert!(
        !store
            .reseal(&first[0], &sealed_with("new", 11))
            .await
            .expect("stale")
    );
    let id = ids::IntegrationId::parse(&first[0].record_id).expect("id");
    assert_eq!(
        store.integration_credentials(&id).await.expect("read"),
        Some(sealed_with("new", 10))
    );
    assert!(
        store
            .reseal(&previous[0], &sealed_with("new", 12))
            .await
            .expect("reseal")
    );
    for record in first[1..].iter().chain(&rest) {
        assert!(
            store
                .reseal(record, &sealed_with("new", 13))
                .await
                .expect("reseal")
        );
    }
    let counts = store.sealing_key_counts().await.expect("counts");
    assert_eq!(counts, vec![("new".to_owned(), 5)]);
    let endpoint = store
        .webhook_endpoint(&dev, &rotated.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        endpoint.secret,
        sealed_with("new", 3),
        "the current secret was left alone"
    );
    assert_eq!(
        endpoint.previous_secret.expect("previous").secret,
        sealed_with("new", 12)
    );
}
