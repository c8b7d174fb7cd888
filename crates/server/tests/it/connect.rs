//! `create-link`, `integration-by-token` and `activate-integration` over HTTP.

use chrono::Utc;
use plugboard::{
    error::DomainError,
    integrations::{self, Credentials},
    links::{Language, LinkKind, LinkProblem, LinkType},
};
use plugboard_catalog::Category;
use reqwest::Method;
use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, Reply, TestApp, spawn_app, spawn_app_with},
};

/// `POST /v1/connect/create-link` with `key` and the raw `body`.
async fn post_create_link(app: &TestApp, key: &str, body: String) -> Reply {
    app.send(
        Method::POST,
        "/v1/connect/create-link",
        Some(key),
        Some(body),
    )
    .await
}

async fn create_link_applies_defaults(backend: Backend) {
    let app = spawn_app(backend).await;
    let body =
        json!({"end_user_email": "admin@acme.example", "end_user_organization_name": "Acme, Inc."});
    let reply = app
        .json(Method::POST, "/v1/connect/create-link", body)
        .await;
    let link = reply.data()["link"].as_str().expect("link").to_owned();
    assert_eq!(reply.json["data"].as_object().map(|d| d.len()), Some(1));
    assert!(
        link.starts_with(&format!("{}/connect?token=v4.local.", app.base)),
        "{link}"
    );
    let claims = app.claims(&link);
    assert_eq!(claims.kind, LinkKind::Connect);
    assert_eq!(claims.cat, Category::Hris);
    assert_eq!(claims.lang, None, "no language: the browser's is used");
    assert_eq!(claims.typ, LinkType::Embedded);
    assert_eq!((claims.tool, claims.oid), (None, None));
    assert_eq!(claims.env, app.state.environments.development.id);
    let lifetime = claims.exp - Utc::now().timestamp();
    assert!(
        (3590..=3600).contains(&lifetime),
        "embedded links live 1 hour: {lifetime}"
    );
    assert_eq!(
        app.state
            .store
            .magic_link(&claims.jti)
            .await
            .expect("lookup"),
        None,
        "embedded links leave no row"
    );
    assert_eq!(app.metrics().await.status, 200);
}

async fn create_link_accepts_every_field(backend: Backend) {
    let app = spawn_app(backend).await;
    // Exactly what Kombo's SDK sends, with every optional field set; `language: null` leaves the
    // language to the end user's browser.
    let link = app
        .create_link(json!({
            "remote_environment": "sandbox-eu", "integration_category": "ATS",
            "integration_tool": "greenhouse", "language": null,
            "scope_config_id": app.state.environments.development.scope_config_id,
            "enable_filtering": false, "enable_field_mapping": true, "link_type": "MAGIC_LINK",
            "unknown_field": {"ignored": true},
        }))
        .await;
    let claims = app.claims(&link);
    assert_eq!(
        (claims.cat, claims.tool.as_deref(), claims.renv.as_deref()),
        (Category::Ats, Some("greenhouse"), Some("sandbox-eu"))
    );
    assert_eq!((claims.lang, claims.typ), (None, LinkType::MagicLink));
    assert_eq!(claims.oid.as_deref(), Some("36123"));
    let lifetime = claims.exp - Utc::now().timestamp();
    assert!(
        (364 * 86400..=365 * 86400).contains(&lifetime),
        "magic links live 1 year: {lifetime}"
    );
    let record = app
        .state
        .store
        .magic_link(&claims.jti)
        .await
        .expect("lookup")
        .expect("magic links are recorded");
    assert_eq!(record.tool.as_deref(), Some("greenhouse"));
    let german = app.claims(&app.create_link(json!({"language": "de"})).await);
    assert_eq!(german.lang, Some(Language::De));
}

