//! Contract of [`crate::Oauth`]: app revisions, single-use sign-in attempts, the result handed
//! over once, and the credentials lock a refresh runs under.

use std::{collections::BTreeSet, sync::Arc, time::Duration as StdDuration};

use chrono::{DateTime, Duration, Utc};

use super::{environment_id, millis_now, new_integration, sealed};
use crate::{
    EnvironmentName, NewIntegration, NewOauthApp, OauthAttempt, OauthResult, Sealed, Store, ids,
    oauth::CredentialsUpdate,
    sealing::{SealedRecord, SealedSlot},
};

fn new_app(environment_id: &str, tool: &str, scopes: Option<&[&str]>) -> NewOauthApp {
    let id = format!("oapp_{}", ids::new_id());
    NewOauthApp {
        client_secret: sealed(&id),
        id,
        environment_id: environment_id.into(),
        tool: tool.into(),
        client_id: format!("client-of-{tool}"),
        scopes: scopes.map(|s| s.iter().map(|&s| s.to_owned()).collect()),
        settings: Default::default(),
        created_at: millis_now(),
    }
}

fn attempt(environment_id: &str, link_id: &str, started: DateTime<Utc>) -> OauthAttempt {
    let id = ids::new_id();
    OauthAttempt {
        state_hash: format!("state of {id}").into_bytes(),
        sealed: sealed(&id),
        id,
        link_id: link_id.into(),
        environment_id: environment_id.into(),
        tool: "personio".into(),
        browser_hash: b"browser".to_vec(),
        created_at: started,
        expires_at: started + Duration::minutes(10),
        consumed_at: None,
        outcome: None,
    }
}

/// Stores an attempt that started now, of a fresh link of the development environment.
async fn started(store: &dyn Store) -> OauthAttempt {
    let dev = environment_id(store, EnvironmentName::Development).await;
    let attempt = attempt(&dev, &ids::new_id(), millis_now());
    store.create_oauth_attempt(&attempt).await.expect("create");
    attempt
}

/// Revisions count up from 1, retired ones included; a retired latest revision means no app,
/// even when an older revision was never retired; every revision stays readable by id.
pub async fn oauth_app_revisions_count_up_and_retire(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    assert_eq!(
        store
            .current_oauth_app(&dev, "hubspot")
            .await
            .expect("current"),
        None
    );
    let mut first = new_app(&dev, "hubspot", None);
    first
        .settings
        .insert("app_name".into(), "acme-connector".into());
    let one = store.put_oauth_app(&first).await.expect("put");
    assert_eq!(one.revision, 1);
    assert_eq!(one.settings, first.settings, "the app's settings come back");
    assert_eq!(
        (
            &one.id,
            &one.client_secret,
            &one.scopes,
            one.created_at,
            one.retired_at
        ),
        (
            &first.id,
            &first.client_secret,
            &None,
            first.created_at,
            None
        )
    );
    let second = new_app(&dev, "hubspot", Some(&["crm.objects.read", "a b,\"c\""]));
    let two = store.put_oauth_app(&second).await.expect("put");
    assert_eq!(two.revision, 2);
    assert_eq!(two.scopes, second.scopes, "scopes survive as written");
    assert_eq!(
        store
            .current_oauth_app(&dev, "hubspot")
            .await
            .expect("current"),
        Some(two.clone())
    );

    let at = millis_now();
    assert!(
        store
            .retire_oauth_app(&dev, "hubspot", at)
            .await
            .expect("retire")
    );
    assert_eq!(
        store
            .current_oauth_app(&dev, "hubspot")
            .await
            .expect("current"),
        None,
        "revision 1 is not retired, but it is not the latest"
    );
    assert!(
        store
            .current_oauth_apps(&dev)
            .await
            .expect("apps")
            .is_empty()
    );
    assert!(
        !store
            .retire_oauth_app(&dev, "hubspot", at)
            .await
            .expect("retire"),
        "nothing current to retire"
    );
    let retired = store.oauth_app(&two.id).await.expect("get").expect("kept");
    assert_eq!(retired.retired_at, Some(at));
    assert_eq!(store.oauth_app(&one.id).await.expect("get"), Some(one));

    let three = store
        .put_oauth_app(&new_app(&dev, "hubspot", None))
        .await
        .expect("put");
    assert_eq!(three.revision, 3, "retired revisions keep their numbers");
    assert_eq!(
        store
            .current_oauth_app(&dev, "hubspot")
            .await
            .expect("current"),
        Some(three)
    );
    assert_eq!(store.oauth_app("oapp_unknown").await.expect("get"), None);
}

