//! Kombo's official TypeScript SDK's `general.sendPassthroughRequest` against the real server:
//! the SDK validates the passthrough envelope and every error body strictly, so drift from
//! Kombo's shape fails here. `scripts/test` installs the SDK.

use std::{path::PathBuf, process::Command, time::Duration};

use axum::{
    Router,
    http::{StatusCode, Uri},
    response::IntoResponse,
};
use plugboard::integrations::{self, Credentials};
use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app_with},
};

fn compat_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/compat")
}

/// Connects `tool` in development with `credentials` and returns the integration id.
async fn connect(app: &TestApp, tool: &str, credentials: &[(&str, &str)]) -> String {
    let category = app
        .state
        .catalog
        .get(tool)
        .expect("a catalog tool")
        .categories[0];
    let link = app
        .create_link(json!({"integration_tool": tool, "integration_category": category.as_str()}))
        .await;
    let credentials: Credentials = credentials
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let token =
        integrations::complete_connection(&app.state, &app.claims(&link), tool, &credentials)
            .await
            .expect("flow completes");
    app.redeem(&token).await
}

/// A vendor on loopback for what the sandbox never does: fail with a 500 (`/boom`) and answer
/// later than the server's passthrough timeout (`/late`).
async fn unreliable_vendor() -> String {
    // Matched on the last segment, so the catalog's base path for BambooHR does not matter.
    let app = Router::new().fallback(|uri: Uri| async move {
        if uri.path().ends_with("/boom") {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"error": "boom"})),
            )
                .into_response()
        } else {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late".into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

async fn kombo_sdk_sends_passthrough_requests(backend: Backend) {
    let dir = compat_dir();
    assert!(
        dir.join("node_modules/@kombo-api/sdk").exists(),
        "the Kombo SDK is not installed: run `npm ci` in tests/compat (./scripts/test does)"
    );
    let vendor = unreliable_vendor().await;
    let app = spawn_app_with(backend, |config| {
        config.passthrough.timeout = Duration::from_secs(1);
        config
            .tool_base_urls
            .insert("bamboohr".into(), format!("{vendor}/{{subdomain}}"));
    })
    .await;
    let sandbox = connect(&app, "sandbox", &[("api_key", "sandbox-key-0001")]).await;
    // Its own integration, since the suite disables it.
    let spare = connect(&app, "sandbox", &[("api_key", "sandbox-key-0002")]).await;
    let bamboohr = connect(&app, "bamboohr", &[("subdomain", "acme"), ("api_key", "k")]).await;
    let (server_url, dev_key) = (format!("{}/v1", app.base), app.dev_key.clone());
    // The server runs on this test's runtime: wait for node off the runtime's threads.
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["--test", "--test-reporter=spec", "passthrough.test.mjs"])
            .current_dir(&dir)
            .env("PLUGBOARD_SERVER_URL", server_url)
            .env("PLUGBOARD_DEV_API_KEY", dev_key)
            .env("PLUGBOARD_SANDBOX_ID", sandbox)
            .env("PLUGBOARD_SPARE_SANDBOX_ID", spare)
            .env("PLUGBOARD_BAMBOOHR_ID", bamboohr)
            .output()
            .expect("node is installed")
    })
    .await
    .expect("node runner");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "Kombo SDK passthrough suite failed:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        report.contains("pass 11"),
        "all 11 SDK passthrough cases ran:\n{report}"
    );
}

both_backends!(kombo_sdk_sends_passthrough_requests);
