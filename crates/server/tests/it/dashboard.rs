//! The operator dashboard over HTTP, as a browser uses it (cookies, forms, `Origin`), on both
//! backends: signing in with a one-time link and a password, sessions and their ends, CSRF,
//! roles, the per-account and per-address limits, framing, and the integration pages and
//! their actions. The same journeys run in Chromium in `tests/browser/dashboard.test.mjs`.

use plugboard::{audit::Caller, operators};
use plugboard_store::{IntegrationStatus, OperatorRole};
use reqwest::{StatusCode, header};
use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, TestApp, encode, spawn_app, spawn_app_with},
    receiver::{Answer, TestReceiver},
};

const PASSWORD: &str = "correct horse battery staple";

/// A browser without JavaScript: it keeps the session cookie and sends `Origin` with forms.
struct Browser {
    base: String,
    client: reqwest::Client,
    cookie: Option<String>,
}

/// An answer read whole.
struct Page {
    status: StatusCode,
    headers: header::HeaderMap,
    html: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The CSRF token of the page's forms.
    fn csrf(&self) -> String {
        let start = self
            .html
            .find("name=\"csrf\" value=\"")
            .expect("a form with csrf")
            + 19;
        let end = self.html[start..].find('"').expect("end of value") + start;
        self.html[start..end].to_owned()
    }
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Self {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookie: None,
        }
    }

    async fn read(&mut self, response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        for value in headers.get_all(header::SET_COOKIE) {
            let text = value.to_str().expect("cookie");
            let pair = text.split(';').next().expect("pair");
            let (name, value) = pair.split_once('=').expect("name=value");
            assert_eq!(name, "plugboard_session", "plain HTTP: no __Host- prefix");
            self.cookie = (!value.is_empty()).then(|| value.to_owned());
        }
        Page {
            status,
            headers,
            html: response.text().await.expect("body"),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, format!("plugboard_session={cookie}"));
        }
        let response = request.send().await.expect("request");
        self.read(response).await
    }

    /// Posts a form as a page of ours would (`Origin` is Plugboard's).
    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let origin = self.base.clone();
        self.post_from(path, form, &origin).await
    }

    async fn post_from(&mut self, path: &str, form: &[(&str, &str)], origin: &str) -> Page {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header(header::ORIGIN, origin)
            .form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, format!("plugboard_session={cookie}"));
        }
        let response = request.send().await.expect("request");
        self.read(response).await
    }
}

/// The audit trail of an environment, newest first, as `filter` narrows it.
async fn trail(
    app: &TestApp,
    environment_id: &str,
    filter: plugboard_store::audit::AuditFilter,
) -> Vec<plugboard_store::audit::AuditEvent> {
    app.state
        .store
        .list_audit_events(environment_id, &filter, None, 100)
        .await
        .expect("trail")
}

