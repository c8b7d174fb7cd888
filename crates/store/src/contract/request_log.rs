//! Contract of [`crate::RequestLog`].

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::{environment_id, event, millis_now, new_integration};
use crate::{
    EnvironmentName, Store,
    ids::{self, IntegrationId},
    request_log::{RequestFilter, RequestLogEntry, StatusClass},
};

fn request(
    environment_id: &str,
    integration_id: &IntegrationId,
    at: DateTime<Utc>,
) -> RequestLogEntry {
    RequestLogEntry {
        id: ids::new_id(),
        environment_id: environment_id.into(),
        integration_id: integration_id.clone(),
        tool: integration_id.tool().into(),
        api: "personnel".into(),
        method: "GET".into(),
        path: "/company/employees?limit&offset".into(),
        remote_status: Some(200),
        error: None,
        duration_ms: 125,
        request_bytes: 0,
        response_bytes: 48_213,
        attempts: 1,
        created_at: at,
    }
}

/// An integration in development, and the id of the development environment.
async fn integration(store: &dyn Store, tool: &str) -> (String, IntegrationId) {
    let dev = environment_id(store, EnvironmentName::Development).await;
    let new = new_integration(&dev, tool, None);
    store.create_integration(&new).await.expect("create");
    (dev, new.integration.id)
}

/// Every entry of the integration's log that `filter` keeps.
async fn filtered(
    store: &dyn Store,
    dev: &str,
    id: &IntegrationId,
    filter: RequestFilter,
) -> Vec<RequestLogEntry> {
    store
        .list_requests(dev, id, &filter, None, 1000)
        .await
        .expect("list")
}

/// Every field comes back as written, the largest counts and both kinds of outcome included;
/// an entry is found by id only in its own environment.
pub async fn request_log_keeps_every_field(store: Arc<dyn Store>) {
    let (dev, id) = integration(&*store, "personio").await;
    let prod = environment_id(&*store, EnvironmentName::Production).await;
    let now = millis_now();
    let answered = RequestLogEntry {
        method: "POST".into(),
        request_bytes: u64::from(u32::MAX) + 1,
        // The largest count a 64-bit signed column holds.
        response_bytes: u64::MAX >> 1,
        duration_ms: u32::MAX,
        attempts: 3,
        remote_status: Some(503),
        ..request(&dev, &id, now)
    };
    let failed = RequestLogEntry {
        remote_status: None,
        error: Some("timeout".into()),
        response_bytes: 0,
        ..request(&dev, &id, now + Duration::milliseconds(1))
    };
    store
        .record_requests(&[answered.clone(), failed.clone()])
        .await
        .expect("record");
    let listed = filtered(&*store, &dev, &id, RequestFilter::default()).await;
    assert_eq!(listed, [failed.clone(), answered.clone()], "newest first");
    for entry in [&answered, &failed] {
        let found = store.request_entry(&dev, &entry.id).await.expect("entry");
        assert_eq!(found.as_ref(), Some(entry));
        let elsewhere = store.request_entry(&prod, &entry.id).await.expect("entry");
        assert_eq!(elsewhere, None, "another environment cannot read it");
    }
    let unknown = store
        .request_entry(&dev, &ids::new_id())
        .await
        .expect("entry");
    assert_eq!(unknown, None);
}

/// The log pages newest first by `(created_at, id)`, entries of the same millisecond included,
/// and holds only the integration's own calls in its own environment.
pub async fn request_log_pages_newest_first(store: Arc<dyn Store>) {
    let (dev, id) = integration(&*store, "personio").await;
    let (_, other) = integration(&*store, "bamboohr").await;
    let prod = environment_id(&*store, EnvironmentName::Production).await;
    let start = millis_now();
    // Three calls share a millisecond, so only the id orders them.
    let mut written: Vec<_> = [0, 1, 1, 1, 2]
        .into_iter()
        .map(|second| request(&dev, &id, start + Duration::seconds(second)))
        .collect();
    let noise = [
        request(&dev, &other, start + Duration::seconds(1)),
        request(&prod, &id, start + Duration::seconds(1)),
    ];
    store.record_requests(&written).await.expect("record");
    store.record_requests(&noise).await.expect("record");
    written.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    let mut walked = Vec::new();
    let mut before: Option<(DateTime<Utc>, String)> = None;
    loop {
        let page = store
            .list_requests(
                &dev,
                &id,
                &RequestFilter::default(),
                before.as_ref().map(|(at, id)| (*at, id.as_str())),
                2,
            )
            .await
            .expect("page");
        let Some(last) = page.last() else { break };
        assert!(page.len() <= 2, "at most the limit");
        before = Some((last.created_at, last.id.clone()));
        walked.extend(page);
    }
    assert_eq!(
        walked, written,
        "every entry once, newest first, ties by id"
    );
    let others = filtered(&*store, &dev, &other, RequestFilter::default()).await;
    assert_eq!(
        others,
        [noise[0].clone()],
        "another integration's log is its own"
    );
}

