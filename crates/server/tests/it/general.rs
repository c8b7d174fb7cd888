//! Authentication, `check-api-key`, tools, and the operational endpoints.

use plugboard_store::EnvironmentName;
use reqwest::Method;
use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, spawn_app},
};

async fn check_api_key_names_the_environment(backend: Backend) {
    let app = spawn_app(backend).await;
    let dev = app.state.environments.development.id.clone();
    let prod = app.state.environments.production.id.clone();
    assert_eq!(
        app.get("/v1/check-api-key").await.data(),
        &json!({"environment_id": dev, "customer_id": dev})
    );
    let reply = app.get_as(&app.prod_key, "/v1/check-api-key").await;
    assert_eq!(reply.data()["environment_id"], prod.as_str());
    // Kombo's SDK accepts a key that already starts with "bearer " in any case.
    let client = reqwest::Client::new();
    let lower = client
        .get(format!("{}/v1/check-api-key", app.base))
        .header("authorization", format!("bearer {}", app.dev_key));
    assert_eq!(lower.send().await.expect("send").status(), 200);
}

async fn bad_keys_are_refused_with_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/check-api-key", app.base);
    let unknown = format!("pb_dev_{}", "x".repeat(44));
    let cases = [
        None,
        Some(app.dev_key.clone()),
        Some(format!("Basic {}", app.dev_key)),
        Some("Bearer".to_owned()),
        Some("Bearer sk_live_123".to_owned()),
        Some(format!("Bearer {unknown}")),
        Some(format!("Bearer {}", &app.dev_key[..app.dev_key.len() - 1])),
    ];
    for header in cases {
        let mut request = client.get(&url);
        if let Some(value) = &header {
            request = request.header("authorization", value);
        }
        let reply = request.send().await.expect("send");
        assert_eq!(reply.status(), 401, "{header:?}");
        let body: serde_json::Value = reply.json().await.expect("envelope");
        assert_eq!(
            body["error"]["code"], "PLATFORM.AUTHENTICATION_INVALID",
            "{header:?}"
        );
        assert!(
            !body.to_string().contains(&app.dev_key),
            "keys are never echoed"
        );
    }
    let cli = plugboard::audit::Caller::cli();
    let (record, key) = plugboard::api_keys::create(
        &app.state,
        EnvironmentName::Development,
        "soon revoked",
        &cli,
    )
    .await
    .expect("key");
    assert_eq!(app.get_as(&key, "/v1/check-api-key").await.status, 200);
    // Through the application, so its cache of authenticated keys forgets the key at once.
    plugboard::api_keys::revoke(&app.state, &record.id, &cli)
        .await
        .expect("revoke");
    let reply = app.get_as(&key, "/v1/check-api-key").await;
    assert!(
        reply
            .error(401, Some("PLATFORM.AUTHENTICATION_INVALID"))
            .contains("revoked")
    );
    let reply = app
        .send(
            Method::POST,
            "/v1/connect/create-link",
            None,
            Some("{}".into()),
        )
        .await;
    reply.error(401, Some("PLATFORM.AUTHENTICATION_INVALID"));
}

