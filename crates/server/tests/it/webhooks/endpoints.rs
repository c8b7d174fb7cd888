//! Webhook endpoints: created, read, changed and deleted per environment, their secret shown
//! once, bad input named, and the addresses they may point at.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use super::{WAIT, compressed};
use crate::{
    both_backends,
    helpers::{Backend, Reply, TestApp, spawn_app, spawn_app_with, string},
    receiver::TestReceiver,
};

/// Asks for an endpoint for `url` with the production key.
async fn create_in_production(app: &TestApp, url: &str) -> Reply {
    let body = json!({ "url": url }).to_string();
    app.send(
        Method::POST,
        "/v1/webhooks",
        Some(&app.prod_key),
        Some(body),
    )
    .await
}

/// Creates an endpoint with the production key; returns its id.
async fn add_production_endpoint(app: &TestApp, url: &str) -> String {
    string(create_in_production(app, url).await.data(), "id")
}

async fn endpoints_are_managed_over_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    let receiver = TestReceiver::start().await;
    let created = app
        .json(Method::POST, "/v1/webhooks", json!({ "url": receiver.url }))
        .await;
    let data = created.data().clone();
    let id = data["id"].as_str().expect("id");
    let secret = data["secret"].as_str().expect("secret");
    let path = format!("/v1/webhooks/{id}");
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    assert_eq!(
        data["events"],
        json!([
            "integration-created",
            "integration-deleted",
            "integration-state-changed",
            "connection-flow-failed"
        ])
    );
    assert_eq!(data["enabled"], true);
    assert!(data["disabled_reason"].is_null() && data["failing_since"].is_null());

    // The secret is never shown again.
    let fetched = app.get(&path).await;
    assert!(fetched.data().get("secret").is_none(), "{}", fetched.text);
    assert!(!fetched.text.contains(secret));
    let list = app.get("/v1/webhooks").await;
    assert_eq!(list.data()["results"].as_array().expect("list").len(), 1);
    assert!(!list.text.contains(secret));

    // Another environment's key sees nothing.
    app.get_as(&app.prod_key, &path).await.error(404, None);
    let other_list = app.get_as(&app.prod_key, "/v1/webhooks").await;
    assert_eq!(other_list.data()["results"], json!([]));

    // Changes.
    let change = json!({ "events": ["integration-deleted"], "enabled": false });
    let patched = app.json(Method::PATCH, &path, change).await;
    assert_eq!(patched.data()["events"], json!(["integration-deleted"]));
    assert_eq!(patched.data()["enabled"], false);
    assert_eq!(patched.data()["disabled_reason"], "MANUAL");
    let enabled = app
        .json(Method::PATCH, &path, json!({ "enabled": true }))
        .await;
    assert!(enabled.data()["disabled_reason"].is_null());

    // Delete, with Kombo's `{}` body; then it is gone.
    let key = Some(app.dev_key.as_str());
    let deleted = app
        .send(Method::DELETE, &path, key, Some("{}".into()))
        .await;
    deleted.data();
    app.get(&path).await.error(404, None);
    app.send(Method::DELETE, &path, key, None)
        .await
        .error(404, None);
    app.send(Method::GET, "/v1/webhooks", None, None)
        .await
        .error(401, Some("PLATFORM.AUTHENTICATION_INVALID"));
}

async fn bad_endpoint_input_names_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let receiver = TestReceiver::start().await;
    let (id, _) = app.add_webhook(&receiver.url).await;
    for (body, field) in [
        (json!({}), "url"),
        (json!({ "url": "not a url" }), "url"),
        (json!({ "url": "ftp://example.com/" }), "url"),
        (json!({ "url": receiver.url, "events": [] }), "events"),
        (
            json!({ "url": receiver.url, "events": ["sync-finished"] }),
            "events",
        ),
        (
            json!({ "url": receiver.url, "events": "integration-created" }),
            "events",
        ),
    ] {
        let reply = app.json(Method::POST, "/v1/webhooks", body.clone()).await;
        let message = reply.error(400, Some("PLATFORM.INPUT_INVALID"));
        assert!(message.contains(field), "{body}: {message}");
    }
    let bad_patch = app
        .json(
            Method::PATCH,
            &format!("/v1/webhooks/{id}"),
            json!({ "url": "http://10.0.0.1/" }),
        )
        .await;
    assert!(
        bad_patch
            .error(400, Some("PLATFORM.INPUT_INVALID"))
            .contains("url")
    );
    app.json(Method::PATCH, "/v1/webhooks/missing", json!({}))
        .await
        .error(404, None);
}

async fn non_public_targets_are_refused(backend: Backend) {
    let app = spawn_app_with(backend, compressed(&[60_000])).await;
    let receiver = TestReceiver::start().await;
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .and_then(|p| p.split('/').next())
        .expect("port")
        .to_owned();
    // Literal addresses in every notation are refused when a production endpoint is created.
    for url in [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f.0.0.1/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00::1]/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://0.0.0.0/",
    ] {
        let reply = create_in_production(&app, url).await;
        let message = reply.error(400, Some("PLATFORM.INPUT_INVALID"));
        assert!(message.contains("not a public address"), "{url}: {message}");
    }
    // A name resolving to loopback is refused when it is resolved, before connecting.
    let by_name = format!("http://localhost:{port}/hook");
    let id = add_production_endpoint(&app, &by_name).await;
    let (_, delivery) = app.test_webhook_as(&app.prod_key, &id).await;
    let deadline = Instant::now() + WAIT;
    let error = loop {
        let detail = app
            .get_as(
                &app.prod_key,
                &format!("/v1/webhooks/deliveries/{delivery}"),
            )
            .await;
        if let Some(error) = detail.data()["attempt_log"][0]["error"].as_str() {
            break error.to_owned();
        }
        assert!(Instant::now() < deadline, "{}", detail.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        error.contains("refused") && error.contains("localhost"),
        "{error}"
    );
    assert!(
        receiver.received().is_empty(),
        "nothing reached the loopback receiver"
    );
}

async fn allow_listed_networks_are_reachable_in_production(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.webhooks.allowed_networks = vec!["127.0.0.0/8".parse().expect("network")];
    })
    .await;
    let receiver = TestReceiver::start().await;
    let id = add_production_endpoint(&app, &receiver.url).await;
    app.test_webhook_as(&app.prod_key, &id).await;
    receiver.wait_for(1, WAIT).await;
}

both_backends!(
    endpoints_are_managed_over_the_api,
    bad_endpoint_input_names_the_field,
    non_public_targets_are_refused,
    allow_listed_networks_are_reachable_in_production,
);
