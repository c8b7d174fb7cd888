//! Operators signing in to the dashboard with an OpenID Connect provider: panva's
//! `oidc-provider` (the same real authorization server the OAuth tools are tested against),
//! through discovery, PKCE, the ID token's verification and the user info. Only an operator
//! with an enabled account for the address the provider confirms gets in; the attempt belongs
//! to the browser that started it.

use plugboard::{audit::Caller, operators};
use plugboard_store::OperatorRole;
use reqwest::{StatusCode, header};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app_with},
    oauth_provider::{Provider, location},
};

const CLIENT_ID: &str = "plugboard-dashboard";
const CLIENT_SECRET: &str = "dashboard-client-secret-0123456789";

async fn app_with_provider(backend: Backend, provider: &Provider) -> TestApp {
    let issuer = provider.issuer.clone();
    let app = spawn_app_with(backend, move |config| {
        config.dashboard.oidc_issuer = Some(issuer);
        config.dashboard.oidc_client_id = Some(CLIENT_ID.to_owned());
        config.dashboard.oidc_client_secret = Some(CLIENT_SECRET.to_owned().into());
        config.dashboard.oidc_name = Some("Test IdP".to_owned());
    })
    .await;
    provider
        .add_client(
            CLIENT_ID,
            CLIENT_SECRET,
            &format!("{}/dashboard/oidc/callback", app.base),
            "client_secret_basic",
        )
        .await;
    app
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The `name=value` of a `Set-Cookie` named `name`.
fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or_default().to_owned())
        .find(|pair| pair.starts_with(&format!("{name}=")) && pair.len() > name.len() + 1)
}

/// Starts a sign-in: the provider's authorization URL and the attempt's cookie.
async fn start(app: &TestApp) -> (String, String) {
    let started = client()
        .get(format!(
            "{}/dashboard/oidc/start?next=%2Fdashboard%2Fdevelopment",
            app.base
        ))
        .send()
        .await
        .expect("start");
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let attempt = cookie(&started, "plugboard_oidc").expect("the attempt's cookie");
    (location(&started), attempt)
}

async fn operators_sign_in_with_their_identity_provider(backend: Backend) {
    let provider = Provider::start();
    let app = app_with_provider(backend, &provider).await;
    operators::create(
        &app.state,
        "ada@example.com",
        OperatorRole::Viewer,
        &Caller::cli(),
    )
    .await
    .expect("operator");
    let page = client()
        .get(format!("{}/dashboard/sign-in", app.base))
        .send()
        .await
        .expect("sign-in page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("Sign in with Test IdP"), "{page}");

    let (authorize, attempt) = start(&app).await;
    assert!(authorize.starts_with(&provider.authorize), "{authorize}");
    for part in [
        "code_challenge_method=S256",
        "nonce=",
        "state=",
        "scope=openid",
    ] {
        assert!(authorize.contains(part), "{part} in {authorize}");
    }
    let callback = provider.consent(&authorize, true).await;
    assert!(callback.starts_with(&format!("{}/dashboard/oidc/callback?", app.base)));
    let back = client()
        .get(&callback)
        .header(header::COOKIE, &attempt)
        .send()
        .await
        .expect("callback");
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&back), "/dashboard/development");
    let session = cookie(&back, "plugboard_session").expect("signed in");
    let overview = client()
        .get(format!("{}/dashboard/development", app.base))
        .header(header::COOKIE, &session)
        .send()
        .await
        .expect("overview");
    assert_eq!(overview.status(), StatusCode::OK);
    assert!(
        overview
            .text()
            .await
            .expect("html")
            .contains("ada@example.com")
    );

    // The same callback again (its code is spent, its attempt over) signs no one in.
    let replayed = client()
        .get(&callback)
        .header(header::COOKIE, &attempt)
        .send()
        .await
        .expect("replay");
    assert_eq!(replayed.status(), StatusCode::BAD_GATEWAY);
    assert!(cookie(&replayed, "plugboard_session").is_none());

    // A callback in a browser that did not start the sign-in is refused before the code is used.
    let (authorize, _) = start(&app).await;
    let callback = provider.consent(&authorize, true).await;
    let elsewhere = client().get(&callback).send().await.expect("callback");
    assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
    assert!(
        elsewhere
            .text()
            .await
            .expect("html")
            .contains("started in another browser"),
        "the reason is on the page"
    );

    // Denied at the provider.
    let (authorize, attempt) = start(&app).await;
    let denied = provider.consent(&authorize, false).await;
    let refused = client()
        .get(&denied)
        .header(header::COOKIE, &attempt)
        .send()
        .await
        .expect("callback");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(cookie(&refused, "plugboard_session").is_none());

    // A confirmed address without an enabled account gets nothing.
    operators::set_disabled(&app.state, "ada@example.com", true, &Caller::cli())
        .await
        .expect("disable");
    let (authorize, attempt) = start(&app).await;
    let callback = provider.consent(&authorize, true).await;
    let no_account = client()
        .get(&callback)
        .header(header::COOKIE, &attempt)
        .send()
        .await
        .expect("callback");
    assert_eq!(no_account.status(), StatusCode::FORBIDDEN);
    assert!(cookie(&no_account, "plugboard_session").is_none());
    assert!(
        no_account
            .text()
            .await
            .expect("html")
            .contains("no dashboard account")
    );

    let trail = app
        .state
        .store
        .list_audit_events(
            &app.state.environments.production.id,
            &plugboard_store::audit::AuditFilter {
                action: Some("operator.signed_in".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .expect("trail");
    assert_eq!(trail.len(), 1);
    assert!(trail[0].detail.contains("oidc"));
}

async fn without_a_provider_there_is_no_single_sign_on(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let page = client()
        .get(format!("{}/dashboard/sign-in", app.base))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(!page.contains("/dashboard/oidc/start"));
    for path in [
        "/dashboard/oidc/start",
        "/dashboard/oidc/callback?code=x&state=y",
    ] {
        let response = client()
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

both_backends!(
    operators_sign_in_with_their_identity_provider,
    without_a_provider_there_is_no_single_sign_on,
);
