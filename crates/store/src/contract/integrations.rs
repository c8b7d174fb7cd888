//! Contract of [`crate::Integrations`].

use std::sync::Arc;

use chrono::Duration;
use plugboard_catalog::Category;

use super::{environment_id, event, millis_now, new_integration, sealed};
use crate::{
    ConsumedLink, EnvironmentName, Event, Integration, IntegrationCursor, IntegrationFilter,
    IntegrationStatus, NewActivationToken, Relink, Store, StoreError, ids,
};

/// One call writes the integration, its credentials, its token and its event.
pub async fn creating_an_integration_writes_everything_once(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let new = new_integration(&dev, "personio", Some("36123"));
    store.create_integration(&new).await.expect("create");
    let id = &new.integration.id;
    let stored = store.integration(&dev, id).await.expect("get");
    assert_eq!(stored.as_ref(), Some(&new.integration));
    let credentials = store
        .integration_credentials(id)
        .await
        .expect("credentials");
    assert_eq!(credentials, Some(new.credentials.clone()));
    assert_eq!(
        store.sealing_key_ids().await.expect("key ids"),
        vec!["k1".to_owned()]
    );
    let events = store.recent_events(&dev, 10).await.expect("events");
    assert_eq!(events, vec![new.event.clone()]);
    let prod = environment_id(&*store, EnvironmentName::Production).await;
    assert_eq!(
        store.integration(&prod, id).await.expect("get"),
        None,
        "scoped to its environment"
    );
}

/// A token redeems once, only in its environment, and only before it expires.
pub async fn activation_tokens_are_single_use_and_scoped(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let prod = environment_id(&*store, EnvironmentName::Production).await;
    let new = new_integration(&dev, "bamboohr", None);
    store.create_integration(&new).await.expect("create");
    let hash = &new.activation.hash;
    let now = millis_now();
    let wrong_env = store
        .redeem_activation_token(&prod, hash, now)
        .await
        .expect("redeem");
    assert_eq!(wrong_env, None, "another environment's key cannot redeem");
    let late = now + Duration::minutes(11);
    assert_eq!(
        store
            .redeem_activation_token(&dev, hash, late)
            .await
            .expect("redeem"),
        None
    );
    let redeemed = store
        .redeem_activation_token(&dev, hash, now)
        .await
        .expect("redeem");
    assert_eq!(redeemed, Some(new.integration.clone()));
    assert_eq!(
        store
            .redeem_activation_token(&dev, hash, now)
            .await
            .expect("redeem"),
        None
    );
}

/// Many concurrent redemptions of one token: exactly one wins.
pub async fn concurrent_redemptions_succeed_exactly_once(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let new = new_integration(&dev, "hibob", None);
    store.create_integration(&new).await.expect("create");
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (store, dev, hash) = (store.clone(), dev.clone(), new.activation.hash.clone());
            tokio::spawn(async move {
                store
                    .redeem_activation_token(&dev, &hash, millis_now())
                    .await
            })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        if task.await.expect("task").expect("redeem").is_some() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
}

/// Five integrations of the development environment: tools and origins to filter by, one of
/// them an ATS.
async fn five_integrations(store: &dyn Store) -> (String, Vec<Integration>) {
    let dev = environment_id(store, EnvironmentName::Development).await;
    let mut created = Vec::new();
    for (tool, origin) in [
        ("personio", "a"),
        ("hibob", "a"),
        ("personio", "b"),
        ("lever", "a"),
        ("personio", "a"),
    ] {
        let mut new = new_integration(&dev, tool, Some(origin));
        if tool == "lever" {
            new.integration.category = Category::Ats;
        }
        store.create_integration(&new).await.expect("create");
        created.push(new.integration);
    }
    (dev, created)
}

/// The cursor walks the list without gaps or repeats.
pub async fn integrations_list_walks_with_a_cursor(store: Arc<dyn Store>) {
    let (dev, created) = five_integrations(&*store).await;
    let all = IntegrationFilter::default();
    let mut seen = Vec::new();
    let mut cursor: Option<IntegrationCursor> = None;
    loop {
        let page = store
            .list_integrations(&dev, &all, cursor.as_ref(), 2)
            .await
            .expect("page");
        if page.is_empty() {
            break;
        }
        let last = page.last().expect("non-empty");
        cursor = Some(IntegrationCursor {
            created_at: last.created_at,
            id: last.id.to_string(),
        });
        seen.extend(page);
    }
    let mut expected = created.clone();
    expected.sort_by(|a, b| (a.created_at, a.id.as_str()).cmp(&(b.created_at, b.id.as_str())));
    assert_eq!(seen, expected);
}