/// Each environment numbers and retires its own apps; the list holds the current app of each
/// tool, by tool id.
pub async fn oauth_apps_are_per_environment(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let prod = environment_id(&*store, EnvironmentName::Production).await;
    for tool in ["zoho", "hubspot", "gusto"] {
        store
            .put_oauth_app(&new_app(&dev, tool, None))
            .await
            .expect("put");
    }
    let prod_app = store
        .put_oauth_app(&new_app(&prod, "hubspot", None))
        .await
        .expect("put");
    assert_eq!(prod_app.revision, 1, "numbered per environment");
    assert!(
        store
            .retire_oauth_app(&dev, "gusto", millis_now())
            .await
            .expect("retire")
    );
    assert!(
        !store
            .retire_oauth_app(&prod, "gusto", millis_now())
            .await
            .expect("retire")
    );

    let dev_tools: Vec<_> = store
        .current_oauth_apps(&dev)
        .await
        .expect("apps")
        .into_iter()
        .map(|app| (app.environment_id == dev, app.tool))
        .collect();
    assert_eq!(dev_tools, [(true, "hubspot".into()), (true, "zoho".into())]);
    assert_eq!(
        store.current_oauth_apps(&prod).await.expect("apps"),
        std::slice::from_ref(&prod_app)
    );
    assert_eq!(
        store
            .current_oauth_app(&prod, "hubspot")
            .await
            .expect("current"),
        Some(prod_app)
    );
    assert_eq!(
        store
            .current_oauth_app(&prod, "zoho")
            .await
            .expect("current"),
        None
    );
}

/// Concurrent puts of one (environment, tool) all succeed, with distinct revisions.
pub async fn concurrent_oauth_app_puts_number_distinct_revisions(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, new) = (store.clone(), new_app(&dev, "hubspot", None));
            tokio::spawn(async move { store.put_oauth_app(&new).await })
        })
        .collect();
    let mut revisions = BTreeSet::new();
    for task in tasks {
        revisions.insert(task.await.expect("task").expect("put").revision);
    }
    assert_eq!(revisions, (1..=8).collect());
    let current = store
        .current_oauth_app(&dev, "hubspot")
        .await
        .expect("current");
    assert_eq!(current.map(|app| app.revision), Some(8));
}

/// A state is consumed once; a replay, an unknown state and an expired one get nothing. The
/// attempt is found by its link only.
pub async fn oauth_attempts_are_consumed_once(store: Arc<dyn Store>) {
    let attempt = started(&*store).await;
    let now = millis_now();
    let consumed = store
        .consume_oauth_attempt(&attempt.state_hash, now)
        .await
        .expect("consume")
        .expect("first callback");
    assert_eq!(
        consumed,
        OauthAttempt {
            consumed_at: Some(now),
            ..attempt.clone()
        }
    );
    assert_eq!(
        store
            .consume_oauth_attempt(&attempt.state_hash, now)
            .await
            .expect("replay"),
        None
    );
    assert_eq!(
        store
            .consume_oauth_attempt(b"unknown", now)
            .await
            .expect("unknown"),
        None
    );
    assert_eq!(
        store
            .oauth_attempt(&attempt.link_id, &attempt.id)
            .await
            .expect("get"),
        Some(consumed)
    );
    assert_eq!(
        store
            .oauth_attempt("another link", &attempt.id)
            .await
            .expect("get"),
        None
    );
}

