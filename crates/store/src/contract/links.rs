//! Contract of [`crate::Links`]: magic links, and a link completing at most one flow.

use std::sync::Arc;

use chrono::Duration;
use plugboard_catalog::Category;

use super::{environment_id, millis_now, new_integration};
use crate::{EndUser, EnvironmentName, MagicLink, Store, StoreError, ids};

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
