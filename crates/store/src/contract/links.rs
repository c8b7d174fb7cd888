//! Contract of [`crate::Links`]: magic links, and a link completing at most one flow.

use std::sync::Arc;

use chrono::Duration;
use plugboard_catalog::Category;

use super::{environment_id, millis_now, new_integration};
use crate::{EndUser, EnvironmentName, MagicLink, Store, StoreError, audit::AuditEvent, ids};

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

/// A link is reported consumed once it completed a flow, and not before.
pub async fn links_are_consumed_by_completing_a_flow(store: Arc<dyn Store>) {
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
}

/// The dashboard's list of links shows how far each end user got: opened, the last step of
/// the end user (never an operator's), its facts, and whether the link completed.
pub async fn link_progress_follows_the_end_users_steps(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let prod = environment_id(&*store, EnvironmentName::Production).await;
    let start = millis_now();
    let link = |n: i64, environment_id: &str| MagicLink {
        id: ids::new_id(),
        environment_id: environment_id.to_owned(),
        integration_id: None,
        end_user: EndUser {
            email: None,
            organization_name: format!("Acme {n}"),
            origin_id: None,
        },
        category: Category::Hris,
        tool: None,
        created_at: start + Duration::milliseconds(n),
        expires_at: start + Duration::days(365),
        revoked_at: None,
    };
    let (untouched, failed, done, elsewhere) =
        (link(0, &dev), link(1, &dev), link(2, &dev), link(3, &prod));
    for link in [&untouched, &failed, &done, &elsewhere] {
        store.insert_magic_link(link).await.expect("insert");
    }
    let step = |link: &MagicLink, action: &str, actor: &str, at: i64, detail: &str| AuditEvent {
        id: ids::new_id(),
        environment_id: link.environment_id.clone(),
        action: action.into(),
        actor: actor.into(),
        target: None,
        link_id: Some(link.id.clone()),
        ip: None,
        user_agent: None,
        detail: detail.into(),
        created_at: start + Duration::seconds(at),
    };
    for entry in [
        step(&failed, "link.opened", "end_user", 1, "{}"),
        step(&failed, "link.credentials_submitted", "end_user", 2, "{}"),
        step(
            &failed,
            "link.verification_failed",
            "end_user",
            3,
            r#"{"outcome":"invalid_credentials"}"#,
        ),
        // An operator's action on the link is not the end user's progress.
        step(&failed, "link.revoked", "cli", 4, "{}"),
        step(&done, "link.opened", "end_user", 5, "{}"),
        step(&done, "link.opened", "end_user", 6, "{}"),
        step(&done, "link.completed", "end_user", 7, "{}"),
        step(&elsewhere, "link.opened", "end_user", 8, "{}"),
    ] {
        store.record_audit_event(&entry).await.expect("audit");
    }
    let mut completed = new_integration(&dev, "personio", None);
    completed.link.link_id = done.id.clone();
    store
        .create_integration(&completed)
        .await
        .expect("complete");

    let listed = store
        .list_link_progress(&dev, None, 10)
        .await
        .expect("list");
    let ids: Vec<&str> = listed.iter().map(|p| p.link.id.as_str()).collect();
    assert_eq!(
        ids,
        [done.id.as_str(), failed.id.as_str(), untouched.id.as_str()],
        "newest first, this environment"
    );
    let (done_p, failed_p, untouched_p) = (&listed[0], &listed[1], &listed[2]);
    assert_eq!(done_p.link, done);
    assert!(done_p.used);
    assert_eq!(
        done_p.opened_at,
        Some(start + Duration::seconds(5)),
        "the first opening"
    );
    assert_eq!(done_p.last_step.as_deref(), Some("link.completed"));
    assert!(!failed_p.used);
    assert_eq!(
        failed_p.last_step.as_deref(),
        Some("link.verification_failed")
    );
    assert_eq!(
        failed_p.last_detail.as_deref(),
        Some(r#"{"outcome":"invalid_credentials"}"#)
    );
    assert_eq!(failed_p.last_step_at, Some(start + Duration::seconds(3)));
    assert_eq!(failed_p.opened_at, Some(start + Duration::seconds(1)));
    assert!(!untouched_p.used);
    assert_eq!(
        (untouched_p.opened_at, untouched_p.last_step.as_deref()),
        (None, None)
    );

    let page = store
        .list_link_progress(&dev, Some((failed.created_at, &failed.id)), 10)
        .await
        .expect("page");
    assert_eq!(page.len(), 1, "the cursor is exclusive");
    assert_eq!(page[0].link.id, untouched.id);
}