/// A callback at or after the expiry is refused, and does not consume the attempt.
pub async fn expired_oauth_attempts_are_refused(store: Arc<dyn Store>) {
    let attempt = started(&*store).await;
    let hash = &attempt.state_hash;
    for late in [
        attempt.expires_at,
        attempt.expires_at + Duration::seconds(1),
    ] {
        assert_eq!(
            store.consume_oauth_attempt(hash, late).await.expect("late"),
            None
        );
    }
    let pending = store
        .oauth_attempt(&attempt.link_id, &attempt.id)
        .await
        .expect("get");
    assert_eq!(pending.and_then(|a| a.consumed_at), None);
    let just_in_time = attempt.expires_at - Duration::milliseconds(1);
    assert!(
        store
            .consume_oauth_attempt(hash, just_in_time)
            .await
            .expect("in time")
            .is_some()
    );
}

/// Of 20 concurrent callbacks with one state, exactly one gets the attempt.
pub async fn concurrent_oauth_callbacks_consume_once(store: Arc<dyn Store>) {
    let attempt = started(&*store).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (store, hash) = (store.clone(), attempt.state_hash.clone());
            tokio::spawn(async move { store.consume_oauth_attempt(&hash, millis_now()).await })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        if task.await.expect("task").expect("consume").is_some() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
}

/// A callback's outcome is written once, only after the callback consumed the attempt, and
/// stays for the flow's polling.
pub async fn an_attempt_ends_once_after_its_callback(store: Arc<dyn Store>) {
    let now = millis_now();
    // Before its callback, an attempt cannot end.
    let pending = started(&*store).await;
    assert!(
        !store
            .finish_oauth_attempt(&pending.id, "done", None)
            .await
            .expect("finish"),
        "pending"
    );
    // After its callback, once.
    let signed_in = started(&*store).await;
    let (link, id) = (signed_in.link_id.as_str(), signed_in.id.as_str());
    store
        .consume_oauth_attempt(&signed_in.state_hash, now)
        .await
        .expect("consume")
        .expect("callback");
    assert!(
        store
            .finish_oauth_attempt(id, "denied", None)
            .await
            .expect("finish")
    );
    assert!(
        !store
            .finish_oauth_attempt(id, "done", None)
            .await
            .expect("finish"),
        "once"
    );
    let stored = store
        .oauth_attempt(link, id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(stored.outcome.as_deref(), Some("denied"));
    assert!(
        !store
            .finish_oauth_attempt("unknown", "done", None)
            .await
            .expect("finish")
    );
}

/// The outcome is taken once, by the attempt's link, and the activation token with it is
/// erased; a pending attempt has nothing to take. Concurrent takers: exactly one gets it.
pub async fn oauth_results_are_taken_once(store: Arc<dyn Store>) {
    let attempt = started(&*store).await;
    let (link, id) = (attempt.link_id.as_str(), attempt.id.as_str());
    assert_eq!(
        store.take_oauth_result(link, id).await.expect("take"),
        None,
        "pending"
    );
    store
        .consume_oauth_attempt(&attempt.state_hash, millis_now())
        .await
        .expect("consume")
        .expect("callback");
    assert_eq!(
        store.take_oauth_result(link, id).await.expect("take"),
        None,
        "no outcome"
    );
    let token = sealed("activation token");
    assert!(
        store
            .finish_oauth_attempt(id, "done", Some(&token))
            .await
            .expect("finish")
    );
    assert_eq!(
        store
            .take_oauth_result("another link", id)
            .await
            .expect("take"),
        None
    );

    let takers: Vec<_> = (0..10)
        .map(|_| {
            let (store, link, id) = (store.clone(), link.to_owned(), id.to_owned());
            tokio::spawn(async move { store.take_oauth_result(&link, &id).await })
        })
        .collect();
    let mut taken = Vec::new();
    for task in takers {
        taken.extend(task.await.expect("task").expect("take"));
    }
    assert_eq!(
        taken,
        [OauthResult {
            outcome: "done".into(),
            result: Some(token),
        }]
    );
    assert_eq!(
        store.take_oauth_result(link, id).await.expect("take"),
        None,
        "erased"
    );
    let stored = store
        .oauth_attempt(link, id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(
        stored.outcome.as_deref(),
        Some("done"),
        "the outcome stays for polling"
    );

    // An outcome without a token is taken the same way.
    let closed = started(&*store).await;
    let now = millis_now();
    store
        .consume_oauth_attempt(&closed.state_hash, now)
        .await
        .expect("consume")
        .expect("callback");
    assert!(
        store
            .finish_oauth_attempt(&closed.id, "closed", None)
            .await
            .expect("finish")
    );
    assert_eq!(
        store
            .take_oauth_result(&closed.link_id, &closed.id)
            .await
            .expect("take"),
        Some(OauthResult {
            outcome: "closed".into(),
            result: None,
        })
    );
}

/// Pruning deletes attempts expired before the cut-off, oldest first, `limit` at a time.
pub async fn oauth_attempts_are_pruned_after_expiry(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let now = millis_now();
    let mut expired = Vec::new();
    for minutes in [30, 20, 40] {
        let old = attempt(&dev, "link", now - Duration::minutes(minutes));
        store.create_oauth_attempt(&old).await.expect("create");
        expired.push(old);
    }
    let live = attempt(&dev, "link", now);
    store.create_oauth_attempt(&live).await.expect("create");

    assert_eq!(store.prune_oauth_attempts(now, 2).await.expect("prune"), 2);
    let remaining = store
        .oauth_attempt("link", &expired[1].id)
        .await
        .expect("get");
    assert!(
        remaining.is_some(),
        "the newest expired one is left for the next batch"
    );
    for oldest in [&expired[0], &expired[2]] {
        assert_eq!(
            store.oauth_attempt("link", &oldest.id).await.expect("get"),
            None
        );
    }
    assert_eq!(store.prune_oauth_attempts(now, 2).await.expect("prune"), 1);
    assert_eq!(store.prune_oauth_attempts(now, 2).await.expect("prune"), 0);
    assert!(
        store
            .oauth_attempt("link", &live.id)
            .await
            .expect("get")
            .is_some()
    );
}

/// Runs [`crate::Oauth::lock_credentials`] with an update that records what it read, waits
/// `hold`, and stores `write` (or nothing).
async fn lock_and_update<'a>(
    store: &'a dyn Store,
    id: &'a ids::IntegrationId,
    hold: StdDuration,
    write: Option<Sealed>,
    locked: Option<tokio::sync::oneshot::Sender<()>>,
) -> (bool, Option<Sealed>) {
    let seen = Arc::new(std::sync::Mutex::new(None));
    let seen_inside = seen.clone();
    let update = Box::new(move |current: Sealed| -> CredentialsUpdate<'a> {
        Box::pin(async move {
            *seen_inside.lock().expect("seen") = Some(current);
            if let Some(locked) = locked {
                locked.send(()).expect("the test waits");
            }
            tokio::time::sleep(hold).await;
            write
        })
    });
    let found = store.lock_credentials(id, update).await.expect("lock");
    let seen = seen.lock().expect("seen").take();
    (found, seen)
}