async fn create_link_rejects_bad_input_naming_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let valid = json!({"end_user_email": "a@acme.example", "end_user_organization_name": "Acme"});
    let with = |key: &str, value: serde_json::Value| {
        let mut body = valid.clone();
        body[key] = value;
        body.to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        (
            json!({"end_user_organization_name": "Acme"}).to_string(),
            "end_user_email",
        ),
        (
            with("end_user_email", json!("not-an-email")),
            "end_user_email",
        ),
        (with("end_user_email", json!(42)), "end_user_email"),
        (with("end_user_email", json!(null)), "end_user_email"),
        (
            with("end_user_organization_name", json!("  ")),
            "end_user_organization_name",
        ),
        (
            with("end_user_organization_name", json!("x".repeat(300))),
            "end_user_organization_name",
        ),
        (with("end_user_origin_id", json!("")), "end_user_origin_id"),
        (
            with("integration_category", json!("PAYROLL")),
            "integration_category",
        ),
        (
            with("integration_category", json!("hris")),
            "integration_category",
        ),
        (
            with("integration_tool", json!("notatool")),
            "integration_tool",
        ),
        (
            with("integration_tool", json!("greenhouse")),
            "integration_tool",
        ),
        (
            with("remote_environment", json!("eu")),
            "remote_environment",
        ),
        (with("language", json!("nl")), "language"),
        (with("link_type", json!("PERMANENT")), "link_type"),
        (with("enable_filtering", json!("yes")), "enable_filtering"),
        (
            with("scope_config_id", json!("B89SCXXho7Yw8PGo8AKJxLn4")),
            "scope_config_id",
        ),
        ("[]".into(), "JSON object"),
        ("\"text\"".into(), "JSON object"),
        ("{\"end_user_email\": ".into(), "not valid JSON"),
        ("".into(), "JSON object"),
    ];
    for (body, field) in cases {
        let reply = post_create_link(&app, &app.dev_key, body.clone()).await;
        let message = reply.error(400, Some("PLATFORM.INPUT_INVALID"));
        assert!(
            message.contains(field),
            "{body} → {message} should name {field}"
        );
    }
    // The sandbox exists only in development.
    let sandbox = with("integration_tool", json!("sandbox"));
    let reply = post_create_link(&app, &app.prod_key, sandbox.clone()).await;
    assert!(
        reply
            .error(400, Some("PLATFORM.INPUT_INVALID"))
            .contains("development")
    );
    let reply = post_create_link(&app, &app.dev_key, sandbox).await;
    reply.data();
}

