//! Signing in to an OAuth tool through the flow, over HTTP, against a real authorization
//! server (`oidc-provider`, `oauth_provider.rs`) standing in for Gusto: the whole loop from the
//! link to a passthrough call with the token, and the attacks the callback must refuse.

use plugboard::{
    audit::Caller,
    oauth::apps::{self, AppInput},
};
use plugboard_store::EnvironmentName;
use reqwest::{StatusCode, header};
use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, TestApp, activation_token, spawn_app_with, token_of},
    oauth_provider::{Provider, location},
};

/// The client id of the tests' OAuth app at the provider.
pub const CLIENT_ID: &str = "plugboard-tests";
/// Its client secret, a canary the secrets tests search for.
pub const CLIENT_SECRET: &str = "CLIENT-SECRET-CANARY-4f1b";

/// A server whose Gusto is `provider`, with an OAuth app for Gusto in development.
pub async fn gusto_app(backend: Backend, provider: &Provider) -> TestApp {
    let overrides = provider.overrides("gusto");
    let app = spawn_app_with(backend, |config| {
        config.tool_base_urls.extend(overrides);
        config.checks.grace = std::time::Duration::ZERO;
    })
    .await;
    let callback = format!("{}/connect/oauth/callback", app.base);
    provider
        .add_client(CLIENT_ID, CLIENT_SECRET, &callback, "client_secret_post")
        .await;
    let environment = app.state.environments.get(EnvironmentName::Development);
    apps::save(
        &app.state,
        environment,
        "gusto",
        AppInput {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.to_owned().into(),
            scopes: Some(vec!["openid".into(), "offline_access".into()]),
            settings: Default::default(),
        },
        &Caller::cli(),
    )
    .await
    .expect("OAuth app saved");
    app
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A sign-in started in a tab of its own: the vendor's URL, and the cookie Plugboard set.
pub struct Started {
    pub authorize_url: String,
    pub cookie: String,
}

/// Opens the start of a sign-in for `tool` with `link_token`, as the consent page's button does.
pub async fn start(app: &TestApp, link_token: &str, tool: &str) -> Started {
    start_at(&app.base, link_token, tool).await
}

/// [`start`] on the server at `base` (the real binary, too).
pub async fn start_at(base: &str, link_token: &str, tool: &str) -> Started {
    let response = no_redirects()
        .get(format!(
            "{base}/connect/oauth/start?token={link_token}&tool={tool}&mode=redirect"
        ))
        .send()
        .await
        .expect("start");
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "start redirects to the vendor"
    );
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("the attempt's cookie")
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();
    Started {
        authorize_url: location(&response),
        cookie,
    }
}

/// Follows the vendor's redirect back to Plugboard's callback with `cookie` (or none).
pub async fn call_back(url: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut request = no_redirects().get(url);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.send().await.expect("callback")
}

/// The whole sign-in of a fresh link for Gusto: returns the activation token.
pub async fn sign_in(app: &TestApp, provider: &Provider) -> String {
    let link = app
        .create_link(json!({"integration_category": "HRIS"}))
        .await;
    let token = token_of(&link);
    let started = start(app, &token, "gusto").await;
    let back = provider.consent(&started.authorize_url, true).await;
    let callback = call_back(&back, Some(&started.cookie)).await;
    assert_eq!(
        callback.status(),
        StatusCode::SEE_OTHER,
        "the callback finishes in the same tab"
    );
    let finish = format!("{}{}", app.base, location(&callback));
    let page = reqwest::get(&finish).await.expect("finish");
    assert_eq!(page.status(), StatusCode::OK);
    activation_token(&page.text().await.expect("page"))
}

/// A sign-in of a fresh Gusto link that went as far as the vendor's answer.
pub struct Scene {
    /// The vendor.
    pub provider: Provider,
    /// The server, with its OAuth app for Gusto.
    pub app: TestApp,
    /// The link.
    pub link: String,
    /// The start of the sign-in.
    pub started: Started,
    /// Where the vendor sends the browser back.
    pub back: String,
}

impl Scene {
    /// Starts a sign-in for a fresh link and lets the end user `allow` (or deny) at the vendor.
    pub async fn at_vendor(backend: Backend, allow: bool) -> Self {
        let provider = Provider::start();
        let app = gusto_app(backend, &provider).await;
        let link = app
            .create_link(json!({"integration_category": "HRIS"}))
            .await;
        let started = start(&app, &token_of(&link), "gusto").await;
        let back = provider.consent(&started.authorize_url, allow).await;
        Self {
            provider,
            app,
            link,
            started,
            back,
        }
    }
}

