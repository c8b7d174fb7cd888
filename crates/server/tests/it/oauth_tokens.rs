//! Signed-in integrations' tokens kept fresh, against a real authorization server that
//! rotates refresh tokens and revokes the whole grant when a rotated one is used again:
//! refreshed on use near expiry, once for a burst of calls from two servers on one database,
//! and a revoked grant turning the integration `INVALID` with Kombo's webhook.

use std::time::Duration;

use serde_json::json;

use crate::{
    both_backends,
    helpers::Backend,
    oauth_provider::Provider,
    oauth_signin::{gusto_app, sign_in},
};

/// A passthrough call to the provider's API through `app`: the tool's status.
async fn call(app: &crate::helpers::TestApp, integration: &str) -> u64 {
    let reply = app
        .passthrough(
            "gusto/v1",
            integration,
            json!({"method": "GET", "path": "/me"}),
        )
        .await;
    reply.data()["status"].as_u64().expect("status")
}

async fn a_token_near_expiry_is_refreshed_when_used(backend: Backend) {
    let provider = Provider::start();
    // Four-second tokens: fresh for two seconds (half their lifetime).
    provider.configure(Some(4), None).await;
    let app = gusto_app(backend, &provider).await;
    let integration = app.redeem(&sign_in(&app, &provider).await).await;
    assert_eq!(call(&app, &integration).await, 200);
    assert_eq!(
        provider.refreshes().await,
        0,
        "a fresh token is used as it is"
    );
    for round in 1..=2 {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(call(&app, &integration).await, 200);
        // Each refresh used the refresh token the previous one stored: the provider revokes
        // the whole grant when a rotated one comes back.
        assert_eq!(provider.refreshes().await, round);
        assert_eq!(provider.stats().await["refresh_failures"], 0);
    }
}

async fn a_burst_at_expiry_from_two_servers_refreshes_once(backend: Backend) {
    let provider = Provider::start();
    provider.configure(Some(4), None).await;
    let app = gusto_app(backend, &provider).await;
    let sibling = app.sibling().await;
    let integration = app.redeem(&sign_in(&app, &provider).await).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Slow token answers, so that every call arrives while the refresh is under way.
    provider.configure(None, Some(500)).await;
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..50 {
        let base = if i % 2 == 0 {
            app.base.clone()
        } else {
            sibling.base.clone()
        };
        let (key, integration) = (app.dev_key.clone(), integration.clone());
        calls.spawn(async move {
            let reply: serde_json::Value = reqwest::Client::new()
                .post(format!("{base}/v1/passthrough/gusto/v1"))
                .bearer_auth(key)
                .header("x-integration-id", integration)
                .json(&json!({"method": "GET", "path": "/me"}))
                .send()
                .await
                .expect("call")
                .json()
                .await
                .expect("JSON");
            reply["data"]["status"].as_u64().unwrap_or(0)
        });
    }
    let statuses = calls.join_all().await;
    assert!(statuses.iter().all(|status| *status == 200), "{statuses:?}");
    assert_eq!(
        provider.refreshes().await,
        1,
        "one refresh for fifty calls on two servers"
    );
    assert_eq!(provider.stats().await["refresh_failures"], 0);
}

async fn a_revoked_grant_makes_the_integration_invalid(backend: Backend) {
    let provider = Provider::start();
    let app = gusto_app(backend, &provider).await;
    let integration = app.redeem(&sign_in(&app, &provider).await).await;
    assert_eq!(call(&app, &integration).await, 200);
    provider.revoke_all().await;
    // The tool refuses the revoked token; the refresh that follows is refused for good.
    assert_eq!(call(&app, &integration).await, 401);
    let path = format!("/v1/integrations/{}", crate::helpers::encode(&integration));
    let mut status = String::new();
    for _ in 0..50 {
        status = app.get(&path).await.data()["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if status == "INVALID" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status, "INVALID");
    let events = app.events().await;
    let changed = events
        .iter()
        .find(|(kind, _)| kind == "integration-state-changed")
        .expect("integration-state-changed");
    assert_eq!(changed.1["data"]["state"], "INVALID", "{changed:?}");
}

both_backends!(
    a_token_near_expiry_is_refreshed_when_used,
    a_burst_at_expiry_from_two_servers_refreshes_once,
    a_revoked_grant_makes_the_integration_invalid,
);
