//! The contract every [`Store`] implementation passes. Each backend crate runs it with
//! [`contract_tests!`](crate::contract_tests) and a factory that returns a fresh, migrated store.

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Duration, Utc};
use plugboard_catalog::Category;

use crate::{
    ApiKey, ConsumedLink, EndUser, EnvironmentName, Event, Integration, IntegrationCursor,
    IntegrationFilter, IntegrationStatus, MagicLink, NewActivationToken, NewIntegration, Relink,
    Sealed, SetupStatus, Store, StoreError,
    audit::{AuditEvent, AuditFilter, SealedSlot},
    ids,
    webhooks::{
        Attempt, AttemptOutcome, Claim, ClaimedDelivery, DeliveryCursor, DeliveryFilter,
        DeliveryStatus, DisabledReason, EndpointChanges, EndpointHealth, NextStep, PreviousSecret,
        WebhookEndpoint,
    },
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
            webhook_endpoints_and_fan_out,
            deliveries_are_leased_retried_and_logged,
            resealing_visits_old_keys_and_is_compare_and_set,
            audit_events_page_newest_first_with_filters,
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

fn endpoint(environment_id: &str, url: &str, types: &[&str]) -> WebhookEndpoint {
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

/// Endpoints: stored, listed, changed, rotated and deleted; each event type reaches only
/// enabled endpoints of its environment that subscribe to it; a test event reaches one.
pub async fn webhook_endpoints_and_fan_out(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let prod = environment_id(&*store, EnvironmentName::Production).await;
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
            .delivery(&dev, &claimed[0].id)
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

/// Claims lease deliveries to one worker at a time, respect per-endpoint caps, and give an
/// expired lease's deliveries out again; attempts are logged and decide what happens next.
pub async fn deliveries_are_leased_retried_and_logged(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
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
    assert!(
        store
            .next_delivery_due()
            .await
            .expect("due")
            .is_some_and(|due| due <= Utc::now())
    );

    // A busy endpoint only gets its free slots.
    let mut in_flight = HashMap::new();
    in_flight.insert(hook.id.clone(), 3);
    let capped = Claim {
        per_endpoint: 4,
        ..claim_now("lease-a", &in_flight, 100)
    };
    let claimed = store.claim_deliveries(&capped).await.expect("claim");
    let to_hook = claimed.iter().filter(|c| c.endpoint_id == hook.id).count();
    let to_other = claimed.iter().filter(|c| c.endpoint_id == other.id).count();
    assert_eq!((to_hook, to_other), (1, 4));

    // A claim whose reply was lost (the database restarted as it committed) is given back by
    // its lease id: its deliveries are due at once, as the same attempt, not after the lease.
    assert_eq!(
        store
            .release_lease("no-such-lease", Utc::now())
            .await
            .expect("release"),
        0
    );
    assert_eq!(
        store
            .release_lease("lease-a", Utc::now())
            .await
            .expect("release"),
        5
    );
    let again = store.claim_deliveries(&capped).await.expect("claim");
    assert_eq!(again.len(), 5, "the released deliveries are due again");
    assert!(
        again.iter().all(|c| c.attempt == 1),
        "the attempt is undone"
    );

    // Concurrent claims take disjoint deliveries, 35 in all.
    let none = HashMap::new();
    let mut tasks = Vec::new();
    for worker in 0..4 {
        let store = Arc::clone(&store);
        let none = none.clone();
        tasks.push(tokio::spawn(async move {
            let lease = format!("lease-w{worker}");
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_deliveries(&claim_now(&lease, &none, 3))
                    .await
                    .expect("claim");
                if got.is_empty() {
                    break mine;
                }
                mine.extend(got.into_iter().map(|c| c.id));
            }
        }));
    }
    let mut ids: Vec<String> = Vec::new();
    for task in tasks {
        ids.extend(task.await.expect("task"));
    }
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!((total, ids.len()), (35, 35), "each delivery claimed once");
    assert!(
        store
            .claim_deliveries(&claim_now("late", &none, 100))
            .await
            .expect("claim")
            .is_empty()
    );

    // Expired leases (a crashed worker) make the deliveries due again, as attempt 2; the
    // rest of this test works under the new lease.
    let now = Utc::now();
    let expired = Claim {
        now: now + Duration::seconds(61),
        lease_until: now + Duration::seconds(121),
        ..claim_now("lease-b", &none, 100)
    };
    let claimed = store.claim_deliveries(&expired).await.expect("claim");
    assert_eq!(claimed.len(), 40);
    assert!(
        claimed
            .iter()
            .all(|c| c.attempt == 2 && c.lease_id == "lease-b")
    );

    // Outcomes.
    let first = &claimed[0];
    let retry_at = millis_now() + Duration::minutes(5);
    store
        .finish_attempts(
            &[outcome(
                first,
                Some(503),
                NextStep::RetryAt(retry_at),
                EndpointHealth::Failing {
                    disable_if_failing_since: millis_now() - Duration::days(5),
                },
            )],
            millis_now(),
        )
        .await
        .expect("finish");
    let detail = store
        .delivery(&dev, &first.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(detail.delivery.status, DeliveryStatus::Pending);
    assert_eq!(detail.delivery.next_attempt_at, retry_at);
    assert_eq!(detail.delivery.last_http_status, Some(503));
    assert_eq!(detail.attempts.len(), 1);
    assert_eq!(
        detail.attempts[0].response_excerpt.as_deref(),
        Some("answer 503")
    );
    assert_eq!(detail.payload, first.payload);
    let failing = store
        .webhook_endpoint(&dev, &first.endpoint_id)
        .await
        .expect("get")
        .expect("exists");
    assert!(failing.failing_since.is_some() && failing.enabled);

    // A worker whose lease was taken over cannot reschedule, but its success counts.
    let stale = AttemptOutcome {
        lease_id: "someone-else".into(),
        ..outcome(&claimed[1], None, NextStep::GiveUp, EndpointHealth::Healthy)
    };
    store
        .finish_attempts(&[stale], millis_now())
        .await
        .expect("finish");
    let still = store
        .delivery(&dev, &claimed[1].id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(still.delivery.status, DeliveryStatus::Pending);
    assert_eq!(
        still.attempts.len(),
        1,
        "the attempt is logged all the same"
    );
    let success = AttemptOutcome {
        lease_id: "someone-else".into(),
        ..outcome(
            &claimed[1],
            Some(200),
            NextStep::Succeeded,
            EndpointHealth::Healthy,
        )
    };
    let success = AttemptOutcome {
        attempt: Attempt {
            number: 9,
            ..success.attempt.clone()
        },
        ..success
    };
    store
        .finish_attempts(&[success], millis_now())
        .await
        .expect("finish");
    let done = store
        .delivery(&dev, &claimed[1].id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(done.delivery.status, DeliveryStatus::Succeeded);

    // Giving up; a manual retry makes it due again.
    store
        .finish_attempts(
            &[outcome(
                &claimed[2],
                Some(500),
                NextStep::GiveUp,
                EndpointHealth::Healthy,
            )],
            millis_now(),
        )
        .await
        .expect("finish");
    let failed = store
        .delivery(&dev, &claimed[2].id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(failed.delivery.status, DeliveryStatus::Failed);
    let retried = store
        .retry_delivery(&dev, &claimed[2].id, millis_now())
        .await
        .expect("retry")
        .expect("exists");
    assert_eq!(retried.status, DeliveryStatus::Pending);
    assert_eq!(
        store
            .retry_delivery(&dev, "missing", millis_now())
            .await
            .expect("retry"),
        None
    );

    // Failing for longer than the limit disables; 410 disables at once.
    store
        .record_event(&event(&dev, "integration-created"))
        .await
        .expect("event");
    let mut pending = store
        .claim_deliveries(&claim_now("lease-c", &none, 100))
        .await
        .expect("claim");
    assert!(!pending.is_empty());
    let one = pending.remove(0);
    store
        .finish_attempts(
            &[outcome(
                &one,
                Some(500),
                NextStep::RetryAt(millis_now()),
                EndpointHealth::Failing {
                    disable_if_failing_since: millis_now() + Duration::seconds(1),
                },
            )],
            millis_now(),
        )
        .await
        .expect("finish");
    let disabled = store
        .webhook_endpoint(&dev, &one.endpoint_id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        (disabled.enabled, disabled.disabled_reason),
        (false, Some(DisabledReason::Failing))
    );
    let gone_target = if one.endpoint_id == hook.id {
        &other
    } else {
        &hook
    };
    let to_gone = pending
        .iter()
        .find(|c| c.endpoint_id == gone_target.id)
        .expect("the new event's delivery");
    store
        .finish_attempts(
            &[outcome(
                to_gone,
                Some(410),
                NextStep::RetryAt(millis_now()),
                EndpointHealth::Gone,
            )],
            millis_now(),
        )
        .await
        .expect("finish");
    let gone = store
        .webhook_endpoint(&dev, &gone_target.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        (gone.enabled, gone.disabled_reason),
        (false, Some(DisabledReason::Gone))
    );
    // Disabled endpoints' deliveries wait.
    assert!(
        store
            .claim_deliveries(&claim_now("lease-d", &none, 100))
            .await
            .expect("claim")
            .iter()
            .all(|c| c.endpoint_id != one.endpoint_id)
    );

    // The log: newest first, filtered, paged.
    let log = store
        .list_deliveries(&dev, &hook.id, &DeliveryFilter::default(), None, 100)
        .await
        .expect("list");
    assert_eq!(log.len(), 21, "every event went to both endpoints");
    let page = store
        .list_deliveries(&dev, &hook.id, &DeliveryFilter::default(), None, 4)
        .await
        .expect("list");
    let last = page.last().expect("a page");
    let next = store
        .list_deliveries(
            &dev,
            &hook.id,
            &DeliveryFilter::default(),
            Some(&DeliveryCursor {
                created_at: last.created_at,
                id: last.id.clone(),
            }),
            100,
        )
        .await
        .expect("list");
    assert_eq!(page.len() + next.len(), 21);
    assert!(next.iter().all(|d| !page.contains(d)));
    let by_type = DeliveryFilter {
        event_type: Some("integration-deleted".into()),
        ..Default::default()
    };
    assert!(
        store
            .list_deliveries(&dev, &hook.id, &by_type, None, 100)
            .await
            .expect("list")
            .is_empty()
    );
    let succeeded = DeliveryFilter {
        status: Some(DeliveryStatus::Succeeded),
        ..Default::default()
    };
    let succeeded_count = store
        .list_deliveries(&dev, &hook.id, &succeeded, None, 100)
        .await
        .expect("list")
        .len()
        + store
            .list_deliveries(&dev, &other.id, &succeeded, None, 100)
            .await
            .expect("list")
            .len();
    assert_eq!(succeeded_count, 1);
}

fn sealed_with(key_id: &str, nonce: u8) -> Sealed {
    Sealed {
        key_id: key_id.into(),
        nonce: vec![nonce; 24],
        ciphertext: vec![nonce; 40],
    }
}

/// Re-sealing finds every value not under the current key, in every slot, batch by batch, and
/// never overwrites a value that changed since it was read.
pub async fn resealing_visits_old_keys_and_is_compare_and_set(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
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

fn audit(environment_id: &str, action: &str, at: DateTime<Utc>) -> AuditEvent {
    AuditEvent {
        id: ids::new_id(),
        environment_id: environment_id.into(),
        action: action.into(),
        actor: "end_user".into(),
        target: None,
        link_id: Some("link-1".into()),
        ip: Some("203.0.113.7".into()),
        user_agent: Some("Mozilla/5.0".into()),
        detail: r#"{"tool":"personio"}"#.into(),
        created_at: at,
    }
}

/// The audit trail pages newest first by `(created_at, id)`, per environment, with filters.
pub async fn audit_events_page_newest_first_with_filters(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let prod = environment_id(&*store, EnvironmentName::Production).await;
    let start = millis_now();
    let mut written = Vec::new();
    for (i, action) in [
        "link.opened",
        "link.tool_chosen",
        "link.opened",
        "api_key.created",
    ]
    .iter()
    .enumerate()
    {
        let mut event = audit(&dev, action, start + Duration::seconds(i as i64));
        if *action == "api_key.created" {
            event.actor = "cli".into();
            event.link_id = None;
            event.target = Some("api_key:abc".into());
        }
        store.record_audit_event(&event).await.expect("record");
        written.push(event);
    }
    store
        .record_audit_event(&audit(&prod, "link.opened", start))
        .await
        .expect("record");
    let all = |filter: AuditFilter| {
        let store = store.clone();
        let dev = dev.clone();
        async move {
            store
                .list_audit_events(&dev, &filter, None, 100)
                .await
                .expect("list")
        }
    };
    let everything = all(AuditFilter::default()).await;
    assert_eq!(everything.len(), 4, "scoped to the environment");
    assert_eq!(everything[0], written[3], "newest first, every field kept");
    let page = store
        .list_audit_events(&dev, &AuditFilter::default(), None, 2)
        .await
        .expect("page");
    let last = page.last().expect("two");
    let next = store
        .list_audit_events(
            &dev,
            &AuditFilter::default(),
            Some((last.created_at, &last.id)),
            10,
        )
        .await
        .expect("next");
    assert_eq!(
        next.iter().map(|e| &e.id).collect::<Vec<_>>(),
        [&written[1].id, &written[0].id]
    );
    assert_eq!(
        all(AuditFilter {
            action: Some("link.opened".into()),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        all(AuditFilter {
            actor: Some("cli".into()),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    assert_eq!(
        all(AuditFilter {
            target: Some("api_key:abc".into()),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    assert_eq!(
        all(AuditFilter {
            link_id: Some("link-1".into()),
            ..Default::default()
        })
        .await
        .len(),
        3
    );
    let window = AuditFilter {
        since: Some(start + Duration::seconds(1)),
        until: Some(start + Duration::seconds(3)),
        ..Default::default()
    };
    assert_eq!(
        all(window).await.len(),
        2,
        "since inclusive, until exclusive"
    );
}
