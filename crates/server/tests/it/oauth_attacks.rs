//! Attacks on the OAuth sign-in, each against a real authorization server (`oidc-provider`,
//! `oauth_provider.rs`) standing in for Gusto: an attempt read through another link, an
//! authorization code delivered with another attempt's state (used, or fresh but bound to
//! another PKCE verifier), a vendor client registered with another redirect URI, a typed
//! value that tries to move the sign-in to another host, and an expired attempt.

use chrono::{Duration, Utc};
use plugboard::{
    audit::Caller,
    oauth::apps::{self, AppInput},
    vault::Purpose,
};
use plugboard_store::{EnvironmentName, OauthAttempt, ids};
use reqwest::{StatusCode, header};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, activation_token, spawn_app, spawn_app_with, token_of},
    oauth_provider::{Provider, location},
    oauth_signin::{call_back, gusto_app, sign_in_at, start},
};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The query parameter `name` of `url`.
fn param(url: &str, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(url).expect("url");
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// `url` with its query parameter `name` set to `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut url = reqwest::Url::parse(url).expect("url");
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(key, old)| {
            let new = if key == name { value } else { &old };
            (key.clone().into_owned(), new.to_owned())
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string()
}

/// The page the browser lands on after a callback that redirected it to the finish page.
async fn finish_page(app: &TestApp, callback: &reqwest::Response) -> String {
    assert_eq!(
        callback.status(),
        StatusCode::SEE_OTHER,
        "to the finish page"
    );
    let finish = format!("{}{}", app.base, location(callback));
    reqwest::get(&finish)
        .await
        .expect("finish")
        .text()
        .await
        .expect("html")
}

async fn integrations(app: &TestApp) -> usize {
    app.get("/v1/integrations").await.data()["results"]
        .as_array()
        .expect("results")
        .len()
}

async fn authorization_code_requests(provider: &Provider) -> u64 {
    provider.stats().await["token_requests"]["authorization_code"]
        .as_u64()
        .unwrap_or(0)
}

async fn a_link_cannot_read_another_links_attempt(backend: Backend) {
    let provider = Provider::start();
    let app = gusto_app(backend, &provider).await;
    let link_a = token_of(
        &app.create_link(json!({"integration_category": "HRIS"}))
            .await,
    );
    let link_b = token_of(
        &app.create_link(json!({"integration_category": "HRIS"}))
            .await,
    );
    let started = start(&app, &link_a, "gusto").await;
    let back = provider.consent(&started.authorize_url, true).await;
    let callback = call_back(&back, Some(&started.cookie)).await;
    assert_eq!(callback.status(), StatusCode::SEE_OTHER);
    let finish_a = format!("{}{}", app.base, location(&callback));
    let attempt = param(&finish_a, "attempt").expect("the attempt id");

    // Link B names A's attempt: the store answers only for the attempt's own link.
    let status = reqwest::get(format!(
        "{}/connect/oauth/status?token={link_b}&attempt={attempt}",
        app.base
    ))
    .await
    .expect("status");
    assert_eq!(status.status(), StatusCode::OK);
    assert_eq!(
        status.json::<serde_json::Value>().await.expect("JSON"),
        json!({"outcome": null})
    );
    let stolen = reqwest::get(format!(
        "{}/connect/oauth/finish?token={link_b}&tool=gusto&attempt={attempt}",
        app.base
    ))
    .await
    .expect("finish")
    .text()
    .await
    .expect("html");
    assert!(!stolen.contains("data-activation-token"), "{stolen}");

    // The token was there to steal: A's own finish page still hands it over, once.
    let page = reqwest::get(&finish_a)
        .await
        .expect("finish")
        .text()
        .await
        .expect("html");
    let integration = app.redeem(&activation_token(&page)).await;
    assert!(integration.starts_with("gusto:"), "{integration}");
}

async fn a_used_code_with_another_attempts_state_is_refused(backend: Backend) {
    let provider = Provider::start();
    let app = gusto_app(backend, &provider).await;
    let first_link = token_of(
        &app.create_link(json!({"integration_category": "HRIS"}))
            .await,
    );
    let first = sign_in_at(&app.base, &first_link, &provider).await;
    app.redeem(&first.activation).await;
    assert_eq!(integrations(&app).await, 1);

    // A second attempt, answered with the first attempt's code: its state and cookie are
    // genuine, so only the vendor can refuse (the code is used, and bound to another PKCE
    // challenge).
    let second_link = token_of(
        &app.create_link(json!({"integration_category": "HRIS"}))
            .await,
    );
    let second = start(&app, &second_link, "gusto").await;
    let state = param(&second.authorize_url, "state").expect("state");
    let replayed = with_param(&first.callback_url, "state", &state);
    let callback = call_back(&replayed, Some(&second.cookie)).await;
    let page = finish_page(&app, &callback).await;
    assert!(
        page.contains("data-signin-failure=\"exchange_failed\""),
        "{page}"
    );
    assert!(!page.contains("data-activation-token"), "{page}");
    assert_eq!(
        authorization_code_requests(&provider).await,
        2,
        "the vendor was asked, and refused"
    );
    assert_eq!(integrations(&app).await, 1, "no second integration");
}

async fn a_fresh_code_of_another_attempt_fails_pkce(backend: Backend) {
    let provider = Provider::start();
    let app = gusto_app(backend, &provider).await;
    // The attacker's own sign-in yields an unused code, which they inject into the victim's
    // attempt (RFC 9700 §4.5): the code is bound to the attacker's PKCE challenge.
    let attacker_link = token_of(
        &app.create_link(json!({"integration_category": "HRIS"}))
            .await,
    );
    let attacker = start(&app, &attacker_link, "gusto").await;
    let attacker_back = provider.consent(&attacker.authorize_url, true).await;
    let victim_link = token_of(
        &app.create_link(json!({"integration_category": "HRIS"}))
            .await,
    );
    let victim = start(&app, &victim_link, "gusto").await;
    let state = param(&victim.authorize_url, "state").expect("state");
    let injected = with_param(&attacker_back, "state", &state);
    let callback = call_back(&injected, Some(&victim.cookie)).await;
    let page = finish_page(&app, &callback).await;
    assert!(
        page.contains("data-signin-failure=\"exchange_failed\""),
        "{page}"
    );
    assert_eq!(integrations(&app).await, 0);
}

async fn a_client_registered_with_another_redirect_uri_is_never_sent_back(backend: Backend) {
    let provider = Provider::start();
    let overrides = provider.overrides("gusto");
    let app = spawn_app_with(backend, |config| config.tool_base_urls.extend(overrides)).await;
    provider
        .add_client(
            "elsewhere-client",
            "elsewhere-secret",
            "https://elsewhere.example/connect/oauth/callback",
            "client_secret_post",
        )
        .await;
    let environment = app.state.environments.get(EnvironmentName::Development);
    apps::save(
        &app.state,
        environment,
        "gusto",
        AppInput {
            client_id: "elsewhere-client".into(),
            client_secret: "elsewhere-secret".to_owned().into(),
            scopes: Some(vec!["openid".into(), "offline_access".into()]),
            settings: Default::default(),
        },
        &Caller::cli(),
    )
    .await
    .expect("OAuth app saved");
    let link = token_of(
        &app.create_link(json!({"integration_category": "HRIS"}))
            .await,
    );
    let started = start(&app, &link, "gusto").await;
    assert_eq!(
        param(&started.authorize_url, "redirect_uri"),
        Some(format!("{}/connect/oauth/callback", app.base)),
        "exactly the deployment's one redirect URI"
    );
    // The vendor checks it against the registration (exact match) and shows its own error
    // page: no redirect anywhere, so no code reaches anyone.
    let at_vendor = no_redirects()
        .get(&started.authorize_url)
        .send()
        .await
        .expect("authorize");
    assert_eq!(at_vendor.status(), StatusCode::BAD_REQUEST);
    assert!(at_vendor.headers().get(header::LOCATION).is_none());
    let page = at_vendor.text().await.expect("html");
    assert!(page.contains("redirect_uri"), "{page}");
    assert_eq!(authorization_code_requests(&provider).await, 0);
}

async fn a_typed_value_cannot_move_the_sign_in_to_another_host(backend: Backend) {
    let app = spawn_app(backend).await;
    let environment = app.state.environments.get(EnvironmentName::Development);
    // BambooHR's endpoints are `https://{subdomain}.bamboohr.com/…`.
    apps::save(
        &app.state,
        environment,
        "bamboohr",
        AppInput {
            client_id: "bamboohr-client".into(),
            client_secret: "bamboohr-secret".to_owned().into(),
            scopes: None,
            settings: Default::default(),
        },
        &Caller::cli(),
    )
    .await
    .expect("OAuth app saved");
    let link = app
        .create_link(json!({"integration_category": "HRIS"}))
        .await;
    let jti = app.claims(&link).jti;
    let token = token_of(&link);
    let open = |subdomain: &str| {
        let attempt = ids::new_id();
        let url = format!(
            "{}/connect/oauth/start?token={token}&tool=bamboohr&mode=redirect&attempt={attempt}&field.subdomain={subdomain}",
            app.base
        );
        async move {
            let response = no_redirects().get(url).send().await.expect("start");
            (attempt, response)
        }
    };

    // A well-formed subdomain goes to that account's own server.
    let (_, accepted) = open("acme").await;
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    let to = reqwest::Url::parse(&location(&accepted)).expect("url");
    assert_eq!(to.host_str(), Some("acme.bamboohr.com"));

    for subdomain in [
        "evil.example%2Fx",
        "a.b",
        "x%40evil.example",
        "%2e%2e",
        "evil.example%23",
        "evil.example%3F",
        "evil.example%3A443",
        "acme.bamboohr.com.evil.example",
        "%2F%2Fevil.example",
        "acme%00.evil.example",
    ] {
        let (attempt, refused) = open(subdomain).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{subdomain}");
        assert!(
            refused.headers().get(header::LOCATION).is_none(),
            "{subdomain}: no redirect"
        );
        assert!(
            refused.headers().get(header::SET_COOKIE).is_none(),
            "{subdomain}: no attempt cookie"
        );
        let recorded = app
            .state
            .store
            .oauth_attempt(&jti, &attempt)
            .await
            .expect("store");
        assert!(recorded.is_none(), "{subdomain}: no attempt recorded");
        let page = refused.text().await.expect("html");
        assert!(!page.contains("evil.example"), "{subdomain}: {page}");
    }
}

fn sha256(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

async fn an_expired_attempt_is_refused_at_the_callback(backend: Backend) {
    let provider = Provider::start();
    let app = gusto_app(backend, &provider).await;
    let link = app
        .create_link(json!({"integration_category": "HRIS"}))
        .await;
    let jti = app.claims(&link).jti;
    let started = start(&app, &token_of(&link), "gusto").await;
    let back = provider.consent(&started.authorize_url, true).await;
    let attempt_id = started
        .cookie
        .split_once('=')
        .and_then(|(name, _)| name.strip_prefix("plugboard_oauth_"))
        .expect("the cookie names the attempt")
        .to_owned();
    let browser = started.cookie.split_once('=').expect("name=value").1;
    let original = app
        .state
        .store
        .oauth_attempt(&jti, &attempt_id)
        .await
        .expect("store")
        .expect("the attempt is recorded");
    let secrets = app
        .state
        .vault
        .open(Purpose::OauthAttempt, &attempt_id, &original.sealed)
        .expect("the attempt opens");

    // Copies of the genuine attempt (its PKCE verifier, its browser) under a state of our
    // own, one started eleven minutes ago, one a minute ago: waiting out ten minutes here
    // would take ten minutes.
    let copy = |expires_at: chrono::DateTime<Utc>| {
        let id = ids::new_id();
        let state = format!("{}{}", ids::new_id(), ids::new_id());
        let attempt = OauthAttempt {
            state_hash: sha256(&state),
            id: id.clone(),
            sealed: app.state.vault.seal(Purpose::OauthAttempt, &id, &secrets),
            created_at: expires_at - Duration::minutes(10),
            expires_at,
            consumed_at: None,
            outcome: None,
            ..original.clone()
        };
        let url = with_param(&back, "state", &state);
        let cookie = format!("plugboard_oauth_{id}={browser}");
        (attempt, url, cookie)
    };
    let (expired, url, cookie) = copy(Utc::now() - Duration::minutes(1));
    app.state
        .store
        .create_oauth_attempt(&expired)
        .await
        .expect("stored");
    let refused = call_back(&url, Some(&cookie)).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let page = refused.text().await.expect("html");
    assert!(page.contains("This sign-in has expired"), "{page}");
    assert_eq!(
        authorization_code_requests(&provider).await,
        0,
        "the code of an expired attempt is never exchanged"
    );

    // The same copy, unexpired, is accepted: what refused the first was its age.
    let (current, url, cookie) = copy(Utc::now() + Duration::minutes(9));
    app.state
        .store
        .create_oauth_attempt(&current)
        .await
        .expect("stored");
    let accepted = call_back(&url, Some(&cookie)).await;
    let page = finish_page(&app, &accepted).await;
    assert!(page.contains("data-activation-token"), "{page}");
}

both_backends!(
    a_link_cannot_read_another_links_attempt,
    a_used_code_with_another_attempts_state_is_refused,
    a_fresh_code_of_another_attempt_fails_pkce,
    a_client_registered_with_another_redirect_uri_is_never_sent_back,
    a_typed_value_cannot_move_the_sign_in_to_another_host,
    an_expired_attempt_is_refused_at_the_callback,
);
