//! The hosted flow over HTTP: every page, verification against a fake vendor, the failures an
//! end user can meet, and the security rules of a page that lives in someone else's iframe.
//! (The browser-side behaviour is tested in Chromium by `tests/browser`.)

use std::sync::{Arc, Mutex};

use axum::{
    Router,
    extract::Path,
    http::{HeaderMap, StatusCode},
    routing::get,
};
use chrono::Utc;
use plugboard::{
    links::{Language, LinkClaims, LinkKind, LinkType},
    tokens,
};
use plugboard_catalog::Category;
use reqwest::Method;
use serde_json::json;

use crate::{
    both_backends,
    helpers::{
        Backend, activation_token, fill_in, form_state, spawn_app, spawn_app_with, submit,
        submit_response, token_of,
    },
};

/// A BambooHR stand-in: the API key decides the answer, the subdomain `missing` does not exist.
/// Records the Authorization headers it saw.
async fn fake_bamboohr() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = Router::new().route(
        "/api/gateway.php/{subdomain}/v1/employees/directory",
        get(move |Path(subdomain): Path<String>, headers: HeaderMap| {
            let record = record.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                record.lock().expect("lock").push(auth.clone());
                if subdomain == "missing" {
                    return StatusCode::NOT_FOUND;
                }
                let key = |k: &str| format!("Basic {}", base64_encode(&format!("{k}:x")));
                match auth {
                    a if a == key("good-key") => StatusCode::OK,
                    a if a == key("read-only") => StatusCode::FORBIDDEN,
                    a if a == key("busy") => StatusCode::TOO_MANY_REQUESTS,
                    a if a == key("broken") => StatusCode::BAD_GATEWAY,
                    _ => StatusCode::UNAUTHORIZED,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (
        format!("http://{address}/api/gateway.php/{{subdomain}}"),
        seen,
    )
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

async fn every_page_of_the_sandbox_flow_leads_to_an_integration(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = token_of(&app.create_link(json!({})).await);
    let picker = app
        .send(
            Method::GET,
            &format!("/connect?token={token}&sdkv=1.3.0"),
            None,
            None,
        )
        .await;
    assert_eq!(picker.status, 200);
    assert!(
        picker
            .text
            .contains("Which HR software does Acme, Inc. use?"),
        "{}",
        picker.text
    );
    assert!(picker.text.contains("tool=sandbox") && picker.text.contains("tool=personio"));
    assert!(
        !picker.text.contains("tool=greenhouse"),
        "ATS-only tools are not offered for HRIS"
    );
    let csp = picker.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(
        csp.contains("frame-ancestors *") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(picker.headers["referrer-policy"], "same-origin");
    assert!(
        picker.headers.get("set-cookie").is_none(),
        "no cookies in a cross-site iframe"
    );
    let consent = app
        .send(
            Method::GET,
            &format!("/connect?token={token}&tool=sandbox"),
            None,
            None,
        )
        .await;
    assert!(
        consent.text.contains("Employees") && consent.text.contains("Step 2 of 4"),
        "{}",
        consent.text
    );
    let guide = app
        .send(
            Method::GET,
            &format!("/connect?token={token}&tool=sandbox&step=guide"),
            None,
            None,
        )
        .await;
    assert!(
        guide.text.contains("no account is needed"),
        "{}",
        guide.text
    );
    let (status, html) = fill_in(&app.base, &token, "sandbox", &[("api_key", "anything")]).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Sandbox is connected"));
    let redeemed = app
        .get(&format!(
            "/v1/connect/integration-by-token/{}",
            activation_token(&html)
        ))
        .await;
    assert_eq!(redeemed.data()["tool"], "sandbox");
    assert_eq!(app.events().await[0].0, "integration-created");
}

async fn vendor_answers_become_precise_messages_and_failed_events(backend: Backend) {
    let (base, seen) = fake_bamboohr().await;
    let app = spawn_app_with(backend, |config| {
        config.tool_base_urls.insert("bamboohr".into(), base);
    })
    .await;
    let token = token_of(
        &app.create_link(json!({"integration_tool": "bamboohr"}))
            .await,
    );
    let first = app
        .send(Method::GET, &format!("/connect?token={token}"), None, None)
        .await;
    assert!(
        first.text.contains("Step 1 of 3"),
        "the picker is skipped when the link names a tool"
    );
    let cases = [
        (
            "acme",
            "wrong",
            "did not accept these credentials",
            "invalid_credentials",
        ),
        (
            "acme",
            "read-only",
            "lack a permission",
            "missing_permission",
        ),
        (
            "missing",
            "good-key",
            "could not find your account there. Check Company subdomain",
            "wrong_instance",
        ),
        ("acme", "busy", "too many requests", "rate_limited"),
        ("acme", "broken", "could not be reached", "unreachable"),
    ];
    for (subdomain, key, message, detail) in cases {
        let (status, html) = fill_in(
            &app.base,
            &token,
            "bamboohr",
            &[("subdomain", subdomain), ("api_key", key)],
        )
        .await;
        assert_eq!(status, 422, "{key}");
        assert!(html.contains(message), "{key}: {html}");
        assert!(
            html.contains("value=\"acme\"") || subdomain != "acme",
            "non-secret values are kept"
        );
        assert!(
            !html.contains(&format!("value=\"{key}\"")),
            "secrets are never echoed"
        );
        let (kind, payload) = app.events().await.remove(0);
        assert_eq!(kind, "connection-flow-failed");
        assert_eq!(payload["data"]["integration_tool"], "bamboohr");
        assert_eq!(payload["data"]["end_user"]["origin_id"], "36123");
        let log_url = payload["data"]["log_url"]
            .as_str()
            .expect("log_url")
            .to_owned();
        assert!(
            log_url.starts_with(&format!("{}/v1/events/", app.base)),
            "{log_url}"
        );
        let log = app.get(log_url.trim_start_matches(&app.base)).await;
        assert_eq!(log.data()["detail"], detail);
        assert!(
            !log.text.contains(key) || key == "busy",
            "no credential in the log"
        );
    }
    let (status, html) = fill_in(
        &app.base,
        &token,
        "bamboohr",
        &[("subdomain", "acme"), ("api_key", "good-key")],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    let expected = format!("Basic {}", base64_encode("good-key:x"));
    assert!(
        seen.lock().expect("lock").contains(&expected),
        "the vendor got the declared request"
    );
}

async fn unusable_links_get_a_clear_localised_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = |path: String| {
        let app = &app;
        async move { app.send(Method::GET, &path, None, None).await }
    };
    let missing = page("/connect".into()).await;
    assert_eq!(missing.status, 400);
    assert!(missing.text.contains("This link does not work"));
    let token = token_of(&app.create_link(json!({"language": "de"})).await);
    let tampered = format!("{}x", &token[..token.len() - 1]);
    let reply = page(format!("/connect?token={tampered}")).await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.text.contains("This link does not work"),
        "an altered link's language is unknown"
    );
    let now = Utc::now().timestamp();
    let expired = LinkClaims {
        jti: plugboard_store::ids::new_id(),
        env: app.state.environments.development.id.clone(),
        kind: LinkKind::Connect,
        iid: None,
        cat: Category::Hris,
        tool: None,
        renv: None,
        lang: Some(Language::De),
        typ: LinkType::Embedded,
        email: None,
        org: "Acme".into(),
        oid: None,
        scope: None,
        exp: now - 3600,
    };
    let reply = page(format!(
        "/connect?token={}",
        tokens::seal_link(&app.state.vault, &expired)
    ))
    .await;
    assert_eq!(reply.status, 410);
    assert!(
        reply.text.contains("Dieser Link ist abgelaufen") && reply.text.contains("lang=\"de\""),
        "{}",
        reply.text
    );
    let state = form_state(&app.base, &token, "sandbox").await;
    let (status, _) = submit(&app.base, &token, "sandbox", &state, &[("api_key", "ok")]).await;
    assert_eq!(status, 200);
    let used = page(format!("/connect?token={token}")).await;
    assert_eq!(used.status, 410);
    assert!(used.text.contains("Dieser Link wurde bereits verwendet"));
    let (status, html) = submit(&app.base, &token, "sandbox", &state, &[("api_key", "ok")]).await;
    assert_eq!(status, 410, "a used link cannot complete twice: {html}");
    let gusto = token_of(&app.create_link(json!({})).await);
    let reply = page(format!("/connect?token={gusto}&tool=gusto")).await;
    assert_eq!(reply.status, 404);
    assert!(
        reply.text.contains("This tool cannot be connected here"),
        "{}",
        reply.text
    );
    let reply = page(format!("/connect?token={gusto}&tool=greenhouse")).await;
    assert!(reply.text.contains("This tool cannot be connected here"));
}

async fn magic_links_can_be_listed_and_revoked(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.create_link(json!({"link_type": "MAGIC_LINK"})).await;
    let second = app
        .create_link(json!({"link_type": "MAGIC_LINK", "integration_tool": "sandbox"}))
        .await;
    app.create_link(json!({})).await;
    let list = app.get("/v1/connect/links").await;
    let results = list.data()["results"].as_array().expect("results").clone();
    assert_eq!(results.len(), 2, "only magic links are recorded");
    assert_eq!(results[0]["integration_tool"], "sandbox", "newest first");
    assert!(
        results
            .iter()
            .all(|link| link["status"] == "ACTIVE" && link["type"] == "CONNECT")
    );
    assert!(
        !list.text.contains(&token_of(&first)),
        "links are credentials and never listed"
    );
    let token = token_of(&second);
    let (status, html) = fill_in(&app.base, &token, "sandbox", &[("api_key", "ok")]).await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("data-activation-token"),
        "a magic link ends without posting to a parent"
    );
    let first_id = app.claims(&first).jti;
    app.send(
        Method::DELETE,
        &format!("/v1/connect/links/{first_id}"),
        Some(&app.dev_key),
        None,
    )
    .await
    .data();
    let statuses: Vec<_> = app.get("/v1/connect/links").await.data()["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|l| l["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!("USED"), json!("REVOKED")]);
    let revoked = app
        .send(
            Method::GET,
            &format!("/connect?token={}", token_of(&first)),
            None,
            None,
        )
        .await;
    assert_eq!(revoked.status, 410);
    assert!(revoked.text.contains("This link has been withdrawn"));
    app.send(
        Method::DELETE,
        &format!("/v1/connect/links/{first_id}"),
        Some(&app.dev_key),
        None,
    )
    .await
    .error(404, None);
    let foreign = app
        .send(
            Method::DELETE,
            &format!("/v1/connect/links/{}", app.claims(&second).jti),
            Some(&app.prod_key),
            None,
        )
        .await;
    foreign.error(404, None);
    app.get("/v1/connect/links?page_size=0")
        .await
        .error(400, Some("PLATFORM.INPUT_INVALID"));
}

async fn relink_replaces_credentials_through_the_flow(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = token_of(
        &app.create_link(json!({"integration_tool": "sandbox"}))
            .await,
    );
    let state = form_state(&app.base, &token, "sandbox").await;
    let (_, html) = submit(
        &app.base,
        &token,
        "sandbox",
        &state,
        &[("api_key", "first")],
    )
    .await;
    let id = app.redeem(&activation_token(&html)).await;
    let link = app.relink(&id).await;
    let relink = token_of(&link);
    let consent = app
        .send(Method::GET, &format!("/connect?token={relink}"), None, None)
        .await;
    assert!(
        consent.text.contains("Step 1 of 3"),
        "a relink goes straight to its tool"
    );
    let (status, html) = fill_in(&app.base, &relink, "sandbox", &[("api_key", "second")]).await;
    assert_eq!(status, 200, "{html}");
    let redeemed = app
        .get(&format!(
            "/v1/connect/integration-by-token/{}",
            activation_token(&html)
        ))
        .await;
    assert_eq!(redeemed.data()["id"], id.as_str());
    let gone = app.relink(&id).await;
    app.delete_integration(&id).await;
    let reply = app
        .send(
            Method::GET,
            &format!("/connect?token={}", token_of(&gone)),
            None,
            None,
        )
        .await;
    assert_eq!(reply.status, 410);
    assert!(reply.text.contains("This connection no longer exists"));
}

async fn the_end_users_steps_are_in_the_audit_trail(backend: Backend) {
    let (base, _) = fake_bamboohr().await;
    let app = spawn_app_with(backend, |config| {
        config.tool_base_urls.insert("bamboohr".into(), base);
    })
    .await;
    let link = app.create_link(json!({})).await;
    let link_id = app.claims(&link).jti;
    let token = token_of(&link);
    let opened = reqwest::Client::new()
        .get(format!("{}/connect?token={token}", app.base))
        .header("user-agent", "AuditTest/1.0 (X11)")
        .send()
        .await
        .expect("open");
    assert_eq!(opened.status(), 200);
    let chosen = app
        .send(
            Method::GET,
            &format!("/connect?token={token}&tool=bamboohr"),
            None,
            None,
        )
        .await;
    assert_eq!(chosen.status, 200);
    for key in ["wrong-canary-key", "good-key"] {
        let state = form_state(&app.base, &token, "bamboohr").await;
        submit(
            &app.base,
            &token,
            "bamboohr",
            &state,
            &[("subdomain", "acme"), ("api_key", key)],
        )
        .await;
    }
    let trail = app
        .get(&format!("/v1/audit-events?link_id={link_id}"))
        .await;
    let entries = trail.data()["results"].as_array().expect("results").clone();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        [
            "link.completed",
            "link.verification_succeeded",
            "link.credentials_submitted",
            "link.verification_failed",
            "link.credentials_submitted",
            "link.tool_chosen",
            "link.opened",
        ],
        "newest first; the guide and the empty form are not steps"
    );
    for entry in &entries {
        assert_eq!(entry["actor"], "end_user");
        assert_eq!(entry["link_id"], link_id.as_str());
        assert_eq!(entry["ip"], "127.0.0.1");
        assert!(
            entry["created_at"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
    }
    let opened = entries.last().expect("opened");
    assert_eq!(opened["user_agent"], "AuditTest/1.0 (X11)");
    assert_eq!(
        opened["detail"],
        json!({"kind": "connect", "category": "HRIS"})
    );
    assert_eq!(
        entries[3]["detail"],
        json!({"tool": "bamboohr", "outcome": "invalid_credentials"})
    );
    assert!(
        !trail.text.contains("canary") && !trail.text.contains("good-key"),
        "no credential in the trail"
    );
    // The other environment sees none of it.
    let production = app
        .send(
            Method::GET,
            &format!("/v1/audit-events?link_id={link_id}"),
            Some(&app.prod_key),
            None,
        )
        .await;
    assert_eq!(production.data()["results"], json!([]));
}

both_backends!(
    the_end_users_steps_are_in_the_audit_trail,
    every_page_of_the_sandbox_flow_leads_to_an_integration,
    vendor_answers_become_precise_messages_and_failed_events,
    unusable_links_get_a_clear_localised_page,
    magic_links_can_be_listed_and_revoked,
    relink_replaces_credentials_through_the_flow,
);

#[tokio::test]
async fn forms_are_checked_on_the_server_and_rate_limited() {
    let (base, _) = fake_bamboohr().await;
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.tool_base_urls.insert("bamboohr".into(), base);
    })
    .await;
    let token = token_of(
        &app.create_link(json!({"integration_tool": "bamboohr", "language": "fr"}))
            .await,
    );
    let state = form_state(&app.base, &token, "bamboohr").await;
    let (status, html) = submit(
        &app.base,
        &token,
        "bamboohr",
        &state,
        &[("subdomain", "Not A Domain!"), ("api_key", "")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("aria-invalid=\"true\""), "{html}");
    assert!(
        html.contains("Renseignez"),
        "required, in the link's language: {html}"
    );
    assert!(
        html.contains("n’a pas le format attendu"),
        "pattern, in French: {html}"
    );
    let (status, html) = submit(
        &app.base,
        &token,
        "bamboohr",
        "123.forged",
        &[("subdomain", "acme"), ("api_key", "good-key")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(html.contains("Ce formulaire a expiré"), "{html}");
    let foreign = reqwest::Client::new()
        .post(format!("{}/connect/verify", app.base))
        .header("origin", "https://attacker.example")
        .form(&[
            ("token", token.as_str()),
            ("tool", "bamboohr"),
            ("state", state.as_str()),
            ("field.subdomain", "acme"),
            ("field.api_key", "good-key"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(
        foreign.status(),
        403,
        "a form posted from another site is refused"
    );
    for _ in 0..10 {
        let (status, _) = submit(
            &app.base,
            &token,
            "bamboohr",
            &state,
            &[("subdomain", "acme"), ("api_key", "wrong")],
        )
        .await;
        assert_eq!(status, 422);
    }
    let response = submit_response(
        &app.base,
        &token,
        "bamboohr",
        &state,
        &[("subdomain", "acme"), ("api_key", "good-key")],
    )
    .await;
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=6).contains(&retry_after), "{retry_after}");
    let html = response.text().await.expect("body");
    assert!(html.contains("Trop de tentatives"), "{html}");
    // The page names the same wait as `Retry-After`, in the plural form it needs.
    let wait = if retry_after == 1 {
        "Réessayez dans 1 seconde.".to_owned()
    } else {
        format!("Réessayez dans {retry_after} secondes.")
    };
    assert!(html.contains(&wait), "{wait}: {html}");
    assert!(!html.contains("minute"), "{html}");
}

#[tokio::test]
async fn production_links_cannot_be_framed_unless_the_operator_allows_it() {
    let app = spawn_app(Backend::Sqlite).await;
    let prod = token_of(&app.create_link_as(&app.prod_key, json!({})).await);
    let reply = app
        .send(Method::GET, &format!("/connect?token={prod}"), None, None)
        .await;
    let csp = reply.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(csp.ends_with("frame-ancestors 'none'"), "{csp}");
    assert!(reply.text.contains("data-parents=\"\""), "{}", reply.text);
    // Development keeps its permissive default, and its pages may post to any parent.
    let dev = token_of(&app.create_link(json!({})).await);
    let reply = app
        .send(Method::GET, &format!("/connect?token={dev}"), None, None)
        .await;
    assert!(reply.text.contains("data-parents=\"*\""), "{}", reply.text);
}

#[tokio::test]
async fn pages_name_the_parents_allowed_to_receive_their_messages() {
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.frame_ancestors_production =
            "https://app.example.com/ 'self' https://*.acme.example".into();
    })
    .await;
    let prod = token_of(&app.create_link_as(&app.prod_key, json!({})).await);
    let reply = app
        .send(Method::GET, &format!("/connect?token={prod}"), None, None)
        .await;
    let expected = format!(
        "data-parents=\"https://app.example.com {} https://*.acme.example\"",
        app.base
    );
    assert!(reply.text.contains(&expected), "{expected}: {}", reply.text);
}

#[tokio::test]
async fn opening_a_link_is_recorded_once_per_step() {
    let app = spawn_app(Backend::Sqlite).await;
    let link = app.create_link(json!({})).await;
    let token = token_of(&link);
    let link_id = app.claims(&link).jti;
    for path in [
        format!("/connect?token={token}"),
        format!("/connect?token={token}&tool=sandbox"),
    ] {
        let mut served = 0;
        for _ in 0..50 {
            let reply = app.send(Method::GET, &path, None, None).await;
            // A flow-page rate limit may refuse some; those write nothing either.
            assert!(matches!(reply.status.as_u16(), 200 | 429), "{}", reply.text);
            served += usize::from(reply.status == 200);
        }
        assert!(served >= 2, "{path}: only {served} served");
    }
    let trail = app
        .get(&format!("/v1/audit-events?link_id={link_id}"))
        .await;
    let actions: Vec<&str> = trail.data()["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["link.tool_chosen", "link.opened"]);
}

#[tokio::test]
async fn the_credentials_form_is_refused_without_our_origin() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = token_of(
        &app.create_link(json!({"integration_tool": "sandbox"}))
            .await,
    );
    let state = form_state(&app.base, &token, "sandbox").await;
    let form = [
        ("token", token.as_str()),
        ("tool", "sandbox"),
        ("state", state.as_str()),
        ("field.api_key", "any"),
    ];
    let cases: [(Option<&str>, Option<&str>, &str); 4] = [
        (None, None, "no Origin"),
        (Some("null"), None, "Origin: null"),
        (
            Some(&app.base),
            Some("cross-site"),
            "Sec-Fetch-Site: cross-site",
        ),
        (
            Some("https://attacker.example"),
            Some("same-origin"),
            "a foreign Origin",
        ),
    ];
    for (origin, site, case) in cases {
        let mut request = reqwest::Client::new()
            .post(format!("{}/connect/verify", app.base))
            .form(&form);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        let response = request.send().await.expect("post");
        assert_eq!(response.status(), 403, "{case}");
    }
    // The page's own post: our Origin, same-origin.
    let response = reqwest::Client::new()
        .post(format!("{}/connect/verify", app.base))
        .header("origin", &app.base)
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_link_without_a_language_speaks_the_browsers() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = token_of(&app.create_link(json!({})).await);
    let german = reqwest::Client::new()
        .get(format!("{}/connect?token={token}", app.base))
        .header("accept-language", "de-CH,de;q=0.9,en;q=0.8")
        .send()
        .await
        .expect("get");
    let html = german.text().await.expect("body");
    assert!(html.contains("lang=\"de\""), "{html}");
    // A link that names its language keeps it whatever the browser prefers.
    let italian = token_of(&app.create_link(json!({"language": "it"})).await);
    let html = reqwest::Client::new()
        .get(format!("{}/connect?token={italian}", app.base))
        .header("accept-language", "de")
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(html.contains("lang=\"it\""), "{html}");
    // A broken link has no language of its own: the browser's.
    let broken = reqwest::Client::new()
        .get(format!("{}/connect?token=not-a-link", app.base))
        .header("accept-language", "fr-FR,fr;q=0.9")
        .send()
        .await
        .expect("get");
    assert_eq!(broken.status(), 400);
    let html = broken.text().await.expect("body");
    assert!(
        html.contains("lang=\"fr\"") && html.contains("Ce lien"),
        "{html}"
    );
}

#[tokio::test]
async fn the_development_token_is_shown_only_outside_a_frame() {
    let (base, _) = fake_bamboohr().await;
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.tool_base_urls.insert("bamboohr".into(), base);
    })
    .await;
    for (key, dest, shown) in [
        (&app.dev_key, None, true),
        (&app.dev_key, Some("document"), true),
        (&app.dev_key, Some("iframe"), false),
        (&app.prod_key, None, false),
        (&app.prod_key, Some("document"), false),
    ] {
        let token = token_of(
            &app.create_link_as(key, json!({"integration_tool": "bamboohr"}))
                .await,
        );
        let state = form_state(&app.base, &token, "bamboohr").await;
        let mut request = reqwest::Client::new()
            .post(format!("{}/connect/verify", app.base))
            .header("origin", &app.base)
            .form(&[
                ("token", token.as_str()),
                ("tool", "bamboohr"),
                ("state", state.as_str()),
                ("field.subdomain", "acme"),
                ("field.api_key", "good-key"),
            ]);
        if let Some(dest) = dest {
            request = request.header("sec-fetch-dest", dest);
        }
        let response = request.send().await.expect("post");
        assert_eq!(response.status(), 200);
        let html = response.text().await.expect("body");
        let activation = activation_token(&html);
        assert_eq!(
            html.contains(&format!("data-token=\"{activation}\"")),
            shown,
            "{dest:?}: {html}"
        );
    }
}

#[tokio::test]
async fn embedding_is_limited_to_the_environments_origins() {
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.frame_ancestors_production = "https://app.example.com".into();
    })
    .await;
    let prod = token_of(&app.create_link_as(&app.prod_key, json!({})).await);
    let reply = app
        .send(Method::GET, &format!("/connect?token={prod}"), None, None)
        .await;
    let csp = reply.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(
        csp.ends_with("frame-ancestors https://app.example.com"),
        "{csp}"
    );
    let dev = token_of(&app.create_link(json!({})).await);
    let reply = app
        .send(Method::GET, &format!("/connect?token={dev}"), None, None)
        .await;
    assert!(
        reply.headers["content-security-policy"]
            .to_str()
            .expect("csp")
            .ends_with("frame-ancestors *")
    );
}