async fn bodies_that_are_not_json_or_too_large_get_the_envelope(backend: Backend) {
    let app = spawn_app(backend).await;
    let url = format!("{}/v1/connect/create-link", app.base);
    let client = reqwest::Client::new();
    let form = client
        .post(&url)
        .bearer_auth(&app.dev_key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=b");
    let reply = form.send().await.expect("send");
    assert_eq!(reply.status(), 415);
    let json: serde_json::Value = reply.json().await.expect("envelope");
    assert_eq!(json["error"]["code"], "PLATFORM.INPUT_INVALID");
    let huge = format!("{{\"end_user_email\": \"{}\"}}", "a".repeat(100_000));
    let reply = post_create_link(&app, &app.dev_key, huge).await;
    reply.error(413, Some("PLATFORM.INPUT_INVALID"));
    // No content type at all is accepted (curl users forget it).
    let bare = client
        .post(&url)
        .bearer_auth(&app.dev_key)
        .body(r#"{"end_user_email":"a@b.example","end_user_organization_name":"B"}"#);
    assert_eq!(bare.send().await.expect("send").status(), 200);
}

async fn activation_tokens_redeem_once_in_their_environment(backend: Backend) {
    let app = spawn_app(backend).await;
    let link = app.create_link(json!({})).await;
    let token = app.complete(&link, "personio", "secret").await;
    assert!(token.starts_with("pbat_"));
    let path = format!("/v1/connect/integration-by-token/{token}");
    let foreign = app.get_as(&app.prod_key, &path).await;
    foreign.error(404, Some("PLATFORM.INTEGRATION_NOT_FOUND"));
    let reply = app.get(&path).await;
    let data = reply.data();
    let id = data["id"].as_str().expect("id");
    assert!(
        id.starts_with("personio:") && id.len() == "personio:".len() + 24,
        "{id}"
    );
    assert_eq!(
        data,
        &json!({"tool": "personio", "id": id, "end_user_origin_id": "36123",
                "end_user_organization_name": "Acme, Inc.", "end_user_email": "admin@acme.example",
                "setup_status": "COMPLETED"})
    );
    let again = app
        .get(&path)
        .await
        .error(404, Some("PLATFORM.INTEGRATION_NOT_FOUND"));
    let unknown = app
        .get("/v1/connect/integration-by-token/pbat_nope")
        .await
        .error(404, Some("PLATFORM.INTEGRATION_NOT_FOUND"));
    assert_eq!(
        again, unknown,
        "replayed and unknown tokens are indistinguishable"
    );
    assert!(!again.contains(&token));
}

async fn the_deprecated_activate_endpoint_redeems_too(backend: Backend) {
    let app = spawn_app(backend).await;
    let link = app.create_link(json!({})).await;
    let token = app.complete(&link, "personio", "secret").await;
    let reply = app
        .json(
            Method::POST,
            "/v1/connect/activate-integration",
            json!({"token": token}),
        )
        .await;
    assert_eq!(reply.data()["tool"], "personio");
    let reply = app
        .json(
            Method::POST,
            "/v1/connect/activate-integration",
            json!({"token": token}),
        )
        .await;
    reply.error(404, Some("PLATFORM.INTEGRATION_NOT_FOUND"));
    let reply = app
        .json(Method::POST, "/v1/connect/activate-integration", json!({}))
        .await;
    assert!(
        reply
            .error(400, Some("PLATFORM.INPUT_INVALID"))
            .contains("token")
    );
}

async fn a_thousand_concurrent_redemptions_succeed_once(backend: Backend) {
    // One key sends a thousand requests at once: far past its per-minute burst, on purpose.
    let app = spawn_app_with(backend, |config| config.rate_limit_api = None).await;
    let link = app.create_link(json!({})).await;
    let token = app.complete(&link, "personio", "secret").await;
    let url = format!("{}/v1/connect/integration-by-token/{token}", app.base);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let requests = (0..1000).map(|_| {
        let (client, url, key) = (client.clone(), url.clone(), app.dev_key.clone());
        tokio::spawn(async move {
            client
                .get(url)
                .bearer_auth(key)
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    });
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for request in requests.collect::<Vec<_>>() {
        *statuses
            .entry(request.await.expect("task").expect("response"))
            .or_default() += 1;
    }
    assert_eq!(
        statuses,
        [(200, 1), (404, 999)].into(),
        "exactly one redemption wins"
    );
}

async fn a_link_completes_at_most_one_integration(backend: Backend) {
    let app = spawn_app(backend).await;
    let link = app
        .create_link(json!({"integration_tool": "personio"}))
        .await;
    let claims = app.claims(&link);
    let credentials: Credentials = [("api_key".to_owned(), "secret".to_owned())].into();
    integrations::complete_connection(&app.state, &claims, "personio", &credentials)
        .await
        .expect("first completion");
    let second =
        integrations::complete_connection(&app.state, &claims, "personio", &credentials).await;
    assert!(
        matches!(second, Err(DomainError::Link(LinkProblem::Used))),
        "{second:?}"
    );
    let other_tool = integrations::complete_connection(
        &app.state,
        &app.claims(
            &app.create_link(json!({"integration_tool": "personio"}))
                .await,
        ),
        "hibob",
        &credentials,
    )
    .await;
    assert!(
        matches!(
            other_tool,
            Err(DomainError::Link(LinkProblem::ToolUnavailable(_)))
        ),
        "a link naming a tool completes only with it"
    );
    let events = app.events().await;
    assert_eq!(
        events
            .iter()
            .filter(|(kind, _)| kind == "integration-created")
            .count(),
        1
    );
}

async fn integration_created_is_written_with_the_integration(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.connected_integration().await;
    let events = app.events().await;
    let (kind, payload) = &events[0];
    assert_eq!(kind, "integration-created");
    let event_id = payload["id"].as_str().expect("event id");
    assert_eq!(event_id.len(), 24);
    assert_eq!(
        payload,
        &json!({"id": event_id, "type": "integration-created", "data": {
            "id": id, "tool": "personio", "category": "HRIS",
            "end_user": {"organization_name": "Acme, Inc.", "creator_email": "admin@acme.example", "origin_id": "36123"}}})
    );
}

both_backends!(
    create_link_applies_defaults,
    create_link_accepts_every_field,
    create_link_rejects_bad_input_naming_the_field,
    bodies_that_are_not_json_or_too_large_get_the_envelope,
    activation_tokens_redeem_once_in_their_environment,
    the_deprecated_activate_endpoint_redeems_too,
    a_thousand_concurrent_redemptions_succeed_once,
    a_link_completes_at_most_one_integration,
    integration_created_is_written_with_the_integration,
);

#[tokio::test]
async fn create_link_refuses_e_mail_addresses_with_markup() {
    let app = spawn_app(Backend::Sqlite).await;
    let create = |email: &str| {
        json!({"end_user_email": email, "end_user_organization_name": "Acme"}).to_string()
    };
    // Valid by RFC 5321 (the e-mail crate accepts each), but not an address people type.
    for email in [
        r#""<script>alert(1)</script>"@acme.example"#,
        r#""admin"@acme.example"#,
        r#""a b"@acme.example"#,
        "a<b>@acme.example",
    ] {
        let reply = post_create_link(&app, &app.dev_key, create(email)).await;
        let message = reply.error(400, Some("PLATFORM.INPUT_INVALID"));
        assert!(message.contains("end_user_email"), "{email}: {message}");
    }
    for email in ["o'brien+hr@acme.example", "first.last@sub.acme.example"] {
        let reply = post_create_link(&app, &app.dev_key, create(email)).await;
        assert_eq!(reply.status, 200, "{email}: {}", reply.text);
    }
}
