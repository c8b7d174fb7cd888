//! Floods and guessing: every rate limit, through the real server over HTTP. Each test sets
//! the limit it checks small and turns off the others that the same requests would also count
//! against, so a refusal can only come from the limit under test.

use std::num::NonZeroU32;

use axum::{Router, http::StatusCode};
use reqwest::Method;
use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, TestApp, form_state, spawn_app_with, submit_response, token_of},
};

/// A vendor that refuses every key, so each submission is a failed guess (`422`).
async fn refusing_vendor() -> String {
    let app = Router::new().fallback(|| async { StatusCode::UNAUTHORIZED });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

/// `Retry-After` of a refusal, checked to be whole seconds within a limit's refill time.
#[track_caller]
fn retry_after(headers: &reqwest::header::HeaderMap, max: u64) -> u64 {
    let seconds: u64 = headers
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("whole seconds");
    assert!((1..=max).contains(&seconds), "Retry-After {seconds}");
    seconds
}

/// A server whose flow verifies BambooHR credentials against a vendor that refuses them all,
/// with every flow limit off until `configure` sets the one under test.
async fn flow_app(
    backend: Backend,
    configure: impl FnOnce(&mut plugboard::config::Config),
) -> TestApp {
    let vendor = refusing_vendor().await;
    spawn_app_with(backend, |config| {
        config.tool_base_urls.insert("bamboohr".into(), vendor);
        config.rate_limit_pages = None;
        config.rate_limit_pages_per_client = None;
        config.rate_limit_credentials = None;
        config.rate_limit_credentials_per_client = None;
        config.rate_limit_credentials_per_environment = None;
        configure(config);
    })
    .await
}

/// Submits wrong BambooHR credentials with a fresh form for `token`: status, headers, body.
async fn guess(app: &TestApp, token: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let state = form_state(&app.base, token, "bamboohr").await;
    let response = submit_response(
        &app.base,
        token,
        "bamboohr",
        &state,
        &[("subdomain", "acme"), ("api_key", "guess")],
    )
    .await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

async fn made_up_api_keys_are_limited_per_client_address(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.rate_limit_api = None;
        config.rate_limit_auth = NonZeroU32::new(3);
    })
    .await;
    // Valid keys are not failures: any number of them leaves the allowance untouched.
    for _ in 0..10 {
        app.get("/v1/check-api-key").await.data();
    }
    let made_up = |n: usize| format!("pb_dev_{}", n.to_string().repeat(40).split_at(40).0);
    for n in 1..=2 {
        app.send(Method::GET, "/v1/check-api-key", Some(&made_up(n)), None)
            .await
            .error(401, Some("PLATFORM.AUTHENTICATION_INVALID"));
    }
    // A missing key is a failed authentication too.
    app.send(Method::GET, "/v1/check-api-key", None, None)
        .await
        .error(401, Some("PLATFORM.AUTHENTICATION_INVALID"));
    let refused = app
        .send(Method::GET, "/v1/check-api-key", Some(&made_up(4)), None)
        .await;
    let message = refused.error(429, Some("PLATFORM.RATE_LIMIT_EXCEEDED"));
    assert!(
        message.contains("invalid API keys from this address") && message.contains("3 a minute"),
        "{message}"
    );
    retry_after(&refused.headers, 20);
    // Blocked before the key is looked at: even a valid key from this address waits.
    let blocked = app
        .send(
            Method::POST,
            "/v1/connect/create-link",
            Some(&app.dev_key),
            Some("{}".into()),
        )
        .await;
    blocked.error(429, Some("PLATFORM.RATE_LIMIT_EXCEEDED"));
    retry_after(&blocked.headers, 20);
}

async fn a_rate_limited_api_key_gets_the_structured_refusal(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.rate_limit_api = NonZeroU32::new(2);
    })
    .await;
    for _ in 0..2 {
        app.get("/v1/check-api-key").await.data();
    }
    // Refused by the key's limit before the body is read: a 429, not a 400.
    let refused = app
        .send(
            Method::POST,
            "/v1/connect/create-link",
            Some(&app.dev_key),
            Some("not json".into()),
        )
        .await;
    let message = refused.error(429, Some("PLATFORM.RATE_LIMIT_EXCEEDED"));
    assert!(
        message.contains("this API key") && message.contains("2 a minute"),
        "{message}"
    );
    let seconds = retry_after(&refused.headers, 30);
    assert!(
        message.contains(&format!("Retry in {seconds} s")),
        "{message}"
    );
    assert_eq!(refused.json["error"]["title"], "Rate limit exceeded");
}