/// Filters combine, and the list is scoped to its environment.
pub async fn integrations_list_filters_combine(store: Arc<dyn Store>) {
    let (dev, _) = five_integrations(&*store).await;
    let all = IntegrationFilter::default();
    let count = |filter: IntegrationFilter| {
        let store = store.clone();
        let dev = dev.clone();
        async move {
            store
                .list_integrations(&dev, &filter, None, 100)
                .await
                .expect("list")
                .len()
        }
    };
    assert_eq!(
        count(IntegrationFilter {
            origin_id: Some("a".into()),
            ..all.clone()
        })
        .await,
        4
    );
    assert_eq!(
        count(IntegrationFilter {
            tool: Some("personio".into()),
            ..all.clone()
        })
        .await,
        3
    );
    let personio_a = IntegrationFilter {
        tool: Some("personio".into()),
        origin_id: Some("a".into()),
        ..all.clone()
    };
    assert_eq!(count(personio_a).await, 2);
    assert_eq!(
        count(IntegrationFilter {
            category: Some(Category::Ats),
            ..all.clone()
        })
        .await,
        1
    );
    let inactive = IntegrationFilter {
        status: Some(IntegrationStatus::Inactive),
        ..all.clone()
    };
    assert_eq!(count(inactive).await, 0);
    let prod = environment_id(&*store, EnvironmentName::Production).await;
    assert!(
        store
            .list_integrations(&prod, &all, None, 100)
            .await
            .expect("list")
            .is_empty()
    );
}

/// A status change happens only from the expected status, with its event.
pub async fn status_changes_are_compare_and_set(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let new = new_integration(&dev, "personio", None);
    store.create_integration(&new).await.expect("create");
    let id = &new.integration.id;
    let (active, inactive) = (IntegrationStatus::Active, IntegrationStatus::Inactive);
    let change = event(&dev, "integration-state-changed");
    let now = millis_now();
    assert!(
        store
            .update_integration_status(&dev, id, active, inactive, &change, now)
            .await
            .expect("update")
    );
    let again = event(&dev, "integration-state-changed");
    assert!(
        !store
            .update_integration_status(&dev, id, active, inactive, &again, now)
            .await
            .expect("update")
    );
    let stored = store
        .integration(&dev, id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored.status, inactive);
    let types: Vec<_> = store
        .recent_events(&dev, 10)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert!(types.contains(&change.id) && !types.contains(&again.id));
}

/// Deleting removes the integration with its credentials and tokens, and writes its event.
pub async fn deleting_removes_credentials_and_tokens(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let new = new_integration(&dev, "personio", None);
    store.create_integration(&new).await.expect("create");
    let id = &new.integration.id;
    // Later than the creation event even within the same millisecond, so "newest" is defined.
    let deleted = Event {
        created_at: millis_now() + Duration::milliseconds(5),
        ..event(&dev, "integration-deleted")
    };
    assert!(
        store
            .delete_integration(&dev, id, &deleted)
            .await
            .expect("delete")
    );
    assert_eq!(store.integration(&dev, id).await.expect("get"), None);
    assert_eq!(
        store
            .integration_credentials(id)
            .await
            .expect("credentials"),
        None
    );
    let redeemed = store
        .redeem_activation_token(&dev, &new.activation.hash, millis_now())
        .await;
    assert_eq!(redeemed.expect("redeem"), None);
    let again = event(&dev, "integration-deleted");
    assert!(
        !store
            .delete_integration(&dev, id, &again)
            .await
            .expect("delete twice")
    );
    let events = store.recent_events(&dev, 10).await.expect("events");
    assert_eq!(events.first().map(|e| &e.id), Some(&deleted.id));
    assert_eq!(events.len(), 2);
}