/// Every filter of the log keeps only what matches; the time window is half-open.
pub async fn request_log_filters(store: Arc<dyn Store>) {
    let (dev, id) = integration(&*store, "personio").await;
    let start = millis_now();
    let outcomes = [
        ("personnel", "GET", Some(200)),
        ("personnel", "GET", Some(204)),
        ("personnel", "POST", Some(302)),
        ("v1", "GET", Some(404)),
        ("v1", "PATCH", Some(503)),
        ("v1", "GET", None),
    ];
    let entries: Vec<_> = outcomes
        .iter()
        .enumerate()
        .map(|(i, (api, method, status))| RequestLogEntry {
            api: (*api).into(),
            method: (*method).into(),
            remote_status: *status,
            error: status.is_none().then(|| "unreachable".into()),
            ..request(&dev, &id, start + Duration::seconds(i as i64))
        })
        .collect();
    store.record_requests(&entries).await.expect("record");
    let count = |filter: RequestFilter| {
        let (store, dev, id) = (store.clone(), dev.clone(), id.clone());
        async move { filtered(&*store, &dev, &id, filter).await.len() }
    };
    let api = RequestFilter {
        api: Some("v1".into()),
        ..Default::default()
    };
    assert_eq!(count(api).await, 3);
    let method = RequestFilter {
        method: Some("GET".into()),
        ..Default::default()
    };
    assert_eq!(count(method).await, 4);
    for (class, expected) in [
        (StatusClass::Success, 2),
        (StatusClass::Redirect, 1),
        (StatusClass::ClientError, 1),
        (StatusClass::ServerError, 1),
        (StatusClass::Failed, 1),
    ] {
        let filter = RequestFilter {
            status_class: Some(class),
            ..Default::default()
        };
        assert_eq!(count(filter).await, expected, "{class}");
    }
    let window = RequestFilter {
        since: Some(start + Duration::seconds(1)),
        until: Some(start + Duration::seconds(3)),
        ..Default::default()
    };
    assert_eq!(count(window).await, 2, "since inclusive, until exclusive");
    let combined = RequestFilter {
        api: Some("personnel".into()),
        method: Some("GET".into()),
        status_class: Some(StatusClass::Success),
        ..Default::default()
    };
    assert_eq!(count(combined).await, 2, "filters combine");
}

/// Deleting an integration deletes its log with it, and no other integration's.
pub async fn request_log_goes_with_its_integration(store: Arc<dyn Store>) {
    let (dev, id) = integration(&*store, "personio").await;
    let (_, kept) = integration(&*store, "hibob").await;
    let now = millis_now();
    let gone = request(&dev, &id, now);
    let stays = request(&dev, &kept, now);
    store
        .record_requests(&[gone.clone(), stays.clone()])
        .await
        .expect("record");
    let deleted = store
        .delete_integration(&dev, &id, &event(&dev, "integration-deleted"))
        .await
        .expect("delete");
    assert!(deleted);
    assert!(
        filtered(&*store, &dev, &id, RequestFilter::default())
            .await
            .is_empty()
    );
    assert_eq!(
        store.request_entry(&dev, &gone.id).await.expect("entry"),
        None
    );
    assert_eq!(
        store.request_entry(&dev, &stays.id).await.expect("entry"),
        Some(stays),
        "another integration's log stays"
    );
}

/// An empty batch writes nothing; a batch longer than one statement is written whole, or, when
/// one entry cannot be written, not at all.
pub async fn request_log_batches_are_whole(store: Arc<dyn Store>) {
    let (dev, id) = integration(&*store, "personio").await;
    store.record_requests(&[]).await.expect("empty batch");
    assert!(
        filtered(&*store, &dev, &id, RequestFilter::default())
            .await
            .is_empty()
    );
    let start = millis_now();
    let batch = |len: i64| -> Vec<_> {
        (0..len)
            .map(|i| request(&dev, &id, start + Duration::milliseconds(i)))
            .collect()
    };
    let mut broken = batch(600);
    broken[550].id = broken[0].id.clone();
    assert!(
        store.record_requests(&broken).await.is_err(),
        "a duplicate id fails the batch"
    );
    assert!(
        filtered(&*store, &dev, &id, RequestFilter::default())
            .await
            .is_empty(),
        "the statement before the failing one is rolled back"
    );
    let whole = batch(1201);
    store.record_requests(&whole).await.expect("record");
    assert_eq!(
        filtered(&*store, &dev, &id, RequestFilter::default())
            .await
            .len(),
        1000,
        "the limit holds"
    );
    let oldest = store
        .list_requests(
            &dev,
            &id,
            &RequestFilter::default(),
            Some((whole[201].created_at, &whole[201].id)),
            1000,
        )
        .await
        .expect("list");
    assert_eq!(oldest.len(), 201, "all 1201 entries are written");
}

/// Pruning deletes the oldest entries made before the cut-off, at most `limit` at a time, in
/// every environment, and nothing newer.
pub async fn request_log_prunes_oldest_first(store: Arc<dyn Store>) {
    let (dev, id) = integration(&*store, "personio").await;
    let now = millis_now();
    let entries: Vec<RequestLogEntry> = (0..5)
        .map(|days| request(&dev, &id, now - Duration::days(days)))
        .collect();
    store.record_requests(&entries).await.expect("record");
    let cutoff = now - Duration::hours(36);
    assert_eq!(store.prune_requests(cutoff, 2).await.expect("prune"), 2);
    let left = filtered(&*store, &dev, &id, RequestFilter::default()).await;
    assert_eq!(left.len(), 3);
    assert!(
        left.iter()
            .all(|entry| entry.created_at >= now - Duration::days(2)),
        "the oldest went first: {left:?}"
    );
    assert_eq!(store.prune_requests(cutoff, 10).await.expect("prune"), 1);
    assert_eq!(store.prune_requests(cutoff, 10).await.expect("prune"), 0);
    let kept = filtered(&*store, &dev, &id, RequestFilter::default()).await;
    assert_eq!(kept.len(), 2, "entries after the cut-off stay");
}