#[tokio::test]
async fn the_first_screen_is_small_and_self_contained() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = token_of(&app.create_link(json!({})).await);
    let html = app
        .send(Method::GET, &format!("/connect?token={token}"), None, None)
        .await
        .text;
    let mut total = html.len();
    for asset in ["flow.css", "flow.js"] {
        let marker = format!("/{asset}\"");
        let end = html.find(&marker).expect("asset link") + asset.len() + 1;
        let start = html[..end].rfind('"').expect("quote") + 1;
        let url = &html[start..end];
        assert!(
            url.starts_with("/connect/assets/"),
            "served by Plugboard itself: {url}"
        );
        let response = reqwest::get(format!("{}{url}", app.base))
            .await
            .expect("asset");
        assert!(
            response.headers()["cache-control"]
                .to_str()
                .expect("cache")
                .contains("immutable")
        );
        total += response.bytes().await.expect("body").len();
    }
    assert!(total <= 30 * 1024, "first screen is {total} bytes");
    for attribute in ["src=\"", "href=\""] {
        for value in html
            .split(attribute)
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
        {
            assert!(
                value.starts_with('/') || value.starts_with(&app.base),
                "a third-party request: {value}"
            );
        }
    }
}

#[tokio::test]
async fn a_rate_limited_page_names_the_wait() {
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.rate_limit_pages = std::num::NonZeroU32::new(1);
    })
    .await;
    let token = token_of(&app.create_link(json!({})).await);
    let open = || {
        reqwest::Client::new()
            .get(format!("{}/connect?token={token}", app.base))
            .header("accept-language", "de")
            .send()
    };
    assert_eq!(open().await.expect("get").status(), 200);
    let refused = open().await.expect("get");
    assert_eq!(refused.status(), 429);
    let seconds: u64 = refused.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    let html = refused.text().await.expect("body");
    let wait = if seconds == 1 {
        "in 1 Sekunde erneut".to_owned()
    } else {
        format!("in {seconds} Sekunden erneut")
    };
    assert!(html.contains(&wait), "{wait}: {html}");
}