/// Relinking swaps credentials, reactivates, and consumes its link like any other.
pub async fn relink_replaces_credentials_and_reactivates(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let new = new_integration(&dev, "personio", None);
    store.create_integration(&new).await.expect("create");
    let id = new.integration.id.clone();
    let (active, invalid) = (IntegrationStatus::Active, IntegrationStatus::Invalid);
    let broke = event(&dev, "integration-state-changed");
    store
        .update_integration_status(&dev, &id, active, invalid, &broke, millis_now())
        .await
        .expect("invalidate");
    let now = millis_now();
    let relink = Relink {
        integration_id: id.clone(),
        expected_status: invalid,
        credentials: sealed("new credentials"),
        scope_config_id: Some("scope2".into()),
        link: ConsumedLink {
            link_id: ids::new_id(),
            expires_at: now + Duration::hours(1),
        },
        activation: NewActivationToken {
            hash: vec![9; 32],
            expires_at: now + Duration::minutes(10),
        },
        event: Some(event(&dev, "integration-state-changed")),
        now,
    };
    let stale = Relink {
        expected_status: active,
        ..relink.clone()
    };
    assert_eq!(
        store
            .relink_integration(&stale)
            .await
            .expect("stale relink"),
        None
    );
    let updated = store
        .relink_integration(&relink)
        .await
        .expect("relink")
        .expect("exists");
    assert_eq!(updated.status, active);
    assert_eq!(updated.scope_config_id, "scope2");
    assert_eq!(updated.created_at, new.integration.created_at);
    let credentials = store
        .integration_credentials(&id)
        .await
        .expect("credentials");
    assert_eq!(credentials, Some(sealed("new credentials")));
    let redeemed = store
        .redeem_activation_token(&dev, &[9; 32], now)
        .await
        .expect("redeem");
    assert_eq!(redeemed.map(|i| i.id), Some(id.clone()));
    let reuse = Relink {
        expected_status: active,
        activation: NewActivationToken {
            hash: vec![8; 32],
            ..relink.activation.clone()
        },
        ..relink.clone()
    };
    let error = store
        .relink_integration(&reuse)
        .await
        .expect_err("link reused");
    assert!(matches!(error, StoreError::LinkAlreadyUsed), "{error:?}");
}

/// Connection checks come due one interval after an integration's last change, are claimed
/// once (a claim leases them), record their result, and can be brought forward; inactive
/// integrations are never checked.
pub async fn connection_checks_are_claimed_once_and_recorded(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let checked = new_integration(&dev, "bamboohr", None);
    let disabled = new_integration(&dev, "personio", None);
    for new in [&checked, &disabled] {
        store.create_integration(new).await.expect("create");
    }
    let inactive = event(&dev, "integration-state-changed");
    let now = checked.integration.created_at;
    assert!(
        store
            .update_integration_status(
                &dev,
                &disabled.integration.id,
                IntegrationStatus::Active,
                IntegrationStatus::Inactive,
                &inactive,
                now,
            )
            .await
            .expect("disable")
    );
    let day = Duration::days(1);
    let lease = now + day + Duration::minutes(10);
    let none = store
        .claim_connection_checks(now + Duration::hours(23), day, lease, 10)
        .await
        .expect("claim");
    assert!(
        none.is_empty(),
        "not due before an interval has passed: {none:?}"
    );
    let due = store
        .claim_connection_checks(now + day, day, lease, 10)
        .await
        .expect("claim");
    assert_eq!(due.len(), 1, "only the active one: {due:?}");
    assert_eq!(due[0].integration, checked.integration);
    assert_eq!(due[0].failing_since, None);
    let again = store
        .claim_connection_checks(now + day, day, lease, 10)
        .await
        .expect("claim");
    assert!(again.is_empty(), "a claimed check is leased");

    let id = &checked.integration.id;
    let version = checked.integration.updated_at;
    let failing = now + day;
    assert!(
        !store
            .record_connection_check(id, now - day, Some(failing), now + day * 2)
            .await
            .expect("record"),
        "a check of an older version is not recorded"
    );
    assert!(
        store
            .record_connection_check(id, version, Some(failing), now + day * 2)
            .await
            .expect("record")
    );
    let later = store
        .claim_connection_checks(now + day * 2, day, lease, 10)
        .await
        .expect("claim");
    assert_eq!(later.len(), 1);
    assert_eq!(
        later[0].failing_since,
        Some(failing),
        "the failing streak is kept"
    );

    store
        .record_connection_check(id, version, None, now + day * 5)
        .await
        .expect("record");
    store
        .schedule_connection_check(id, now + day * 3)
        .await
        .expect("schedule");
    store
        .schedule_connection_check(id, now + day * 4)
        .await
        .expect("a later time does not postpone");
    let forward = store
        .claim_connection_checks(now + day * 3, day, lease, 10)
        .await
        .expect("claim");
    assert_eq!(forward.len(), 1, "brought forward");
    assert_eq!(forward[0].failing_since, None);
}