/// The finish page the callback's redirect leads to (a sign-in in a tab of its own), as HTML.
pub async fn finish_page(base: &str, callback: &reqwest::Response) -> String {
    let finish = format!("{base}{}", location(callback));
    let page = reqwest::get(&finish).await.expect("finish");
    page.text().await.expect("html")
}

/// What one sign-in through the flow showed the browser.
pub struct Completed {
    /// Where the vendor sent the browser back (with the code).
    pub callback_url: String,
    /// The activation token on the finish page.
    pub activation: String,
}

/// The whole sign-in of link `link_token` for Gusto on the server at `base`, in one tab.
pub async fn sign_in_at(base: &str, link_token: &str, provider: &Provider) -> Completed {
    let started = start_at(base, link_token, "gusto").await;
    let callback_url = provider.consent(&started.authorize_url, true).await;
    let callback = call_back(&callback_url, Some(&started.cookie)).await;
    assert_eq!(
        callback.status(),
        StatusCode::SEE_OTHER,
        "to the finish page"
    );
    let finish = format!("{base}{}", location(&callback));
    let page = reqwest::get(&finish).await.expect("finish");
    assert_eq!(page.status(), StatusCode::OK);
    Completed {
        callback_url,
        activation: activation_token(&page.text().await.expect("page")),
    }
}

async fn a_signed_in_integration_is_used_through_passthrough(backend: Backend) {
    let provider = Provider::start();
    let app = gusto_app(backend, &provider).await;
    // The picker offers Gusto to sign in to, now that the environment has an app for it.
    let link = app
        .create_link(json!({"integration_category": "HRIS"}))
        .await;
    let picker = reqwest::get(&link)
        .await
        .expect("picker")
        .text()
        .await
        .expect("html");
    assert!(picker.contains("Sign in with Gusto"), "{picker}");

    let activation = sign_in(&app, &provider).await;
    let integration = app.redeem(&activation).await;
    assert!(integration.starts_with("gusto:"), "{integration}");
    let events = app.events().await;
    assert!(
        events.iter().any(|(kind, _)| kind == "integration-created"),
        "{events:?}"
    );

    let reply = app
        .passthrough(
            "gusto/v1",
            &integration,
            json!({"method": "GET", "path": "/me"}),
        )
        .await;
    let data = reply.data();
    assert_eq!(data["status"], 200, "{}", reply.text);
    assert_eq!(data["data"]["path"], "/v1/me", "{}", reply.text);
    assert_eq!(
        provider.stats().await["token_requests"]["authorization_code"],
        1
    );
}

async fn a_replayed_callback_is_refused(backend: Backend) {
    let Scene {
        provider,
        app: _app,
        link: _link,
        started,
        back,
    } = Scene::at_vendor(backend, true).await;
    let first = call_back(&back, Some(&started.cookie)).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let replay = call_back(&back, Some(&started.cookie)).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let page = replay.text().await.expect("page");
    assert!(page.contains("This sign-in has expired"), "{page}");
    assert_eq!(
        provider.stats().await["token_requests"]["authorization_code"],
        1
    );
}

async fn a_callback_without_the_browsers_cookie_is_refused(backend: Backend) {
    let Scene {
        provider,
        app,
        link,
        started,
        back,
    } = Scene::at_vendor(backend, true).await;
    // Another browser (an attacker's link sent to a victim) has no cookie, or another one.
    for cookie in [None, Some(format!("{}x", started.cookie))] {
        let other = start(&app, &token_of(&link), "gusto").await;
        let other_back = provider.consent(&other.authorize_url, true).await;
        let refused = call_back(&other_back, cookie.as_deref()).await;
        let page = finish_page(&app.base, &refused).await;
        assert!(page.contains("data-signin-failure=\"refused\""), "{page}");
    }
    // The genuine browser still completes.
    let accepted = call_back(&back, Some(&started.cookie)).await;
    let page = finish_page(&app.base, &accepted).await;
    assert!(page.contains("data-activation-token"), "{page}");
    assert_eq!(
        provider.stats().await["token_requests"]["authorization_code"],
        1,
        "refused callbacks never exchange their code"
    );
}

