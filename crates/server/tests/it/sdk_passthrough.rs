//! Kombo's official SDKs send passthrough requests to the real server: TypeScript's
//! `general.sendPassthroughRequest` and Python's `general.send_passthrough_request`. Both
//! validate the passthrough envelope and every error body strictly, so drift from Kombo's
//! shape fails here. `scripts/test` installs both SDKs.

use std::{path::PathBuf, process::Command, time::Duration};

use axum::{
    Router,
    http::{StatusCode, Uri},
    response::IntoResponse,
};
use serde_json::json;

use crate::fake_vendor;
use crate::{
    both_backends,
    helpers::{Backend, spawn_app_with},
};

fn compat_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/compat")
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
    fake_vendor::serve(app).await
}

/// Runs `program` with `args` in `tests/compat` with the suites' variables; returns (success,
/// stdout, stderr). The server runs on the test's runtime, so this waits off its threads.
async fn run_suite(
    program: PathBuf,
    args: &'static [&'static str],
    vars: Vec<(&'static str, String)>,
) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || {
        let output = Command::new(&program)
            .args(args)
            .current_dir(compat_dir())
            .envs(vars)
            .output()
            .unwrap_or_else(|e| panic!("{} runs: {e}", program.display()));
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    })
    .await
    .expect("suite runner")
}

async fn kombo_sdks_send_passthrough_requests(backend: Backend) {
    let dir = compat_dir();
    assert!(
        dir.join("node_modules/@kombo-api/sdk").exists(),
        "the Kombo SDK is not installed: run `npm ci` in tests/compat (./scripts/test does)"
    );
    let python = dir.join("../../target/kombo-python-venv/bin/python");
    assert!(
        python.exists(),
        "Kombo's Python SDK is not installed in target/kombo-python-venv (./scripts/test does)"
    );
    let vendor = unreliable_vendor().await;
    let app = spawn_app_with(backend, |config| {
        config.passthrough.timeout = Duration::from_secs(1);
        config
            .tool_base_urls
            .insert("bamboohr".into(), format!("{vendor}/{{subdomain}}"));
    })
    .await;
    let sandbox = app
        .connect_tool("sandbox", &[("api_key", "sandbox-key-0001")])
        .await;
    // Its own integration, since the suites disable it.
    let spare = app
        .connect_tool("sandbox", &[("api_key", "sandbox-key-0002")])
        .await;
    let bamboohr = app
        .connect_tool("bamboohr", &[("subdomain", "acme"), ("api_key", "k")])
        .await;
    let vars = vec![
        ("PLUGBOARD_SERVER_URL", format!("{}/v1", app.base)),
        ("PLUGBOARD_DEV_API_KEY", app.dev_key.clone()),
        ("PLUGBOARD_SANDBOX_ID", sandbox),
        ("PLUGBOARD_SPARE_SANDBOX_ID", spare),
        ("PLUGBOARD_BAMBOOHR_ID", bamboohr),
    ];

    let (ok, report, stderr) = run_suite(
        "node".into(),
        &["--test", "--test-reporter=spec", "passthrough.test.mjs"],
        vars.clone(),
    )
    .await;
    assert!(
        ok,
        "Kombo TypeScript SDK passthrough suite failed:\n{report}\n{stderr}"
    );
    assert!(
        report.contains("pass 11"),
        "all 11 TypeScript SDK passthrough cases ran:\n{report}"
    );

    // unittest reports on stderr.
    let (ok, stdout, report) = run_suite(python, &["passthrough_test.py"], vars).await;
    assert!(
        ok,
        "Kombo Python SDK passthrough suite failed:\n{report}\n{stdout}"
    );
    assert!(
        report.contains("Ran 11 tests") && report.trim_end().ends_with("OK"),
        "all 11 Python SDK passthrough cases ran:\n{report}"
    );
}

both_backends!(kombo_sdks_send_passthrough_requests);
