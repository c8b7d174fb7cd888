//! Hardening: rate limits, the audit trail of operator actions, and every way a link or
//! activation token can be wrong answered alike.

use reqwest::Method;
use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, encode, spawn_app, spawn_app_with},
};

async fn api_keys_are_rate_limited_each_on_its_own(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.rate_limit_api = std::num::NonZeroU32::new(5);
    })
    .await;
    for _ in 0..5 {
        app.get("/v1/check-api-key").await.data();
    }
    let refused = app.get("/v1/check-api-key").await;
    let message = refused.error(429, Some("PLATFORM.RATE_LIMIT_EXCEEDED"));
    assert!(message.contains("5 a minute"), "{message}");
    let retry_after: u64 = refused.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("whole seconds");
    assert!((1..=12).contains(&retry_after), "{retry_after}");
    // Every endpoint counts against the same key.
    app.json(
        Method::POST,
        "/v1/connect/create-link",
        serde_json::json!({}),
    )
    .await
    .error(429, Some("PLATFORM.RATE_LIMIT_EXCEEDED"));
    // Another key has its own allowance; a bad key is still told it is bad, not limited.
    app.send(Method::GET, "/v1/check-api-key", Some(&app.prod_key), None)
        .await
        .data();
    app.send(
        Method::GET,
        "/v1/check-api-key",
        Some("pb_dev_0000000000000000000000000000000000000000"),
        None,
    )
    .await
    .error(401, Some("PLATFORM.AUTHENTICATION_INVALID"));
}

async fn a_limit_can_be_turned_off(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.rate_limit_api = None).await;
    for _ in 0..1500 {
        let reply = app.get("/v1/check-api-key").await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
}

async fn operator_actions_are_in_the_audit_trail_without_secrets(backend: Backend) {
    let app = spawn_app(backend).await;
    let integration = app.connected_integration().await;
    let path = format!("/v1/integrations/{}", encode(&integration));
    app.json(
        Method::PUT,
        &format!("{path}/enabled"),
        json!({"value": false}),
    )
    .await
    .data();
    app.send(Method::DELETE, &path, Some(&app.dev_key), None)
        .await
        .data();
    let created = app
        .json(
            Method::POST,
            "/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/hook", "events": ["integration-created"]}),
        )
        .await;
    let endpoint = created.data()["id"].as_str().expect("id").to_owned();
    let first_secret = created.data()["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    app.json(
        Method::PATCH,
        &format!("/v1/webhooks/{endpoint}"),
        json!({"enabled": false}),
    )
    .await
    .data();
    let rotated = app
        .send(
            Method::POST,
            &format!("/v1/webhooks/{endpoint}/rotate-secret"),
            Some(&app.dev_key),
            None,
        )
        .await;
    let second_secret = rotated.data()["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    app.send(
        Method::DELETE,
        &format!("/v1/webhooks/{endpoint}"),
        Some(&app.dev_key),
        None,
    )
    .await
    .data();

    let trail = app.get("/v1/audit-events").await;
    let entries = trail.data()["results"].as_array().expect("results").clone();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .filter(|action| !action.starts_with("link."))
        .collect();
    assert_eq!(
        actions,
        [
            "webhook_endpoint.deleted",
            "webhook_endpoint.secret_rotated",
            "webhook_endpoint.updated",
            "webhook_endpoint.created",
            "integration.deleted",
            "integration.disabled",
            "api_key.created",
        ],
        "newest first, only this environment's key"
    );
    let key_id = app
        .state
        .store
        .list_api_keys(Some(&app.state.environments.development.id))
        .await
        .expect("keys")
        .remove(0)
        .id;
    for entry in entries.iter().take(6) {
        assert_eq!(entry["actor"], format!("api_key:{key_id}"), "{entry}");
        assert_eq!(entry["ip"], "127.0.0.1");
    }
    assert_eq!(entries[4]["target"], format!("integration:{integration}"));
    let key_entry = entries.last().expect("key");
    assert_eq!(key_entry["actor"], "cli");
    assert_eq!(key_entry["target"], format!("api_key:{key_id}"));
    assert!(key_entry["ip"].is_null());
    for secret in [&first_secret, &second_secret, &app.dev_key] {
        assert!(
            !trail.text.contains(secret.as_str()),
            "a secret in the audit trail"
        );
    }

    // Filters and paging.
    let deleted = app.get("/v1/audit-events?action=integration.deleted").await;
    assert_eq!(deleted.data()["results"].as_array().map(Vec::len), Some(1));
    let target = app
        .get(&format!(
            "/v1/audit-events?target=webhook_endpoint:{endpoint}"
        ))
        .await;
    assert_eq!(target.data()["results"].as_array().map(Vec::len), Some(4));
    let future = app
        .get("/v1/audit-events?created_after=2999-01-01T00:00:00Z")
        .await;
    assert_eq!(future.data()["results"], json!([]));
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get(&format!("/v1/audit-events?page_size=3&cursor={cursor}"))
            .await;
        for entry in page.data()["results"].as_array().expect("results") {
            seen.push(entry["id"].as_str().expect("id").to_owned());
        }
        match page.data()["next"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    let all: Vec<String> = entries
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(seen, all, "pages of 3 add up to the whole trail");
    for bad in [
        "action=integration.exploded",
        "created_after=yesterday",
        "page_size=0",
        "cursor=garbage",
    ] {
        app.get(&format!("/v1/audit-events?{bad}"))
            .await
            .error(400, Some("PLATFORM.INPUT_INVALID"));
    }
}

both_backends!(
    operator_actions_are_in_the_audit_trail_without_secrets,
    api_keys_are_rate_limited_each_on_its_own,
    a_limit_can_be_turned_off
);