async fn a_callback_from_another_issuer_is_refused(backend: Backend) {
    let Scene {
        provider,
        app,
        link: _link,
        started,
        back,
    } = Scene::at_vendor(backend, true).await;
    assert!(
        back.contains("iss="),
        "the provider names itself (RFC 9207): {back}"
    );
    let mut url = reqwest::Url::parse(&back).expect("url");
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "iss" {
                "https://attacker.example".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let refused = call_back(url.as_str(), Some(&started.cookie)).await;
    let page = finish_page(&app.base, &refused).await;
    assert!(page.contains("data-signin-failure=\"refused\""), "{page}");
    assert_eq!(
        provider.stats().await["token_requests"]["authorization_code"],
        0
    );
}

async fn denied_consent_ends_with_a_retry(backend: Backend) {
    let Scene {
        provider: _provider,
        app,
        link: _link,
        started,
        back,
    } = Scene::at_vendor(backend, false).await;
    assert!(back.contains("error=access_denied"), "{back}");
    let denied = call_back(&back, Some(&started.cookie)).await;
    let page = finish_page(&app.base, &denied).await;
    assert!(page.contains("data-signin-failure=\"denied\""), "{page}");
    assert!(page.contains("Try again"), "{page}");
    let events = app.events().await;
    assert!(
        events
            .iter()
            .any(|(kind, _)| kind == "connection-flow-failed"),
        "{events:?}"
    );
}

async fn the_authorization_request_is_bound_and_exact(backend: Backend) {
    let provider = Provider::start();
    let app = gusto_app(backend, &provider).await;
    let link = app
        .create_link(json!({"integration_category": "HRIS"}))
        .await;
    let started = start(&app, &token_of(&link), "gusto").await;
    let url = reqwest::Url::parse(&started.authorize_url).expect("url");
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(
        param("redirect_uri").as_deref(),
        Some(format!("{}/connect/oauth/callback", app.base).as_str())
    );
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param("client_id").as_deref(), Some(CLIENT_ID));
    // 256 random bits, base64url.
    assert_eq!(param("state").map(|s| s.len()), Some(43));
    assert!(
        started.cookie.starts_with("plugboard_oauth_"),
        "{}",
        started.cookie
    );
    assert!(
        !started.authorize_url.contains(&token_of(&link)),
        "the link token stays home"
    );
}

async fn the_waiting_page_learns_of_a_connection_and_a_reload_finds_the_link_used(
    backend: Backend,
) {
    let provider = Provider::start();
    let app = gusto_app(backend, &provider).await;
    let link = app
        .create_link(json!({"integration_category": "HRIS"}))
        .await;
    let token = token_of(&link);
    let started = start(&app, &token, "gusto").await;
    let back = provider.consent(&started.authorize_url, true).await;
    let callback = call_back(&back, Some(&started.cookie)).await;
    let finish = format!("{}{}", app.base, location(&callback));
    let attempt = reqwest::Url::parse(&finish)
        .expect("url")
        .query_pairs()
        .find(|(name, _)| name == "attempt")
        .map(|(_, value)| value.into_owned())
        .expect("the attempt id");
    // The link is used now, yet the page that waited for the popup learns the outcome.
    let status: serde_json::Value = reqwest::get(format!(
        "{}/connect/oauth/status?token={token}&attempt={attempt}",
        app.base
    ))
    .await
    .expect("status")
    .json()
    .await
    .expect("JSON");
    assert_eq!(status, json!({"outcome": "done"}));
    let first = reqwest::get(&finish).await.expect("finish");
    assert!(
        first
            .text()
            .await
            .expect("page")
            .contains("data-activation-token")
    );
    // The activation token is handed out once; a reload says the link was used.
    let reload = reqwest::get(&finish).await.expect("reload");
    assert_eq!(reload.status(), StatusCode::GONE);
    let page = reload.text().await.expect("page");
    assert!(!page.contains("data-activation-token"), "{page}");
}

both_backends!(
    the_waiting_page_learns_of_a_connection_and_a_reload_finds_the_link_used,
    a_signed_in_integration_is_used_through_passthrough,
    a_replayed_callback_is_refused,
    a_callback_without_the_browsers_cookie_is_refused,
    a_callback_from_another_issuer_is_refused,
    denied_consent_ends_with_a_retry,
    the_authorization_request_is_bound_and_exact,
);
