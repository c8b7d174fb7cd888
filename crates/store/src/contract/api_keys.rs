//! Contract of [`crate::ApiKeys`].

use std::sync::Arc;

use super::{environment_id, millis_now};
use crate::{ApiKey, EnvironmentName, Store, ids};

/// API keys are found by hash, listed per environment, and stop working once revoked.
pub async fn api_keys_are_found_by_hash_until_revoked(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let prod = environment_id(&*store, EnvironmentName::Production).await;
    let key = ApiKey {
        id: ids::new_id(),
        environment_id: dev.clone(),
        name: "ci".into(),
        key_hash: vec![1; 32],
        prefix: "pb_dev_abc".into(),
        created_at: millis_now(),
        revoked_at: None,
        last_used_at: None,
    };
    store.insert_api_key(&key).await.expect("insert");
    let found = store
        .active_api_key_by_hash(&[1; 32])
        .await
        .expect("lookup");
    assert_eq!(found.as_ref(), Some(&key));
    assert_eq!(
        store
            .active_api_key_by_hash(&[2; 32])
            .await
            .expect("lookup"),
        None
    );
    assert_eq!(
        store.list_api_keys(Some(&dev)).await.expect("list"),
        vec![key.clone()]
    );
    assert!(
        store
            .list_api_keys(Some(&prod))
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(store.list_api_keys(None).await.expect("list").len(), 1);
    assert!(
        store
            .revoke_api_key(&key.id, millis_now())
            .await
            .expect("revoke")
    );
    assert!(
        !store
            .revoke_api_key(&key.id, millis_now())
            .await
            .expect("revoke twice")
    );
    assert_eq!(
        store
            .active_api_key_by_hash(&[1; 32])
            .await
            .expect("lookup"),
        None
    );
    let listed = store.list_api_keys(None).await.expect("list");
    assert!(listed[0].revoked_at.is_some(), "revoked keys stay listed");
}

/// A key's last use is recorded to the minute: a second use within the minute writes nothing.
pub async fn api_key_uses_are_recorded_once_a_minute(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let key = ApiKey {
        id: ids::new_id(),
        environment_id: dev.clone(),
        name: "busy".into(),
        key_hash: vec![7; 32],
        prefix: "pb_dev_xyz".into(),
        created_at: millis_now(),
        revoked_at: None,
        last_used_at: None,
    };
    store.insert_api_key(&key).await.expect("insert");
    let last_used = |store: Arc<dyn Store>| async move {
        store
            .active_api_key_by_hash(&[7; 32])
            .await
            .expect("lookup")
            .expect("key")
            .last_used_at
    };
    let first = millis_now();
    store.touch_api_key(&key.id, first).await.expect("touch");
    assert_eq!(last_used(store.clone()).await, Some(first));
    let soon = first + chrono::Duration::seconds(30);
    store.touch_api_key(&key.id, soon).await.expect("touch");
    assert_eq!(
        last_used(store.clone()).await,
        Some(first),
        "within the minute: unchanged"
    );
    let later = first + chrono::Duration::seconds(61);
    store.touch_api_key(&key.id, later).await.expect("touch");
    assert_eq!(last_used(store.clone()).await, Some(later));
    store
        .touch_api_key("unknown", later)
        .await
        .expect("an unknown key is no error");
}