/// Creates an operator and has them choose [`PASSWORD`] through their link; returns the
/// signed-in browser.
async fn operator(app: &TestApp, email: &str, role: OperatorRole) -> Browser {
    let (_, link) = operators::create(&app.state, email, role, &Caller::cli())
        .await
        .expect("operator");
    let path = link.strip_prefix(&app.base).expect("link on this server");
    let mut browser = Browser::new(app);
    let page = browser.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(
        page.html.contains(email),
        "the page says whose account it is"
    );
    let token = path.split("token=").nth(1).expect("token");
    let page = browser
        .post(
            "/dashboard/welcome",
            &[
                ("token", token),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.html);
    assert!(browser.cookie.is_some(), "signed in");
    browser
}

async fn signs_in_with_a_one_time_link_and_a_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, link) = operators::create(
        &app.state,
        "Ops@Example.com",
        OperatorRole::Admin,
        &Caller::cli(),
    )
    .await
    .expect("operator");
    let path = link
        .strip_prefix(&app.base)
        .expect("link on this server")
        .to_owned();
    let token = path.split("token=").nth(1).expect("token").to_owned();
    let mut browser = Browser::new(&app);

    let mismatch = browser
        .post(
            "/dashboard/welcome",
            &[
                ("token", &token),
                ("password", PASSWORD),
                ("confirm", "something else entirely"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    assert!(mismatch.html.contains("The two passwords differ"));
    let short = browser
        .post(
            "/dashboard/welcome",
            &[
                ("token", &token),
                ("password", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(
        short.html.contains("at least 12 characters"),
        "{}",
        short.html
    );
    assert!(
        browser.cookie.is_none(),
        "no session before a password is chosen"
    );

    let foreign = browser
        .post_from(
            "/dashboard/welcome",
            &[
                ("token", &token),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
            "https://evil.example",
        )
        .await;
    assert_eq!(
        foreign.status,
        StatusCode::FORBIDDEN,
        "a foreign page cannot use the link"
    );

    let done = browser
        .post(
            "/dashboard/welcome",
            &[
                ("token", &token),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let cookie = done
        .headers
        .get(header::SET_COOKIE)
        .expect("cookie")
        .to_str()
        .expect("text");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    let home = browser.get("/dashboard").await;
    assert_eq!(home.location(), "/dashboard/production");
    let overview = browser.get("/dashboard/production").await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(
        overview.html.contains("ops@example.com"),
        "the address, lower-cased"
    );

    let again = Browser::new(&app).get(&path).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "the link works once");
    assert!(again.html.contains("cannot be used"));

    // The password is stored as an argon2id hash only.
    let stored = app
        .state
        .store
        .operator_by_email("ops@example.com")
        .await
        .expect("read")
        .expect("operator");
    let hash = stored.password_hash.expect("hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
}

async fn no_session_means_the_sign_in_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.connected_integration().await;
    let mut browser = Browser::new(&app);
    let page = browser
        .get("/dashboard/production/integrations?q=acme")
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location(),
        "/dashboard/sign-in?next=%2Fdashboard%2Fproduction%2Fintegrations%3Fq%3Dacme"
    );
    let sign_in = browser.get(page.location()).await;
    assert_eq!(sign_in.status, StatusCode::OK);
    assert!(
        sign_in
            .html
            .contains("name=\"next\" value=\"/dashboard/production/integrations?q=acme\"")
    );

    // A made-up cookie is no session either, and is removed.
    browser.cookie = Some("made-up".into());
    let page = browser.get("/dashboard/development").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(browser.cookie.is_none(), "the stale cookie was removed");

    // Forms without a session change nothing.
    let page = browser
        .post(
            &format!(
                "/dashboard/development/integrations/{}/enabled",
                encode(&id)
            ),
            &[("enabled", "false"), ("csrf", "x")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with("/dashboard/sign-in"));
    assert_eq!(status_of(&app, &id).await, IntegrationStatus::Active);
}

async fn a_link_followed_from_another_site_reloads_to_send_the_cookie(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    // A SameSite=Strict cookie stays behind on a cross-site navigation: the page reloads
    // itself from here, which sends it, instead of asking a signed-in operator to sign in.
    let cross = client
        .get(format!("{}/dashboard/production/integrations", app.base))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("cross-site");
    assert_eq!(cross.status(), StatusCode::OK);
    assert!(
        cross.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("csp")
            .contains("frame-ancestors 'none'")
    );
    assert!(
        cross
            .text()
            .await
            .expect("html")
            .contains("http-equiv=\"refresh\"")
    );
    let same = client
        .get(format!("{}/dashboard/production/integrations", app.base))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .expect("same-origin");
    assert_eq!(
        same.status(),
        StatusCode::SEE_OTHER,
        "no cookie from here: sign in"
    );
}

async fn status_of(app: &TestApp, id: &str) -> IntegrationStatus {
    let id = plugboard_store::ids::IntegrationId::parse(id).expect("id");
    app.state
        .store
        .integration(&app.state.environments.development.id, &id)
        .await
        .expect("read")
        .expect("integration")
        .status
}

async fn signing_out_ends_the_session_and_sign_in_never_adopts_a_cookie(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut first = operator(&app, "ops@example.com", OperatorRole::Admin).await;
    let mut other_device = Browser::new(&app);
    // A cookie planted before sign-in (session fixation) is replaced, not adopted.
    other_device.cookie = Some("planted-by-an-attacker".into());
    let signed_in = other_device
        .post(
            "/dashboard/sign-in",
            &[
                ("email", "ops@example.com"),
                ("password", PASSWORD),
                ("next", "/dashboard/development"),
            ],
        )
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.html
    );
    assert_eq!(signed_in.location(), "/dashboard/development");
    let session = other_device.cookie.clone().expect("a session");
    assert_ne!(session, "planted-by-an-attacker");
    assert_ne!(
        Some(&session),
        first.cookie.as_ref(),
        "each sign-in is its own session"
    );

    // Signing out ends this session only; its cookie does not work again.
    let page = first.get("/dashboard/production").await;
    let csrf = page.csrf();
    let old = first.cookie.clone();
    let out = first.post("/dashboard/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/dashboard/sign-in?done=signed-out");
    assert!(first.cookie.is_none(), "the cookie is removed");
    first.cookie = old;
    let reused = first.get("/dashboard/production").await;
    assert_eq!(
        reused.status,
        StatusCode::SEE_OTHER,
        "a signed-out session is gone"
    );
    assert_eq!(
        other_device.get("/dashboard/production").await.status,
        StatusCode::OK
    );

    // "Everywhere" ends the other sessions too.
    let csrf = other_device.get("/dashboard/production").await.csrf();
    let mut third = Browser::new(&app);
    third
        .post(
            "/dashboard/sign-in",
            &[("email", "ops@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        third.get("/dashboard/production").await.status,
        StatusCode::OK
    );
    other_device
        .post(
            "/dashboard/sign-out",
            &[("csrf", &csrf), ("everywhere", "1")],
        )
        .await;
    assert_eq!(
        third.get("/dashboard/production").await.status,
        StatusCode::SEE_OTHER
    );

    let trail = trail(
        &app,
        &app.state.environments.production.id,
        plugboard_store::audit::AuditFilter::default(),
    )
    .await;
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    for action in [
        "operator.created",
        "operator.password_set",
        "operator.signed_in",
        "operator.signed_out",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    for event in &trail {
        assert!(!event.detail.contains(PASSWORD), "no password in the trail");
        assert!(
            !event.detail.contains(&session),
            "no session id in the trail"
        );
    }
}

async fn forms_need_the_sessions_csrf_token_and_our_origin(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.connected_integration().await;
    let mut admin = operator(&app, "ops@example.com", OperatorRole::Admin).await;
    let mut other = operator(&app, "other@example.com", OperatorRole::Admin).await;
    let path = format!(
        "/dashboard/development/integrations/{}/enabled",
        encode(&id)
    );
    let page = admin
        .get(&format!(
            "/dashboard/development/integrations/{}",
            encode(&id)
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let csrf = page.csrf();
    let others = other.get("/dashboard/development").await.csrf();
    assert_ne!(csrf, others, "each session has its own token");

    let missing = admin.post(&path, &[("enabled", "false")]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let foreign_token = admin
        .post(&path, &[("enabled", "false"), ("csrf", &others)])
        .await;
    assert_eq!(foreign_token.status, StatusCode::FORBIDDEN);
    let cross_origin = admin
        .post_from(
            &path,
            &[("enabled", "false"), ("csrf", &csrf)],
            "https://evil.example",
        )
        .await;
    assert_eq!(cross_origin.status, StatusCode::FORBIDDEN);
    assert!(
        cross_origin
            .html
            .contains("did not come from this dashboard")
    );
    assert_eq!(
        status_of(&app, &id).await,
        IntegrationStatus::Active,
        "nothing changed"
    );

    let done = admin
        .post(&path, &[("enabled", "false"), ("csrf", &csrf)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, &id).await, IntegrationStatus::Inactive);
    let page = admin.get(done.location()).await;
    assert!(
        page.html.contains("The integration is disabled"),
        "the notice"
    );
}

async fn viewers_see_everything_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.connected_integration().await;
    let mut viewer = operator(&app, "viewer@example.com", OperatorRole::Viewer).await;
    let detail = format!("/dashboard/development/integrations/{}", encode(&id));
    let page = viewer.get(&detail).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Acme, Inc."));
    assert!(
        !page.html.contains("/enabled\""),
        "no action forms for a viewer"
    );
    let csrf = page.csrf();
    for (action, form) in [
        ("enabled", vec![("enabled", "false")]),
        ("check", vec![]),
        ("relink", vec![]),
        ("delete", vec![("confirm", "Acme, Inc.")]),
    ] {
        let mut fields = form.clone();
        fields.push(("csrf", &csrf));
        let refused = viewer.post(&format!("{detail}/{action}"), &fields).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{action}");
        assert!(refused.html.contains("Only administrators"), "{action}");
    }
    assert_eq!(status_of(&app, &id).await, IntegrationStatus::Active);
    let magic_links = app
        .state
        .store
        .list_magic_links(&app.state.environments.development.id, None, 10)
        .await
        .expect("links");
    assert!(magic_links.is_empty(), "no relink link was made");
}

async fn wrong_passwords_lock_the_account_and_floods_hit_the_address_limit(backend: Backend) {
    // The per-address limit is off here: this part is about the accounts' own limits.
    let app = spawn_app_with(backend, |config| config.rate_limit_signins = None).await;
    operator(&app, "ops@example.com", OperatorRole::Admin).await;
    let mut guesser = Browser::new(&app);
    for _ in 0..operators::LOCKOUT_AFTER {
        let wrong = guesser
            .post(
                "/dashboard/sign-in",
                &[
                    ("email", "ops@example.com"),
                    ("password", "wrong guess 123"),
                ],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(
            wrong
                .html
                .contains("The e-mail address or the password is not right")
        );
    }
    let locked = guesser
        .post(
            "/dashboard/sign-in",
            &[("email", "ops@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password"
    );
    assert!(
        locked
            .html
            .contains("Too many wrong passwords for this account. Try again in 15 minutes."),
        "{}",
        locked.html
    );
    assert!(guesser.cookie.is_none());
    // An unknown address answers like a wrong password, and locks like an account: nothing
    // tells which addresses exist.
    for _ in 0..operators::LOCKOUT_AFTER {
        let unknown = guesser
            .post(
                "/dashboard/sign-in",
                &[("email", "nobody@example.com"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    }
    let unknown = guesser
        .post(
            "/dashboard/sign-in",
            &[("email", "nobody@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        unknown
            .html
            .contains("Too many wrong passwords for this account")
    );
    // Control characters are the client's mistake, never a server error.
    let nul = guesser
        .post(
            "/dashboard/sign-in",
            &[("email", "ops\u{0}@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(nul.status, StatusCode::UNAUTHORIZED);

    let app = spawn_app_with(backend, |config| {
        config.rate_limit_signins = std::num::NonZeroU32::new(3);
    })
    .await;
    let mut flood = Browser::new(&app);
    for _ in 0..3 {
        let page = flood
            .post(
                "/dashboard/sign-in",
                &[("email", "x@example.com"), ("password", "whatever it is")],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    let limited = flood
        .post(
            "/dashboard/sign-in",
            &[("email", "x@example.com"), ("password", "whatever it is")],
        )
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
    assert!(
        limited
            .html
            .contains("Too many sign-in attempts from your address")
    );
}

async fn disabling_or_resetting_an_operator_ends_their_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = operator(&app, "ops@example.com", OperatorRole::Admin).await;
    operators::set_disabled(&app.state, "ops@example.com", true, &Caller::cli())
        .await
        .expect("disable");
    assert_eq!(
        browser.get("/dashboard/production").await.status,
        StatusCode::SEE_OTHER
    );
    let refused = Browser::new(&app)
        .post(
            "/dashboard/sign-in",
            &[("email", "ops@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "a disabled operator cannot sign in"
    );
    operators::set_disabled(&app.state, "ops@example.com", false, &Caller::cli())
        .await
        .expect("enable");
    let mut browser = Browser::new(&app);
    browser
        .post(
            "/dashboard/sign-in",
            &[("email", "ops@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        browser.get("/dashboard/production").await.status,
        StatusCode::OK
    );
    let link = operators::reset(&app.state, "ops@example.com", &Caller::cli())
        .await
        .expect("reset");
    assert!(link.contains("/dashboard/welcome?token=pbst_"));
    assert_eq!(
        browser.get("/dashboard/production").await.status,
        StatusCode::SEE_OTHER
    );
    let old_password = Browser::new(&app)
        .post(
            "/dashboard/sign-in",
            &[("email", "ops@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        old_password.status,
        StatusCode::UNAUTHORIZED,
        "the password is forgotten"
    );
}

async fn the_dashboard_cannot_be_framed(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = operator(&app, "ops@example.com", OperatorRole::Admin).await;
    for path in [
        "/dashboard/sign-in",
        "/dashboard/production",
        "/dashboard/development/integrations",
    ] {
        let page = if path.ends_with("sign-in") {
            Browser::new(&app).get(path).await
        } else {
            browser.get(path).await
        };
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let csp = page.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("csp");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("form-action 'self'"), "{path}: {csp}");
        assert_eq!(page.headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert_eq!(page.headers[header::CACHE_CONTROL], "no-store", "{path}");
    }
}

async fn integrations_are_found_and_managed(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut ids = Vec::new();
    for (org, email, origin) in [
        ("Globex Corporation", "it@globex.example", "g-1"),
        ("Initech", "bill@initech.example", "i-7"),
        ("100% Organic Ltd", "hello@organic.example", "o-3"),
    ] {
        let link = app
            .create_link(json!({
                "end_user_organization_name": org,
                "end_user_email": email,
                "end_user_origin_id": origin,
            }))
            .await;
        let token = app.complete(&link, "personio", "secret").await;
        ids.push(app.redeem(&token).await);
    }
    let mut admin = operator(&app, "ops@example.com", OperatorRole::Admin).await;
    let list = admin.get("/dashboard/development/integrations").await;
    assert_eq!(list.status, StatusCode::OK);
    let order: Vec<usize> = ["100% Organic Ltd", "Initech", "Globex Corporation"]
        .iter()
        .map(|org| list.html.find(&org.replace('&', "&amp;")).expect(org))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "newest first");
    let production = admin.get("/dashboard/production/integrations").await;
    assert!(
        !production.html.contains("Initech"),
        "environments are separate"
    );

    for (query, expected) in [
        ("q=globex", "Globex Corporation"),
        ("q=GLOBEX+corp", "Globex Corporation"),
        ("q=BILL%40initech.example", "Initech"),
        ("q=o-3", "100% Organic Ltd"),
        (&format!("q={}", encode(&ids[1])), "Initech"),
        ("q=100%25", "100% Organic Ltd"),
    ] {
        let found = admin
            .get(&format!("/dashboard/development/integrations?{query}"))
            .await;
        assert_eq!(found.status, StatusCode::OK);
        for org in ["Globex Corporation", "Initech", "100% Organic Ltd"] {
            assert_eq!(found.html.contains(org), org == expected, "{query}: {org}");
        }
    }
    let none = admin.get("/dashboard/development/integrations?q=%25").await;
    assert!(
        none.html.contains("100% Organic Ltd") && !none.html.contains("Initech"),
        "% is a character, not a wildcard"
    );
    let inactive = admin
        .get("/dashboard/development/integrations?status=INACTIVE")
        .await;
    assert!(inactive.html.contains("No integration matches"));
    let nul = admin
        .get("/dashboard/development/integrations?q=%00acme")
        .await;
    assert_eq!(
        nul.status,
        StatusCode::BAD_REQUEST,
        "a NUL is refused, never a 500"
    );
    let page = admin.get("/dashboard/development/links").await;
    let refused = admin
        .post(
            "/dashboard/development/links",
            &[
                ("csrf", &page.csrf()),
                ("organization", "Ac\u{0}me"),
                ("email", "a@acme.example"),
                ("category", "HRIS"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.html.contains("characters it cannot have"));
    let garbage = admin
        .get("/dashboard/development/integrations?status=NOPE&tool=nope&before=x.y")
        .await;
    assert_eq!(
        garbage.status,
        StatusCode::OK,
        "unknown filters are ignored"
    );

    // The detail page and its actions.
    let detail = format!("/dashboard/development/integrations/{}", encode(&ids[1]));
    let page = admin.get(&detail).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("bill@initech.example"));
    assert!(
        page.html.contains("<code>integration-created</code>"),
        "its events"
    );
    assert!(page.html.contains("no endpoint subscribed"));
    assert!(
        page.html.contains("Last checked</dt><dd>not yet"),
        "no check yet"
    );
    assert!(
        page.html.contains("API credentials (api_key)"),
        "field names, never values"
    );
    assert!(
        !page.html.contains("secret"),
        "the credential's value is never on the page"
    );
    let csrf = page.csrf();

    let relinked = admin
        .post(&format!("{detail}/relink"), &[("csrf", &csrf)])
        .await;
    assert_eq!(relinked.status, StatusCode::OK);
    assert!(
        relinked.html.contains("/connect?token="),
        "the relink link to copy"
    );

    let checked = admin
        .post(&format!("{detail}/check"), &[("csrf", &csrf)])
        .await;
    assert_eq!(checked.status, StatusCode::SEE_OTHER);
    assert!(checked.location().ends_with("?done=check-scheduled"));

    let wrong = admin
        .post(
            &format!("{detail}/delete"),
            &[("csrf", &csrf), ("confirm", "Initech Inc")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.html.contains("type the organisation"));
    let deleted = admin
        .post(
            &format!("{detail}/delete"),
            &[("csrf", &csrf), ("confirm", "Initech")],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(
        deleted.location(),
        "/dashboard/development/integrations?done=deleted"
    );
    assert_eq!(admin.get(&detail).await.status, StatusCode::NOT_FOUND);

    let trail = trail(
        &app,
        &app.state.environments.development.id,
        plugboard_store::audit::AuditFilter {
            target: Some(format!("integration:{}", ids[1])),
            ..Default::default()
        },
    )
    .await;
    let actions: Vec<(&str, &str)> = trail
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert!(
        actions
            .iter()
            .any(|(a, actor)| *a == "integration.deleted" && actor.starts_with("operator:op_")),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|(a, _)| *a == "integration.check_requested"),
        "{actions:?}"
    );

    let overview = admin.get("/dashboard/development").await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(overview.html.contains("<svg"), "charts");
}

/// The value of the read-only input with `id` on a page.
fn input_value(html: &str, id: &str) -> String {
    let at = html.find(&format!("id=\"{id}\"")).expect("the input");
    let start = html[..at].rfind("value=\"").expect("its value") + 7;
    let end = html[start..].find('"').expect("end") + start;
    html[start..end]
        .replace("&#x2f;", "/")
        .replace("&#43;", "+")
        .replace("&#61;", "=")
        .replace("&amp;", "&")
}

/// The longest run of letters and digits in `secret`: what a page showing it would contain
/// however it escaped the rest.
fn fragment(secret: &str) -> &str {
    secret
        .split(|c: char| !c.is_ascii_alphanumeric())
        .max_by_key(|run| run.len())
        .expect("a run")
}

async fn webhooks_are_added_watched_and_redelivered(backend: Backend) {
    let app = spawn_app(backend).await;
    let receiver = TestReceiver::start().await;
    receiver.then([Answer::Status(500)]);
    let mut admin = operator(&app, "ops@example.com", OperatorRole::Admin).await;
    let page = admin.get("/dashboard/development/webhooks").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("No endpoints yet"));
    let csrf = page.csrf();

    // A URL the environment may not reach is a clear error, with the form kept.
    let refused = admin
        .post(
            "/dashboard/production/webhooks",
            &[
                ("csrf", &csrf),
                ("url", &receiver.url),
                ("event", "integration-created"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.html.contains("not a public address"),
        "{}",
        refused.html
    );
    let none = admin
        .post(
            "/dashboard/development/webhooks",
            &[("csrf", &csrf), ("url", &receiver.url)],
        )
        .await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    assert!(none.html.contains("at least one event type"));

    let created = admin
        .post(
            "/dashboard/development/webhooks",
            &[
                ("csrf", &csrf),
                ("url", &receiver.url),
                ("event", "integration-created"),
                ("event", "integration-state-changed"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.html);
    let secret = input_value(&created.html, "secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(fragment(&secret).len() >= 8);
    let endpoint = app
        .state
        .store
        .list_webhook_endpoints(Some(&app.state.environments.development.id))
        .await
        .expect("endpoints")
        .pop()
        .expect("the endpoint");
    assert_eq!(
        endpoint.event_types,
        ["integration-created", "integration-state-changed"]
    );
    let detail = format!("/dashboard/development/webhooks/{}", endpoint.id);
    let page = admin.get(&detail).await;
    assert!(
        !page.html.contains(fragment(&secret)),
        "the secret is shown once, never again"
    );

    // An integration's event fails once (500), is logged, and is delivered again on request.
    let integration = app.connected_integration().await;
    let first = receiver
        .wait_for(1, std::time::Duration::from_secs(10))
        .await;
    assert_eq!(first.len(), 1);
    let mut delivery_path = String::new();
    for _ in 0..300 {
        let page = admin.get(&format!("{detail}?status=PENDING")).await;
        if let Some(at) = page
            .html
            .find("/dashboard/development/webhooks/deliveries/")
        {
            let end = page.html[at..].find('"').expect("end") + at;
            delivery_path = page.html[at..end].to_owned();
            if page.html.contains("Retrying") {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        !delivery_path.is_empty(),
        "the failed delivery is in the log, pending"
    );
    // The attempt's log row may land a moment after the delivery's status.
    let mut delivery = admin.get(&delivery_path).await;
    for _ in 0..100 {
        if delivery.html.contains("answer 500") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        delivery = admin.get(&delivery_path).await;
    }
    assert!(
        delivery.html.contains("answer 500"),
        "the response excerpt: {}",
        delivery.html
    );
    assert!(delivery.html.contains("integration-created"));
    let retried = admin
        .post(&format!("{delivery_path}/retry"), &[("csrf", &csrf)])
        .await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER);
    let second = receiver
        .wait_for(2, std::time::Duration::from_secs(10))
        .await;
    assert_eq!(second.len(), 2, "delivered again at once");
    assert_eq!(
        second[0].header("webhook-id"),
        second[1].header("webhook-id"),
        "the same event"
    );
    // The integration's page shows the event with its delivery.
    let page = admin
        .get(&format!(
            "/dashboard/development/integrations/{}",
            encode(&integration)
        ))
        .await;
    assert!(page.html.contains("<code>integration-created</code>"));
    assert!(
        page.html.contains(&format!("href=\"{delivery_path}\"")),
        "{}",
        page.html
    );

    // A test event, a rotation (shown once) and a delete confirmed by the URL.
    let tested = admin
        .post(&format!("{detail}/test"), &[("csrf", &csrf)])
        .await;
    assert_eq!(tested.status, StatusCode::SEE_OTHER);
    assert!(tested.location().ends_with("?done=test-sent"));
    let got = receiver
        .wait_for(3, std::time::Duration::from_secs(10))
        .await;
    assert!(got[2].body.contains("webhook-test"));
    let rotated = admin
        .post(&format!("{detail}/rotate"), &[("csrf", &csrf)])
        .await;
    assert_eq!(rotated.status, StatusCode::OK);
    let new_secret = input_value(&rotated.html, "secret");
    assert_ne!(new_secret, secret);
    let page = admin.get(&detail).await;
    assert!(
        page.html.contains("still signs until"),
        "the old secret's overlap"
    );
    assert!(!page.html.contains(fragment(&new_secret)));
    let saved = admin
        .post(
            &detail,
            &[
                ("csrf", &csrf),
                ("url", &receiver.url),
                ("event", "connection-flow-failed"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let disabled = admin
        .post(
            &format!("{detail}/enabled"),
            &[("csrf", &csrf), ("enabled", "false")],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER);
    let wrong = admin
        .post(
            &format!("{detail}/delete"),
            &[("csrf", &csrf), ("confirm", "nope")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let deleted = admin
        .post(
            &format!("{detail}/delete"),
            &[("csrf", &csrf), ("confirm", &receiver.url)],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(admin.get(&detail).await.status, StatusCode::NOT_FOUND);

    let trail = trail(
        &app,
        &app.state.environments.development.id,
        plugboard_store::audit::AuditFilter::default(),
    )
    .await;
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    for action in [
        "webhook_endpoint.created",
        "webhook_delivery.retried",
        "webhook_endpoint.tested",
        "webhook_endpoint.secret_rotated",
        "webhook_endpoint.updated",
        "webhook_endpoint.deleted",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    for event in &trail {
        assert!(!event.detail.contains(fragment(&secret)));
        assert!(!event.detail.contains(fragment(&new_secret)));
    }
}

async fn magic_links_are_made_followed_and_revoked(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut admin = operator(&app, "ops@example.com", OperatorRole::Admin).await;
    let page = admin.get("/dashboard/development/links").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("No magic links yet"));
    let csrf = page.csrf();
    let missing = admin
        .post(
            "/dashboard/development/links",
            &[
                ("csrf", &csrf),
                ("organization", ""),
                ("email", "it@umbrella.example"),
                ("category", "HRIS"),
            ],
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.html.contains("Organisation:"),
        "names the field: {}",
        missing.html
    );
    let created = admin
        .post(
            "/dashboard/development/links",
            &[
                ("csrf", &csrf),
                ("organization", "Umbrella Corp"),
                ("email", "it@umbrella.example"),
                ("origin_id", "u-1"),
                ("category", "HRIS"),
                ("tool", "sandbox"),
                ("language", "de"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.html);
    let link = input_value(&created.html, "new-link");
    assert!(
        link.starts_with(&format!("{}/connect?token=", app.base)),
        "{link}"
    );
    let token = crate::helpers::token_of(&link);
    let claims = app.claims(&link);
    assert_eq!(claims.lang, Some(plugboard::links::Language::De));
    assert_eq!(claims.tool.as_deref(), Some("sandbox"));

    let list = admin.get("/dashboard/development/links").await;
    assert!(
        list.html.contains("Umbrella Corp") && list.html.contains("Not opened"),
        "{}",
        list.html
    );
    // The customer opens it and the sandbox refuses their key.
    assert_eq!(reqwest::get(&link).await.expect("open").status(), 200);
    let (status, _) =
        crate::helpers::fill_in(&app.base, &token, "sandbox", &[("api_key", "invalid")]).await;
    assert_eq!(status, 422);
    let list = admin.get("/dashboard/development/links").await;
    assert!(
        list.html
            .contains("Refused: the tool did not accept the credentials"),
        "{}",
        list.html
    );
    let detail_path = {
        let at = list
            .html
            .find("/dashboard/development/links/")
            .expect("the link's page");
        let end = list.html[at..].find('"').expect("end") + at;
        list.html[at..end].to_owned()
    };
    let detail = admin.get(&detail_path).await;
    for step in [
        "Opened the link",
        "Submitted credentials",
        "The tool refused the credentials",
    ] {
        assert!(detail.html.contains(step), "{step}: {}", detail.html);
    }
    let revoked = admin
        .post(&format!("{detail_path}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let detail = admin.get(revoked.location()).await;
    assert!(detail.html.contains("The link is revoked"));
    assert!(detail.html.contains(">Revoked<"));
    let opened = reqwest::get(&link).await.expect("flow");
    assert_eq!(opened.status(), 410, "the flow refuses a revoked link");

    // A viewer sees the links but cannot make one.
    let mut viewer = operator(&app, "viewer@example.com", OperatorRole::Viewer).await;
    let page = viewer.get("/dashboard/development/links").await;
    assert!(page.html.contains("Umbrella Corp") && !page.html.contains("Create the link"));
    let csrf = page.csrf();
    let refused = viewer
        .post(
            "/dashboard/development/links",
            &[("csrf", &csrf), ("organization", "X"), ("category", "HRIS")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let trail = trail(
        &app,
        &app.state.environments.development.id,
        plugboard_store::audit::AuditFilter {
            action: Some("link.created".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(trail.len(), 1, "the magic link's creation is audited once");
    assert!(trail[0].actor.starts_with("operator:"));
}

async fn keys_oauth_apps_and_the_audit_trail(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut admin = operator(&app, "ops@example.com", OperatorRole::Admin).await;
    let page = admin.get("/dashboard/production/api-keys").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains(">tests<"), "the harness's key is listed");
    let csrf = page.csrf();
    let empty = admin
        .post(
            "/dashboard/production/api-keys",
            &[("csrf", &csrf), ("name", " ")],
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let created = admin
        .post(
            "/dashboard/production/api-keys",
            &[("csrf", &csrf), ("name", "back end")],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let key = input_value(&created.html, "secret");
    assert!(key.starts_with("pb_prod_"), "{key}");
    let check = app.get_as(&key, "/v1/check-api-key").await;
    check.data();
    // The key's use is recorded off the request's path.
    let mut listed = String::new();
    for _ in 0..100 {
        listed = admin.get("/dashboard/production/api-keys").await.html;
        if !listed.contains("never") || listed.matches("never").count() < 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!listed.contains(fragment(&key)), "the key is shown once");
    assert!(listed.contains("just now"), "last used: {listed}");
    let id = app
        .state
        .store
        .list_api_keys(Some(&app.state.environments.production.id))
        .await
        .expect("keys")
        .into_iter()
        .find(|k| k.name == "back end")
        .expect("the key")
        .id;
    // Another environment's page cannot revoke it.
    let elsewhere = admin
        .post(
            &format!("/dashboard/development/api-keys/{id}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    let revoked = admin
        .post(
            &format!("/dashboard/production/api-keys/{id}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    app.get_as(&key, "/v1/check-api-key")
        .await
        .error(401, Some("PLATFORM.AUTHENTICATION_INVALID"));

    // An OAuth app: the redirect URI to register, the secret written and never shown.
    let list = admin.get("/dashboard/development/oauth-apps").await;
    assert!(list.html.contains("/connect/oauth/callback"));
    assert!(list.html.contains("Gusto") && list.html.contains("Not configured"));
    let refused = admin
        .post(
            "/dashboard/development/oauth-apps/gusto",
            &[
                ("csrf", &csrf),
                ("client_id", "gusto-client"),
                ("client_secret", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.html.contains("client_secret"), "{}", refused.html);
    assert!(
        refused.html.contains("value=\"gusto-client\""),
        "the form keeps what was typed"
    );
    let saved = admin
        .post(
            "/dashboard/development/oauth-apps/gusto",
            &[
                ("csrf", &csrf),
                ("client_id", "gusto-client"),
                ("client_secret", "gusto-secret-canary"),
                ("scopes", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let page = admin.get(saved.location()).await;
    assert!(page.html.contains("revision 1"), "{}", page.html);
    assert!(!page.html.contains("gusto-secret-canary"));
    let removed = admin
        .post(
            "/dashboard/development/oauth-apps/gusto/remove",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let unknown = admin
        .get("/dashboard/development/oauth-apps/personio")
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // The trail, filtered; the operator's own entries are in production's.
    let trail = admin
        .get("/dashboard/development/audit?action=oauth_app.saved")
        .await;
    assert_eq!(trail.status, StatusCode::OK);
    assert!(trail.html.contains("<code>oauth_app.saved</code>"));
    assert!(
        !trail.html.contains("<code>oauth_app.removed</code>"),
        "only the filtered action"
    );
    assert!(!trail.html.contains("gusto-secret-canary"));
    let production = admin.get("/dashboard/production/audit?actor=cli").await;
    assert!(production.html.contains("<code>operator.created</code>"));
    assert!(production.html.contains("<code>api_key.created</code>"));
    let bogus = admin
        .get("/dashboard/production/audit?action=nope&before=garbage")
        .await;
    assert_eq!(bogus.status, StatusCode::OK, "unknown filters are ignored");
}

async fn settings_change_the_flow_on_every_instance(backend: Backend) {
    let app = spawn_app(backend).await;
    let other = app.sibling().await;
    let mut admin = operator(&app, "ops@example.com", OperatorRole::Admin).await;
    let page = admin.get("/dashboard/development/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.csrf();
    let refused = admin
        .post(
            "/dashboard/development/settings",
            &[
                ("csrf", &csrf),
                ("product_name", "Acme HR"),
                ("frame_ancestors", "https://app.example.com; script-src *"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.html.contains("is not an origin"),
        "{}",
        refused.html
    );
    assert!(
        refused.html.contains("value=\"Acme HR\""),
        "the form keeps what was typed"
    );
    let saved = admin
        .post(
            "/dashboard/development/settings",
            &[
                ("csrf", &csrf),
                ("product_name", "Acme HR"),
                ("frame_ancestors", "https://app.example.com"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let link = app.create_link(json!({})).await;
    let token = crate::helpers::token_of(&link);
    let flow_page = |base: String| {
        let token = token.clone();
        async move {
            let page = reqwest::get(format!("{base}/connect?token={token}"))
                .await
                .expect("flow");
            let csp = page.headers()["content-security-policy"]
                .to_str()
                .expect("csp")
                .to_owned();
            (csp, page.text().await.expect("html"))
        }
    };
    let (csp, html) = flow_page(app.base.clone()).await;
    assert!(
        csp.contains("frame-ancestors https://app.example.com"),
        "at once here: {csp}"
    );
    assert!(html.contains("Acme HR"), "the product name in the flow");
    // Another instance on the same database follows within its reload interval.
    let mut followed = false;
    for _ in 0..80 {
        let (csp, html) = flow_page(other.base.clone()).await;
        if csp.contains("frame-ancestors https://app.example.com") && html.contains("Acme HR") {
            followed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        followed,
        "the other instance uses the new settings within seconds"
    );
    // Empty fields go back to the configuration.
    admin
        .post(
            "/dashboard/development/settings",
            &[
                ("csrf", &csrf),
                ("product_name", ""),
                ("frame_ancestors", ""),
            ],
        )
        .await;
    let (csp, html) = flow_page(app.base.clone()).await;
    assert!(csp.contains("frame-ancestors *"), "{csp}");
    assert!(!html.contains("Acme HR"));
    let mut viewer = operator(&app, "viewer@example.com", OperatorRole::Viewer).await;
    let page = viewer.get("/dashboard/development/settings").await;
    assert!(!page.html.contains("name=\"product_name\""));
    let refused = viewer
        .post(
            "/dashboard/development/settings",
            &[("csrf", &page.csrf()), ("product_name", "X")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

both_backends!(
    a_link_followed_from_another_site_reloads_to_send_the_cookie,
    settings_change_the_flow_on_every_instance,
    keys_oauth_apps_and_the_audit_trail,
    magic_links_are_made_followed_and_revoked,
    webhooks_are_added_watched_and_redelivered,
    signs_in_with_a_one_time_link_and_a_password,
    no_session_means_the_sign_in_page,
    signing_out_ends_the_session_and_sign_in_never_adopts_a_cookie,
    forms_need_the_sessions_csrf_token_and_our_origin,
    viewers_see_everything_and_change_nothing,
    wrong_passwords_lock_the_account_and_floods_hit_the_address_limit,
    disabling_or_resetting_an_operator_ends_their_sessions,
    the_dashboard_cannot_be_framed,
    integrations_are_found_and_managed,
);
