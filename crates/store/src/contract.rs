//! The contract every [`Store`] implementation passes. Each backend crate runs it with
//! [`contract_tests!`](crate::contract_tests) and a factory that returns a fresh, migrated store.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use plugboard_catalog::Category;

use crate::{
    ApiKey, ConsumedLink, EndUser, EnvironmentName, Event, Integration, IntegrationCursor,
    IntegrationFilter, IntegrationStatus, MagicLink, NewActivationToken, NewIntegration, Relink,
    Sealed, SetupStatus, Store, StoreError, ids,
};

/// Expands to one `#[tokio::test]` per contract check, each on a store from `$factory`
/// (an expression evaluating to a future of `Arc<dyn Store>`).
#[macro_export]
macro_rules! contract_tests {
    ($factory:expr) => {
        $crate::contract_tests!(@each $factory;
            environments_are_created_once,
            api_keys_are_found_by_hash_until_revoked,
            creating_an_integration_writes_everything_once,
            a_link_completes_at_most_one_integration,
            activation_tokens_are_single_use_and_scoped,
            concurrent_redemptions_succeed_exactly_once,
            integrations_list_with_filters_and_cursor,
            status_changes_are_compare_and_set,
            deleting_removes_credentials_and_tokens,
            relink_replaces_credentials_and_reactivates,
            magic_links_are_recorded,
            consumed_links_and_standalone_events,
        );
    };
    (@each $factory:expr; $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let store: ::std::sync::Arc<dyn $crate::Store> = $factory.await;
                $crate::contract::$name(store).await;
            }
        )+
    };
}

async fn environment_id(store: &dyn Store, name: EnvironmentName) -> String {
    let environments = store.environments().await.expect("environments");
    environments
        .into_iter()
        .find(|env| env.name == name)
        .expect("both environments exist")
        .id
}

fn millis_now() -> DateTime<Utc> {
    // Stored timestamps have millisecond precision; compare like with like.
    crate::from_millis(crate::to_millis(Utc::now())).expect("now is in range")
}

fn sealed(tag: &str) -> Sealed {
    Sealed {
        key_id: "k1".into(),
        nonce: vec![7; 24],
        ciphertext: tag.as_bytes().to_vec(),
    }
}

fn event(environment_id: &str, event_type: &str) -> Event {
    let id = ids::new_id();
    Event {
        payload: format!(r#"{{"id":"{id}","type":"{event_type}","data":{{}}}}"#),
        id,
        environment_id: environment_id.into(),
        event_type: event_type.into(),
        created_at: millis_now(),
        detail: None,
    }
}

fn new_integration(environment_id: &str, tool: &str, origin: Option<&str>) -> NewIntegration {
    let now = millis_now();
    let integration = Integration {
        id: ids::IntegrationId::generate(tool),
        environment_id: environment_id.into(),
        tool: tool.into(),
        category: Category::Hris,
        status: IntegrationStatus::Active,
        setup_status: SetupStatus::Completed,
        end_user: EndUser {
            email: Some("admin@acme.example".into()),
            organization_name: "Acme, Inc.".into(),
            origin_id: origin.map(Into::into),
        },
        scope_config_id: ids::new_id(),
        remote_environment: None,
        created_at: now,
        updated_at: now,
    };
    NewIntegration {
        credentials: sealed(integration.id.as_str()),
        link: ConsumedLink {
            link_id: ids::new_id(),
            expires_at: now + Duration::hours(1),
        },
        activation: NewActivationToken {
            hash: ids::new_id().into_bytes(),
            expires_at: now + Duration::minutes(10),
        },
        event: event(environment_id, "integration-created"),
        integration,
    }
}

/// Migrating twice keeps the same two environments.
pub async fn environments_are_created_once(store: Arc<dyn Store>) {
    let before = store.environments().await.expect("environments");
    assert_eq!(before.len(), 2);
    store.migrate().await.expect("second migration is a no-op");
    assert_eq!(store.environments().await.expect("environments"), before);
    assert_ne!(before[0].scope_config_id, before[1].scope_config_id);
}

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

/// Completing the same link twice fails and leaves nothing of the second attempt.
pub async fn a_link_completes_at_most_one_integration(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let first = new_integration(&dev, "personio", None);
    store.create_integration(&first).await.expect("create");
    let mut second = new_integration(&dev, "personio", None);
    second.link = first.link.clone();
    let error = store
        .create_integration(&second)
        .await
        .expect_err("link reused");
    assert!(matches!(error, StoreError::LinkAlreadyUsed), "{error:?}");
    let stored = store
        .integration(&dev, &second.integration.id)
        .await
        .expect("get");
    assert_eq!(stored, None);
    assert_eq!(
        store.recent_events(&dev, 10).await.expect("events").len(),
        1
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

/// Filters combine; the cursor walks the list without gaps or repeats.
pub async fn integrations_list_with_filters_and_cursor(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
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
    let deleted = event(&dev, "integration-deleted");
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

/// Magic links are stored, read back, listed newest first and revoked once.
pub async fn magic_links_are_recorded(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let prod = environment_id(&*store, EnvironmentName::Production).await;
    let mut links = Vec::new();
    for n in 0..3 {
        let now = millis_now() + Duration::milliseconds(n);
        let link = MagicLink {
            id: ids::new_id(),
            environment_id: dev.clone(),
            integration_id: (n == 0).then(|| ids::IntegrationId::generate("personio")),
            end_user: EndUser {
                email: None,
                organization_name: format!("Acme {n}"),
                origin_id: None,
            },
            category: Category::Ats,
            tool: Some("personio".into()),
            created_at: now,
            expires_at: now + Duration::days(365),
            revoked_at: None,
        };
        store.insert_magic_link(&link).await.expect("insert");
        links.push(link);
    }
    assert_eq!(
        store.magic_link(&links[0].id).await.expect("get"),
        Some(links[0].clone())
    );
    assert_eq!(store.magic_link("nope").await.expect("get"), None);
    let first = store.list_magic_links(&dev, None, 2).await.expect("list");
    assert_eq!(
        first,
        vec![links[2].clone(), links[1].clone()],
        "newest first"
    );
    let last = &first[1];
    let rest = store
        .list_magic_links(&dev, Some((last.created_at, &last.id)), 2)
        .await
        .expect("list");
    assert_eq!(rest, vec![links[0].clone()]);
    assert!(
        store
            .list_magic_links(&prod, None, 10)
            .await
            .expect("list")
            .is_empty()
    );
    assert!(
        !store
            .revoke_magic_link(&prod, &links[1].id, millis_now())
            .await
            .expect("revoke"),
        "scoped"
    );
    assert!(
        store
            .revoke_magic_link(&dev, &links[1].id, millis_now())
            .await
            .expect("revoke")
    );
    assert!(
        !store
            .revoke_magic_link(&dev, &links[1].id, millis_now())
            .await
            .expect("revoke twice")
    );
    let revoked = store
        .magic_link(&links[1].id)
        .await
        .expect("get")
        .expect("exists");
    assert!(revoked.revoked_at.is_some());
}

/// Consumed links are reported; standalone events are stored with their detail and found by id.
pub async fn consumed_links_and_standalone_events(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let new = new_integration(&dev, "personio", None);
    assert!(
        !store
            .link_consumed(&new.link.link_id)
            .await
            .expect("lookup")
    );
    store.create_integration(&new).await.expect("create");
    assert!(
        store
            .link_consumed(&new.link.link_id)
            .await
            .expect("lookup")
    );
    let failed = Event {
        detail: Some("invalid_credentials".into()),
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
