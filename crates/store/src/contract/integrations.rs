//! Contract of [`crate::Integrations`].

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use plugboard_catalog::Category;

use super::{environment_id, event, millis_now, new_integration, sealed};
use crate::{
    ConsumedLink, EnvironmentName, Event, Integration, IntegrationCounts, IntegrationCursor,
    IntegrationFilter, IntegrationHealth, IntegrationSearch, IntegrationStatus, NewActivationToken,
    Relink, Store, StoreError, ids,
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

/// One integration of the dashboard's fixtures: who it is, and whether the checks see its
/// credentials refused.
struct Listed {
    tool: &'static str,
    category: Category,
    status: IntegrationStatus,
    origin: &'static str,
    email: Option<&'static str>,
    organization: &'static str,
    failing: bool,
}

/// The dashboard's fixtures, oldest first, one second apart from a fixed time (the last two
/// in the same millisecond, so the id breaks the tie): every kind of text to search for, every
/// status, failing credentials on two active integrations and an invalid one, organisation
/// names that only `LIKE`'s own characters tell apart, and one production integration with
/// the same origin and e-mail as the first. Returns the environment, the integrations and
/// when the failing ones started failing.
async fn dashboard_integrations(store: &dyn Store) -> (String, Vec<Integration>, DateTime<Utc>) {
    use IntegrationStatus::{Active, Inactive, Invalid};
    let dev = environment_id(store, EnvironmentName::Development).await;
    let prod = environment_id(store, EnvironmentName::Production).await;
    let listed = [
        Listed {
            tool: "personio",
            category: Category::Hris,
            status: Active,
            origin: "org-1",
            email: Some("Admin@Acme.example"),
            organization: "Acme, Inc.",
            failing: false,
        },
        Listed {
            tool: "hibob",
            category: Category::Hris,
            status: Active,
            origin: "org-2",
            email: Some("hr@globex.example"),
            organization: "Globex 100% Corp",
            failing: true,
        },
        Listed {
            tool: "lever",
            category: Category::Ats,
            status: Active,
            origin: "org-3",
            email: None,
            organization: "Initech_Labs",
            failing: true,
        },
        Listed {
            tool: "personio",
            category: Category::Hris,
            status: Inactive,
            origin: "org-4",
            email: Some("ops@initech.example"),
            organization: "InitechXLabs",
            failing: false,
        },
        Listed {
            tool: "personio",
            category: Category::Hris,
            status: Invalid,
            origin: "org-5",
            email: Some("it@globex.example"),
            organization: "Globex 1000 Corp",
            failing: true,
        },
        Listed {
            tool: "greenhouse",
            category: Category::Ats,
            status: Active,
            origin: "org-6",
            email: Some("people@path.example"),
            organization: r"Path\Finder",
            failing: false,
        },
        Listed {
            tool: "greenhouse",
            category: Category::Ats,
            status: Active,
            origin: "org-7",
            email: Some("people@pathfinder.example"),
            organization: "PathFinder",
            failing: false,
        },
    ];
    let start = DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
        .expect("a time")
        .with_timezone(&Utc);
    let failing_since = start + Duration::days(1);
    let mut created = Vec::new();
    for (i, listed) in listed.iter().enumerate() {
        let mut new = new_integration(&dev, listed.tool, Some(listed.origin));
        let at = start + Duration::seconds(i.min(5) as i64);
        new.integration.created_at = at;
        new.integration.updated_at = at;
        new.integration.category = listed.category;
        new.integration.status = listed.status;
        new.integration.end_user.email = listed.email.map(Into::into);
        new.integration.end_user.organization_name = listed.organization.into();
        store.create_integration(&new).await.expect("create");
        if listed.failing {
            let recorded = store
                .record_connection_check(
                    &new.integration.id,
                    at,
                    Some(failing_since),
                    failing_since + Duration::hours(1),
                )
                .await
                .expect("record");
            assert!(recorded);
        }
        created.push(new.integration);
    }
    let mut elsewhere = new_integration(&prod, "personio", Some("org-1"));
    elsewhere.integration.end_user.email = Some("Admin@Acme.example".into());
    store.create_integration(&elsewhere).await.expect("create");
    store
        .record_connection_check(
            &elsewhere.integration.id,
            elsewhere.integration.updated_at,
            Some(failing_since),
            failing_since + Duration::hours(1),
        )
        .await
        .expect("record");
    (dev, created, failing_since)
}

/// The ids a search finds, in its order (the whole list: no page limit in the way).
async fn found(store: &dyn Store, dev: &str, search: IntegrationSearch) -> Vec<String> {
    store
        .search_integrations(dev, &search, None, 100)
        .await
        .expect("search")
        .into_iter()
        .map(|listed| listed.integration.id.to_string())
        .collect()
}

/// The ids of `created` at `indexes`, newest first as the dashboard lists them.
fn ids_of(created: &[Integration], indexes: &[usize]) -> Vec<String> {
    let mut chosen: Vec<&Integration> = indexes.iter().map(|&i| &created[i]).collect();
    chosen.sort_by(|a, b| (b.created_at, b.id.as_str()).cmp(&(a.created_at, a.id.as_str())));
    chosen.into_iter().map(|i| i.id.to_string()).collect()
}

/// The text matches an id, an origin id or an e-mail address exactly (the address in any
/// case), or part of the organisation's name in any case with `%`, `_` and `\` taken
/// literally; and only in its environment.
pub async fn integration_search_matches_ids_emails_and_names(store: Arc<dyn Store>) {
    let (dev, created, _) = dashboard_integrations(&*store).await;
    let text = |text: &str| IntegrationSearch {
        text: Some(text.into()),
        ..IntegrationSearch::default()
    };
    let search = |t: &str| found(&*store, &dev, text(t));

    let id = created[2].id.to_string();
    assert_eq!(search(&id).await, ids_of(&created, &[2]), "by id");
    assert!(
        search(&id[..id.len() - 1]).await.is_empty(),
        "an id matches whole"
    );
    assert_eq!(
        search("org-1").await,
        ids_of(&created, &[0]),
        "by origin id"
    );
    assert!(
        search("org-").await.is_empty(),
        "an origin id matches whole"
    );
    assert!(
        search("ORG-1").await.is_empty(),
        "an origin id keeps its case"
    );
    assert_eq!(
        search("admin@ACME.example").await,
        ids_of(&created, &[0]),
        "by e-mail, in any case"
    );
    assert!(
        search("admin@acme").await.is_empty(),
        "an e-mail address matches whole"
    );
    assert_eq!(
        search("acme").await,
        ids_of(&created, &[0]),
        "by part of the name"
    );
    assert_eq!(search("ACME, INC.").await, ids_of(&created, &[0]));
    assert_eq!(search("gLoBeX").await, ids_of(&created, &[1, 4]));
    assert_eq!(
        search("100%").await,
        ids_of(&created, &[1]),
        "% is a literal percent sign"
    );
    assert_eq!(
        search("h_l").await,
        ids_of(&created, &[2]),
        "_ is a literal underscore"
    );
    assert_eq!(
        search(r"h\f").await,
        ids_of(&created, &[5]),
        r"\ is a literal backslash"
    );
    assert_eq!(
        search("%").await,
        ids_of(&created, &[1]),
        "only the name with a percent sign"
    );
    assert_eq!(search("_").await, ids_of(&created, &[2]));
    assert!(search("umbrella").await.is_empty());
    assert_eq!(
        found(&*store, &dev, IntegrationSearch::default()).await,
        ids_of(&created, &[0, 1, 2, 3, 4, 5, 6]),
        "no text: everything, newest first"
    );

    let prod = environment_id(&*store, EnvironmentName::Production).await;
    let in_prod = store
        .search_integrations(&prod, &text("org-1"), None, 100)
        .await
        .expect("search");
    assert_eq!(in_prod.len(), 1, "scoped to the environment");
    assert_eq!(in_prod[0].integration.environment_id, prod);
    assert!(
        found(&*store, &prod, text(&id)).await.is_empty(),
        "another environment's id is not found"
    );
}

/// The filters (tool, category, status, failing credentials) each keep what matches, and
/// combine with each other and with the text; every integration comes with its health.
pub async fn integration_search_filters_combine(store: Arc<dyn Store>) {
    use IntegrationStatus::{Active, Inactive, Invalid};
    let (dev, created, failing_since) = dashboard_integrations(&*store).await;
    let any = IntegrationSearch::default();
    let search = |search: IntegrationSearch| found(&*store, &dev, search);

    let personio = IntegrationSearch {
        tool: Some("personio".into()),
        ..any.clone()
    };
    assert_eq!(search(personio.clone()).await, ids_of(&created, &[0, 3, 4]));
    let ats = IntegrationSearch {
        category: Some(Category::Ats),
        ..any.clone()
    };
    assert_eq!(search(ats.clone()).await, ids_of(&created, &[2, 5, 6]));
    for (status, expected) in [
        (Active, vec![0, 1, 2, 5, 6]),
        (Inactive, vec![3]),
        (Invalid, vec![4]),
    ] {
        let by_status = IntegrationSearch {
            status: Some(status),
            ..any.clone()
        };
        assert_eq!(
            search(by_status).await,
            ids_of(&created, &expected),
            "{status:?}"
        );
    }
    let failing = IntegrationSearch {
        failing: true,
        ..any.clone()
    };
    assert_eq!(search(failing.clone()).await, ids_of(&created, &[1, 2, 4]));

    let failing_active = IntegrationSearch {
        status: Some(Active),
        ..failing.clone()
    };
    assert_eq!(search(failing_active).await, ids_of(&created, &[1, 2]));
    let failing_ats = IntegrationSearch {
        category: Some(Category::Ats),
        ..failing.clone()
    };
    assert_eq!(search(failing_ats).await, ids_of(&created, &[2]));
    let personio_active = IntegrationSearch {
        status: Some(Active),
        ..personio.clone()
    };
    assert_eq!(search(personio_active).await, ids_of(&created, &[0]));
    let hibob_ats = IntegrationSearch {
        tool: Some("hibob".into()),
        ..ats.clone()
    };
    assert!(search(hibob_ats).await.is_empty());
    let globex_failing_invalid = IntegrationSearch {
        text: Some("globex".into()),
        status: Some(Invalid),
        ..failing.clone()
    };
    assert_eq!(search(globex_failing_invalid).await, ids_of(&created, &[4]));
    let path_ats = IntegrationSearch {
        text: Some("path".into()),
        tool: Some("greenhouse".into()),
        ..ats.clone()
    };
    assert_eq!(search(path_ats).await, ids_of(&created, &[5, 6]));

    let listed = store
        .search_integrations(&dev, &failing, None, 100)
        .await
        .expect("search");
    let lever = listed
        .iter()
        .find(|l| l.integration.id == created[2].id)
        .expect("listed");
    assert_eq!(lever.integration, created[2], "every field kept");
    assert_eq!(lever.health.failing_since, Some(failing_since));
    assert_eq!(
        lever.health.next_check_at,
        Some(failing_since + Duration::hours(1))
    );
    let healthy = store
        .search_integrations(&dev, &personio, None, 100)
        .await
        .expect("search");
    let first = healthy
        .iter()
        .find(|l| l.integration.id == created[0].id)
        .expect("listed");
    assert_eq!(first.health, IntegrationHealth::default());
}

/// The search pages newest first by `(created_at, id)`, from an exclusive cursor, without
/// gaps or repeats (two integrations share a millisecond), with and without filters.
pub async fn integration_search_walks_with_a_cursor(store: Arc<dyn Store>) {
    let (dev, created, _) = dashboard_integrations(&*store).await;
    for (search, expected) in [
        (IntegrationSearch::default(), vec![0, 1, 2, 3, 4, 5, 6]),
        (
            IntegrationSearch {
                status: Some(IntegrationStatus::Active),
                ..IntegrationSearch::default()
            },
            vec![0, 1, 2, 5, 6],
        ),
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<IntegrationCursor> = None;
        loop {
            let page = store
                .search_integrations(&dev, &search, cursor.as_ref(), 2)
                .await
                .expect("page");
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            cursor = Some(IntegrationCursor {
                created_at: last.integration.created_at,
                id: last.integration.id.to_string(),
            });
            seen.extend(page.into_iter().map(|l| l.integration.id.to_string()));
        }
        assert_eq!(seen, ids_of(&created, &expected), "{search:?}");
    }
    let newest = ids_of(&created, &[5, 6]);
    let after_newest = store
        .search_integrations(
            &dev,
            &IntegrationSearch::default(),
            Some(&IntegrationCursor {
                created_at: created[5].created_at,
                id: newest[0].clone(),
            }),
            1,
        )
        .await
        .expect("page");
    assert_eq!(
        after_newest
            .iter()
            .map(|l| l.integration.id.to_string())
            .collect::<Vec<_>>(),
        [newest[1].clone()],
        "the cursor is exclusive; the id breaks a tie"
    );
}

/// An integration's health: nothing before its first check, then what the last check
/// recorded; `None` for an unknown integration or another environment's.
pub async fn integration_health_follows_the_checks(store: Arc<dyn Store>) {
    let (dev, created, failing_since) = dashboard_integrations(&*store).await;
    let health = |id: &ids::IntegrationId| {
        let (store, dev, id) = (store.clone(), dev.clone(), id.clone());
        async move { store.integration_health(&dev, &id).await.expect("health") }
    };
    assert_eq!(
        health(&created[0].id).await,
        Some(IntegrationHealth::default()),
        "never checked"
    );
    let failing = health(&created[1].id).await.expect("health");
    assert_eq!(failing.failing_since, Some(failing_since));
    assert_eq!(
        failing.next_check_at,
        Some(failing_since + Duration::hours(1))
    );
    assert!(failing.last_checked_at.is_some(), "a check was recorded");
    let next = failing_since + Duration::days(1);
    let before = millis_now();
    assert!(
        store
            .record_connection_check(&created[1].id, created[1].updated_at, None, next)
            .await
            .expect("record")
    );
    let working = health(&created[1].id).await.expect("health");
    assert_eq!(
        (working.failing_since, working.next_check_at),
        (None, Some(next)),
        "working again"
    );
    assert!(
        working.last_checked_at.is_some_and(|at| at >= before),
        "the time the check was recorded"
    );
    assert_eq!(
        health(&ids::IntegrationId::generate("personio")).await,
        None
    );
    let prod = environment_id(&*store, EnvironmentName::Production).await;
    assert_eq!(
        store
            .integration_health(&prod, &created[1].id)
            .await
            .expect("health"),
        None,
        "scoped to its environment"
    );
}

/// Counts by status: failing credentials count as failing only while active; per
/// environment.
pub async fn integration_counts_by_status_and_health(store: Arc<dyn Store>) {
    let (dev, _, _) = dashboard_integrations(&*store).await;
    assert_eq!(
        store.count_integrations(&dev).await.expect("count"),
        IntegrationCounts {
            active: 3,
            failing: 2,
            invalid: 1,
            inactive: 1,
        }
    );
    let prod = environment_id(&*store, EnvironmentName::Production).await;
    assert_eq!(
        store.count_integrations(&prod).await.expect("count"),
        IntegrationCounts {
            failing: 1,
            ..IntegrationCounts::default()
        }
    );
    assert_eq!(
        store
            .count_integrations("no-such-env")
            .await
            .expect("count"),
        IntegrationCounts::default()
    );
}
