//! Kombo's official TypeScript SDK (`@kombo-api/sdk`, pinned in `tests/compat`) against the real
//! server. The SDK validates every response strictly, so this catches a missing nullable key or
//! an unknown enum value that our own assertions might not. `scripts/test` installs the SDK.

use std::{path::PathBuf, process::Command};

use plugboard_store::IntegrationFilter;

use crate::{
    both_backends,
    helpers::{Backend, spawn_app},
};

fn compat_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/compat")
}

async fn kombo_sdk_works_unchanged(backend: Backend) {
    let dir = compat_dir();
    assert!(
        dir.join("node_modules/@kombo-api/sdk").exists(),
        "the Kombo SDK is not installed: run `npm ci` in tests/compat (./scripts/test does)"
    );
    let app = spawn_app(backend).await;
    let link = app.create_link(serde_json::json!({})).await;
    let token = app.complete(&link, "personio", "secret").await;
    let dev = app.state.environments.development.id.clone();
    let integrations = app
        .state
        .store
        .list_integrations(&dev, &IntegrationFilter::default(), None, 10)
        .await
        .expect("list");
    let (server_url, dev_key, prod_key) = (
        format!("{}/v1", app.base),
        app.dev_key.clone(),
        app.prod_key.clone(),
    );
    let integration_id = integrations[0].id.to_string();
    // The server runs on this test's runtime: wait for node off the runtime's threads.
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["--test", "--test-reporter=spec", "kombo-sdk.test.mjs"])
            .current_dir(&dir)
            .env("PLUGBOARD_SERVER_URL", server_url)
            .env("PLUGBOARD_DEV_API_KEY", dev_key)
            .env("PLUGBOARD_PROD_API_KEY", prod_key)
            .env("PLUGBOARD_DEV_ENVIRONMENT_ID", dev)
            .env("PLUGBOARD_ACTIVATION_TOKEN", token)
            .env("PLUGBOARD_INTEGRATION_ID", integration_id)
            .output()
            .expect("node is installed")
    })
    .await
    .expect("node runner");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "Kombo SDK suite failed:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        report.contains("pass 12"),
        "all 12 SDK steps ran:\n{report}"
    );
}

both_backends!(kombo_sdk_works_unchanged);
