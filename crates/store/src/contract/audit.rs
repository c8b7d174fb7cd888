//! Contract of [`crate::Audit`].

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::{environment_id, millis_now};
use crate::{
    EnvironmentName, Store,
    audit::{ActionCount, AuditEvent, AuditFilter},
    ids,
};

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

/// Four entries in development (three of the end user on `link-1`, one of the CLI on an API
/// key), a second apart from `start`, and one in production.
async fn seed_trail(store: &dyn Store) -> (String, Vec<AuditEvent>, DateTime<Utc>) {
    let dev = environment_id(store, EnvironmentName::Development).await;
    let prod = environment_id(store, EnvironmentName::Production).await;
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
    (dev, written, start)
}

/// Every entry of the development trail that `filter` keeps.
async fn filtered(store: &dyn Store, dev: &str, filter: AuditFilter) -> Vec<AuditEvent> {
    store
        .list_audit_events(dev, &filter, None, 100)
        .await
        .expect("list")
}

/// The audit trail pages newest first by `(created_at, id)`, per environment.
pub async fn audit_events_page_newest_first(store: Arc<dyn Store>) {
    let (dev, written, _) = seed_trail(&*store).await;
    let everything = filtered(&*store, &dev, AuditFilter::default()).await;
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
}

/// Every filter of the audit trail keeps only what matches; the time window is half-open.
pub async fn audit_events_filter(store: Arc<dyn Store>) {
    let (dev, _, start) = seed_trail(&*store).await;
    assert_eq!(
        filtered(
            &*store,
            &dev,
            AuditFilter {
                action: Some("link.opened".into()),
                ..Default::default()
            }
        )
        .await
        .len(),
        2
    );
    assert_eq!(
        filtered(
            &*store,
            &dev,
            AuditFilter {
                actor: Some("cli".into()),
                ..Default::default()
            }
        )
        .await
        .len(),
        1
    );
    assert_eq!(
        filtered(
            &*store,
            &dev,
            AuditFilter {
                target: Some("api_key:abc".into()),
                ..Default::default()
            }
        )
        .await
        .len(),
        1
    );
    assert_eq!(
        filtered(
            &*store,
            &dev,
            AuditFilter {
                link_id: Some("link-1".into()),
                ..Default::default()
            }
        )
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
        filtered(&*store, &dev, window).await.len(),
        2,
        "since inclusive, until exclusive"
    );
}

/// Entries are counted by action and UTC hour from `since` on (inclusive, even within an
/// hour), per environment.
pub async fn audit_actions_are_counted_by_hour(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let prod = environment_id(&*store, EnvironmentName::Production).await;
    let ten = DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
        .expect("a time")
        .with_timezone(&Utc);
    let eleven = ten + Duration::hours(1);
    let at = |minutes: i64| ten + Duration::minutes(minutes);
    for (action, when) in [
        ("link.opened", ten - Duration::milliseconds(1)),
        ("link.opened", ten),
        ("link.opened", at(30)),
        ("link.tool_chosen", eleven - Duration::milliseconds(1)),
        ("link.opened", eleven),
        ("integration.created", at(105)),
    ] {
        store
            .record_audit_event(&audit(&dev, action, when))
            .await
            .expect("record");
    }
    store
        .record_audit_event(&audit(&prod, "link.opened", at(15)))
        .await
        .expect("record");
    let counted = |env: String, since: DateTime<Utc>| {
        let store = store.clone();
        async move {
            let mut counts = store.count_audit_actions(&env, since).await.expect("count");
            counts.sort_by(|a, b| (a.hour, &a.action).cmp(&(b.hour, &b.action)));
            counts
        }
    };
    let count = |action: &str, hour, count| ActionCount {
        action: action.into(),
        hour,
        count,
    };
    assert_eq!(
        counted(dev.clone(), ten).await,
        [
            count("link.opened", ten, 2),
            count("link.tool_chosen", ten, 1),
            count("integration.created", eleven, 1),
            count("link.opened", eleven, 1),
        ],
        "the entry just before ten is left out; the hours are apart"
    );
    assert_eq!(
        counted(dev.clone(), at(30)).await,
        [
            count("link.opened", ten, 1),
            count("link.tool_chosen", ten, 1),
            count("integration.created", eleven, 1),
            count("link.opened", eleven, 1),
        ],
        "since cuts within an hour; the hour still starts on the hour"
    );
    assert!(
        counted(dev.clone(), at(106)).await.is_empty(),
        "nothing since the last entry"
    );
    assert_eq!(
        counted(prod, ten - Duration::days(1)).await,
        [count("link.opened", ten, 1)],
        "per environment"
    );
}
