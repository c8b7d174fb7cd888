//! Hardening: rate limits, and every way a link or activation token can be wrong answered alike.

use reqwest::Method;

use crate::{
    both_backends,
    helpers::{Backend, spawn_app_with},
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

both_backends!(
    api_keys_are_rate_limited_each_on_its_own,
    a_limit_can_be_turned_off
);