async fn tools_are_listed_per_environment_and_category(backend: Backend) {
    let app = spawn_app(backend).await;
    let ids = |reply: crate::helpers::Reply| -> Vec<String> {
        reply.data()["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .map(|t| t["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let dev_hris = ids(app.get("/v1/tools/hris").await);
    assert!(dev_hris.contains(&"sandbox".to_owned()) && dev_hris.contains(&"personio".to_owned()));
    assert!(
        !dev_hris.contains(&"greenhouse".to_owned()),
        "greenhouse is ATS only"
    );
    let prod_hris = ids(app.get_as(&app.prod_key, "/v1/tools/hris").await);
    assert!(
        !prod_hris.contains(&"sandbox".to_owned()),
        "sandbox is development only"
    );
    assert!(ids(app.get("/v1/tools/ats").await).contains(&"greenhouse".to_owned()));
    let reply = app.get("/v1/tools/ats").await;
    let greenhouse = reply.data()["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .find(|t| t["id"] == "greenhouse")
        .expect("greenhouse")
        .clone();
    let base = &app.base;
    assert_eq!(
        greenhouse["assets"]["icon_black_url"],
        format!("{base}/assets/tools/greenhouse/icon-black.svg")
    );
    for key in [
        "internal_label",
        "paid_api_details_markdown",
        "fast_track_details_markdown",
        "partner_only_details_markdown",
    ] {
        assert!(greenhouse[key].is_null(), "{key} is present as null");
    }
    // Passthrough only: the category's models are listed, none offered.
    assert!(
        greenhouse["coverage"]["read_models"]
            .as_array()
            .is_some_and(
                |m| !m.is_empty() && m.iter().all(|m| m["coverage_status"] == "NOT_IMPLEMENTED")
            )
    );
    let message = app
        .get("/v1/tools/HRIS")
        .await
        .error(400, Some("PLATFORM.INPUT_INVALID"));
    assert!(message.contains("category"), "{message}");
}

async fn operational_endpoints_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = reqwest::Client::new();
    let text = |path: &str| {
        let request = client.get(format!("{}{path}", app.base));
        async move {
            let response = request.send().await.expect("send");
            (
                response.status().as_u16(),
                response.text().await.expect("body"),
            )
        }
    };
    assert_eq!(text("/healthz").await, (200, "ok".to_owned()));
    assert_eq!(text("/readyz").await, (200, "ready".to_owned()));
    let link = app.create_link(json!({})).await;
    let token = app.complete(&link, "personio", "secret").await;
    app.redeem(&token).await;
    // Not on the public listener without the token, as if there were no such route.
    assert_eq!(text("/metrics").await.0, 404);
    let reply = app.metrics().await;
    let (status, metrics) = (reply.status.as_u16(), reply.text);
    assert_eq!(status, 200);
    assert!(
        metrics.contains(r#"route="/v1/connect/integration-by-token/{token}""#),
        "{metrics}"
    );
    assert!(
        metrics.contains("plugboard_links_created_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"plugboard_activation_redemptions_total{outcome="redeemed"} 1"#),
        "{metrics}"
    );
    assert!(
        !metrics.contains(&token),
        "route labels are templates, never tokens"
    );
    let (status, openapi) = text("/openapi.json").await;
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&openapi).expect("JSON");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
}

async fn unknown_routes_and_methods_get_the_envelope(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/v1/nope").await.error(404, None);
    app.get("/nope").await.error(404, None);
    let reply = app
        .send(
            Method::PATCH,
            "/v1/connect/create-link",
            Some(&app.dev_key),
            Some("{}".into()),
        )
        .await;
    reply.error(405, None);
    let reply = app.get("/v1/check-api-key").await;
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");
    assert_eq!(reply.headers["cache-control"], "no-store");
}

both_backends!(
    check_api_key_names_the_environment,
    bad_keys_are_refused_with_401,
    tools_are_listed_per_environment_and_category,
    operational_endpoints_answer,
    unknown_routes_and_methods_get_the_envelope,
);

/// The committed `docs/openapi.json` is what the code generates. Run with
/// `UPDATE_OPENAPI=1` to rewrite it after changing the API.
#[test]
fn committed_openapi_document_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let generated =
        serde_json::to_string_pretty(&plugboard::openapi::document()).expect("JSON") + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write docs/openapi.json");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo nextest run -p plugboard openapi` and commit it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_bundle_is_served_from_a_versioned_path() {
    let app = spawn_app(Backend::Sqlite).await;
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../sdk/js/dist/plugboard-connect.min.js"
    ))
    .expect("the committed bundle");
    let versioned = app
        .send(reqwest::Method::GET, &plugboard::sdk::path(), None, None)
        .await;
    assert_eq!(versioned.status, 200);
    assert_eq!(versioned.text, committed);
    assert!(versioned.text.contains("PlugboardConnect"));
    let header = |reply: &crate::helpers::Reply, name: &str| {
        reply.headers[name].to_str().expect("ascii").to_owned()
    };
    assert!(header(&versioned, "content-type").starts_with("text/javascript"));
    assert_eq!(
        header(&versioned, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let latest = app
        .send(
            reqwest::Method::GET,
            "/sdk/plugboard-connect.min.js",
            None,
            None,
        )
        .await;
    assert_eq!(latest.text, committed);
    assert_eq!(header(&latest, "cache-control"), "public, max-age=300");
    let old = app
        .send(
            reqwest::Method::GET,
            "/sdk/plugboard-connect-0.0.1.min.js",
            None,
            None,
        )
        .await;
    assert!(old.error(404, None).contains(&plugboard::sdk::path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_security_headers() {
    let app = spawn_app(Backend::Sqlite).await;
    let link = app.create_link(serde_json::json!({})).await;
    let flow_path = link.trim_start_matches(&app.base).to_owned();
    for (path, key) in [
        ("/healthz", None),
        ("/openapi.json", None),
        ("/v1/check-api-key", None),
        ("/v1/check-api-key", Some(app.dev_key.as_str())),
        ("/no/such/route", None),
    ] {
        let reply = app.send(reqwest::Method::GET, path, key, None).await;
        let header = |name: &str| {
            reply
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        assert!(
            header("content-security-policy").contains("frame-ancestors 'none'"),
            "{path}: {:?}",
            reply.headers
        );
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(
            header("strict-transport-security"),
            "",
            "{path}: plain HTTP has no HSTS"
        );
    }
    // The flow may be framed (by the configured origins, here any).
    let flow = app.send(reqwest::Method::GET, &flow_path, None, None).await;
    let csp = flow.headers["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(
        csp.contains("frame-ancestors *") && !csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );

    let https = crate::helpers::spawn_app_with(Backend::Sqlite, |config| {
        config.public_url = "https://plugboard.example.com".parse().expect("url");
    })
    .await;
    let reply = https
        .send(reqwest::Method::GET, "/healthz", None, None)
        .await;
    assert_eq!(
        reply.headers["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
}