/// Creates an integration through `first`, then refreshes it through `first` and, while that
/// refresh holds the lock, through `second`: the second must read what the first stored.
/// Returns the integration as created.
async fn two_refreshes(first: &Arc<dyn Store>, second: &Arc<dyn Store>) -> NewIntegration {
    let dev = environment_id(&**first, EnvironmentName::Development).await;
    let new = new_integration(&dev, "hubspot", None);
    first.create_integration(&new).await.expect("create");
    let id = new.integration.id.clone();

    let (locked, first_holds) = tokio::sync::oneshot::channel();
    let first_refresh = {
        let (store, id) = (first.clone(), id.clone());
        tokio::spawn(async move {
            let write = Some(sealed("first refresh"));
            let hold = StdDuration::from_millis(300);
            lock_and_update(&*store, &id, hold, write, Some(locked)).await
        })
    };
    first_holds.await.expect("the first update runs");
    let write = Some(sealed("second"));
    let (found, seen) = lock_and_update(&**second, &id, StdDuration::ZERO, write, None).await;
    assert!(found);
    assert_eq!(seen, Some(sealed("first refresh")), "waited for the first");
    assert_eq!(
        first_refresh.await.expect("task"),
        (true, Some(new.credentials.clone()))
    );
    let stored = first.integration_credentials(&id).await.expect("read");
    assert_eq!(stored, Some(sealed("second")));
    new
}