async fn flow_pages_are_limited_per_link(backend: Backend) {
    let app = flow_app(backend, |config| {
        config.rate_limit_pages = NonZeroU32::new(3)
    })
    .await;
    let link = app.create_link(json!({"language": "de"})).await;
    let path = link.split_once("/connect").expect("path").1;
    let steps = ["", "&tool=sandbox", "&tool=sandbox&step=guide"];
    for step in steps {
        let page = reqwest::get(format!("{}/connect{path}{step}", app.base))
            .await
            .expect("page");
        assert_eq!(page.status(), 200, "{step}");
    }
    let refused = reqwest::get(format!(
        "{}/connect{path}&tool=sandbox&step=credentials",
        app.base
    ))
    .await
    .expect("page");
    assert_eq!(refused.status(), 429);
    retry_after(refused.headers(), 20);
    let html = refused.text().await.expect("body");
    assert!(html.contains("lang=\"de\""), "the link's language: {html}");
    // Another link has its own allowance.
    let other = app.create_link(json!({})).await;
    assert_eq!(reqwest::get(&other).await.expect("page").status(), 200);
}

async fn flow_pages_are_limited_per_client_address(backend: Backend) {
    let app = flow_app(backend, |config| {
        config.rate_limit_pages_per_client = NonZeroU32::new(3);
    })
    .await;
    for _ in 0..3 {
        let link = app.create_link(json!({})).await;
        assert_eq!(reqwest::get(&link).await.expect("page").status(), 200);
    }
    // A fresh link from the same address: refused before the link is even opened.
    let link = app.create_link(json!({})).await;
    let refused = reqwest::Client::new()
        .get(&link)
        .header("accept-language", "fr")
        .send()
        .await
        .expect("page");
    assert_eq!(refused.status(), 429);
    retry_after(refused.headers(), 20);
    let html = refused.text().await.expect("body");
    assert!(
        html.contains("lang=\"fr\""),
        "the browser's language: {html}"
    );
}

async fn credential_guesses_are_limited_per_client_address(backend: Backend) {
    let app = flow_app(backend, |config| {
        config.rate_limit_credentials_per_client = NonZeroU32::new(2);
    })
    .await;
    // A fresh link for each guess: the per-link limit alone would never stop this.
    for _ in 0..2 {
        let token = token_of(
            &app.create_link(json!({"integration_tool": "bamboohr"}))
                .await,
        );
        let (status, _, _) = guess(&app, &token).await;
        assert_eq!(status, 422, "a wrong key is answered");
    }
    let token = token_of(
        &app.create_link(json!({"integration_tool": "bamboohr", "language": "it"}))
            .await,
    );
    let (status, headers, html) = guess(&app, &token).await;
    assert_eq!(status, 429);
    retry_after(&headers, 40);
    assert!(html.contains("lang=\"it\""), "the link's language: {html}");
}

async fn credential_guesses_are_limited_per_environment(backend: Backend) {
    let app = flow_app(backend, |config| {
        config.rate_limit_credentials_per_environment = NonZeroU32::new(2);
    })
    .await;
    for _ in 0..2 {
        let token = token_of(
            &app.create_link(json!({"integration_tool": "bamboohr"}))
                .await,
        );
        assert_eq!(guess(&app, &token).await.0, 422);
    }
    let token = token_of(
        &app.create_link(json!({"integration_tool": "bamboohr"}))
            .await,
    );
    let (status, headers, _) = guess(&app, &token).await;
    assert_eq!(
        status, 429,
        "the development environment's allowance is used up"
    );
    retry_after(&headers, 40);
    // Production has its own.
    let production = token_of(
        &app.create_link_as(&app.prod_key, json!({"integration_tool": "bamboohr"}))
            .await,
    );
    assert_eq!(guess(&app, &production).await.0, 422);
}

both_backends!(
    made_up_api_keys_are_limited_per_client_address,
    a_rate_limited_api_key_gets_the_structured_refusal,
    flow_pages_are_limited_per_link,
    flow_pages_are_limited_per_client_address,
    credential_guesses_are_limited_per_client_address,
    credential_guesses_are_limited_per_environment,
);