/// Two refreshes of one integration run one after the other: the second reads the tokens the
/// first stored. An update that returns nothing leaves the credentials; the integration's
/// `updated_at` never changes; an unknown integration is `false`, its update never run.
pub async fn credentials_locks_serialise_refreshes(store: Arc<dyn Store>) {
    let new = two_refreshes(&store, &store).await;
    let (dev, id) = (&new.integration.environment_id, &new.integration.id);

    let (found, seen) = lock_and_update(&*store, id, StdDuration::ZERO, None, None).await;
    assert_eq!((found, seen), (true, Some(sealed("second"))));
    let stored = store.integration_credentials(id).await.expect("read");
    assert_eq!(stored, Some(sealed("second")), "None leaves them");
    let integration = store
        .integration(dev, id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(integration.updated_at, new.integration.updated_at);

    let unknown = ids::IntegrationId::generate("hubspot");
    let result = lock_and_update(
        &*store,
        &unknown,
        StdDuration::ZERO,
        Some(sealed("x")),
        None,
    );
    assert_eq!(result.await, (false, None));
}

/// The lock holds between two stores on one database, as between two processes: not run by
/// [`contract_tests!`](crate::contract_tests) (it needs two stores), but by each backend's
/// contract binary with a second store opened on the first one's database.
pub async fn credentials_locks_hold_across_processes(
    first: Arc<dyn Store>,
    second: Arc<dyn Store>,
) {
    two_refreshes(&first, &second).await;
}

fn sealed_with(key_id: &str, nonce: u8) -> Sealed {
    Sealed {
        key_id: key_id.into(),
        nonce: vec![nonce; 24],
        ciphertext: vec![nonce; 40],
    }
}

/// Every revision's client secret, retired or not, is counted and re-sealed, compare-and-set.
pub async fn oauth_client_secrets_are_resealed(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let mut apps = Vec::new();
    for nonce in [1, 2] {
        let mut new = new_app(&dev, "hubspot", None);
        new.client_secret = sealed_with("old", nonce);
        apps.push(store.put_oauth_app(&new).await.expect("put"));
    }
    store
        .retire_oauth_app(&dev, "hubspot", millis_now())
        .await
        .expect("retire");
    let mut current = new_app(&dev, "zoho", None);
    current.client_secret = sealed_with("new", 3);
    store.put_oauth_app(&current).await.expect("put");
    let mut key_ids = store.sealing_key_ids().await.expect("ids");
    key_ids.sort();
    assert_eq!(key_ids, ["new", "old"]);
    assert_eq!(
        store.sealing_key_counts().await.expect("counts"),
        [("new".to_owned(), 1), ("old".to_owned(), 2)]
    );

    apps.sort_by(|a, b| a.id.cmp(&b.id));
    let records = store
        .sealed_records(SealedSlot::OauthClientSecret, "new", None, 10)
        .await
        .expect("batch");
    let expected: Vec<_> = apps
        .iter()
        .map(|app| SealedRecord {
            slot: SealedSlot::OauthClientSecret,
            record_id: app.id.clone(),
            sealed: app.client_secret.clone(),
        })
        .collect();
    assert_eq!(records, expected);
    let page = store
        .sealed_records(SealedSlot::OauthClientSecret, "new", Some(&apps[0].id), 10)
        .await
        .expect("batch");
    assert_eq!(page, expected[1..]);

    for (record, nonce) in records.iter().zip([10, 11]) {
        assert!(
            store
                .reseal(record, &sealed_with("new", nonce))
                .await
                .expect("reseal")
        );
    }
    assert!(
        !store
            .reseal(&records[0], &sealed_with("new", 12))
            .await
            .expect("stale")
    );
    let resealed = store
        .oauth_app(&apps[0].id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(resealed.client_secret, sealed_with("new", 10));
    assert_eq!(
        store.sealing_key_counts().await.expect("counts"),
        [("new".to_owned(), 3)]
    );
}
