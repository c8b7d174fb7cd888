//! Secrets never leak: a canary credential submitted through the flow, the activation token,
//! the API keys and a webhook secret (before and after a rotation) are searched for in the
//! SQLite files, in a `pg_dump` of the PostgreSQL schema, and — with the real binary logging
//! at TRACE — in every log line, every HTTP response after the one that created them, and
//! every webhook request.

use std::{process::Command, time::Duration};

use crate::{
    binary::{Binary, add_endpoint, get, post},
    helpers::{Backend, TestApp, activation_token, fill_in, spawn_app, token_of},
    receiver::TestReceiver,
};

fn count(haystack: &[u8], needle: &str) -> usize {
    haystack
        .windows(needle.len())
        .filter(|window| *window == needle.as_bytes())
        .count()
}

/// Stores a canary credential through a completed flow and a webhook endpoint whose secret is
/// then rotated; returns the secrets to search for.
async fn store_canaries(backend: Backend) -> (TestApp, Vec<String>) {
    let app = spawn_app(backend).await;
    let canary = format!("CANARY-{}", plugboard_store::ids::new_id());
    let token = connect_through_the_flow(&app.base, &app.dev_key, &canary).await;
    app.redeem(&token).await;
    let (id, first_secret) = app.add_webhook("https://hooks.example.com/plugboard").await;
    let second_secret = app.rotate_webhook_secret(&id).await;
    let secrets = vec![
        canary,
        token,
        app.dev_key.clone(),
        app.prod_key.clone(),
        first_secret,
        second_secret,
    ];
    (app, secrets)
}

/// Creates a link with `key` and completes it in the sandbox with `credential`, as an end user's
/// browser would; returns the activation token.
async fn connect_through_the_flow(base: &str, key: &str, credential: &str) -> String {
    connect_tool_through_the_flow(base, key, "sandbox", &[("api_key", credential)]).await
}

/// Creates a link with `key` and completes it for `tool` with `fields`, as an end user's
/// browser would; returns the activation token.
async fn connect_tool_through_the_flow(
    base: &str,
    key: &str,
    tool: &str,
    fields: &[(&str, &str)],
) -> String {
    let created = post(
        &reqwest::Client::new(),
        &format!("{base}/v1/connect/create-link"),
        key,
        Some(serde_json::json!({
            "end_user_email": "admin@acme.example",
            "end_user_organization_name": "Acme, Inc.",
        })),
    )
    .await;
    let token = token_of(created["data"]["link"].as_str().expect("link"));
    let (status, html) = fill_in(base, &token, tool, fields).await;
    assert_eq!(status, 200, "{html}");
    activation_token(&html)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_hold_no_plaintext_secret() {
    let (app, secrets) = store_canaries(Backend::Sqlite).await;
    let files = app.sqlite_files();
    assert!(!files.is_empty());
    let mut bytes = Vec::new();
    for file in files {
        bytes.extend(std::fs::read(file).expect("read database file"));
    }
    assert!(
        count(&bytes, "sandbox:") > 0,
        "the search itself works: ids are stored in clear"
    );
    for secret in &secrets {
        assert_eq!(
            count(&bytes, secret),
            0,
            "{secret} found in the database files"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_dump_holds_no_plaintext_secret() {
    let (app, secrets) = store_canaries(Backend::Postgres).await;
    let schema = app.pg_schema.clone().expect("schema");
    let dump = crate::helpers::pg_dump(&schema);
    assert!(count(&dump, "sandbox:") > 0, "the dump contains the data");
    for secret in &secrets {
        assert_eq!(count(&dump, secret), 0, "{secret} found in pg_dump");
    }
}

/// A Personio stand-in on loopback whose login answers `token`; its other answers are fixed.
async fn personio_vendor(token: String) -> String {
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let token = token.clone();
        async move {
            if request.uri().path() == "/v1/auth" {
                axum::Json(serde_json::json!({"success": true, "data": {"token": token}}))
            } else {
                axum::Json(serde_json::json!({"success": true, "data": []}))
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

/// Sends a passthrough call and returns the whole answer as text.
async fn passthrough(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    api: &str,
    integration: &str,
    path: &str,
) -> String {
    let response = client
        .post(format!("{base}/v1/passthrough/{api}"))
        .bearer_auth(key)
        .header("x-integration-id", integration)
        .json(&serde_json::json!({"method": "GET", "path": path}))
        .send()
        .await
        .expect("passthrough");
    assert_eq!(response.status(), 200, "{api}");
    let headers = format!("{:?}", response.headers());
    format!("{headers} {}", response.text().await.expect("body"))
}

/// The real binary at TRACE level: after each secret's creation, no log line, HTTP response or
/// webhook request carries it, including passthrough calls made with the credentials (and a
/// token login's access token) and their request log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_logs_responses_and_webhooks_never_carry_a_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log_path = dir.path().join("trace.log");
    let access_token = format!("CANARY-TOKEN-{}", plugboard_store::ids::new_id());
    let personio = personio_vendor(access_token.clone()).await;
    let binary = Binary::new(
        dir.path(),
        &[
            ("PLUGBOARD_LOG", "trace"),
            ("PLUGBOARD_METRICS_TOKEN", crate::helpers::METRICS_TOKEN),
            ("PLUGBOARD_TOOL_BASE_URLS", &format!("personio={personio}")),
        ],
    );
    let created = binary.run(&[
        "api-keys",
        "create",
        "--environment",
        "development",
        "--name",
        "canary",
    ]);
    let api_key = String::from_utf8_lossy(&created.stdout).trim().to_owned();
    let mut logs = String::from_utf8_lossy(&created.stderr).into_owned();
    let mut server = binary
        .serve(std::fs::File::create(&log_path).expect("log file").into())
        .await;
    let base = binary.base();
    let client = reqwest::Client::new();
    let receiver = TestReceiver::start().await;
    let mut secrets = vec![api_key.clone()];
    let endpoint = add_endpoint(&client, &base, &api_key, &receiver.url).await;
    let endpoint_id = endpoint["id"].as_str().expect("id").to_owned();
    secrets.push(endpoint["secret"].as_str().expect("secret").to_owned());
    let rotated = post(
        &client,
        &format!("{base}/v1/webhooks/{endpoint_id}/rotate-secret"),
        &api_key,
        None,
    )
    .await;
    secrets.push(
        rotated["data"]["secret"]
            .as_str()
            .expect("secret")
            .to_owned(),
    );
    let credential = format!("CANARY-{}", plugboard_store::ids::new_id());
    secrets.push(credential.clone());
    let activation = connect_through_the_flow(&base, &api_key, &credential).await;
    secrets.push(activation.clone());

    // Everything an operator can read afterwards.
    let mut responses = Vec::new();
    let by_token = format!("{base}/v1/connect/integration-by-token/{activation}");
    let integration = get(&client, &by_token, &api_key).await;
    let raw_id = integration["data"]["id"].as_str().expect("id").to_owned();
    let integration_id = raw_id.replace(':', "%3A");
    let secret_key = format!("CANARY-SECRET-{}", plugboard_store::ids::new_id());
    secrets.extend([secret_key.clone(), access_token]);
    let personio_activation = connect_tool_through_the_flow(
        &base,
        &api_key,
        "personio",
        &[
            ("client_id", "canary-client"),
            ("client_secret", &secret_key),
        ],
    )
    .await;
    secrets.push(personio_activation.clone());
    let by_token = format!("{base}/v1/connect/integration-by-token/{personio_activation}");
    let personio_raw = get(&client, &by_token, &api_key).await["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let personio_id = personio_raw.replace(':', "%3A");
    for (api, id, path) in [
        ("sandbox/v1", &raw_id, "/employees"),
        ("personio/personnel", &personio_raw, "/company/employees"),
    ] {
        let answer = passthrough(&client, &base, &api_key, api, id, path).await;
        responses.push((format!("passthrough {api}"), answer));
    }
    // The request log is written in the background: wait for both calls to show.
    for id in [&integration_id, &personio_id] {
        let url = format!("{base}/v1/integrations/{id}/requests");
        let started = std::time::Instant::now();
        while get(&client, &url, &api_key).await["data"]["results"]
            .as_array()
            .is_none_or(Vec::is_empty)
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{url} stays empty"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    post(
        &client,
        &format!("{base}/v1/webhooks/{endpoint_id}/test"),
        &api_key,
        None,
    )
    .await;
    let deliveries = receiver.wait_for(2, Duration::from_secs(20)).await;
    let deliveries_url = format!("{base}/v1/webhooks/{endpoint_id}/deliveries");
    let log = get(&client, &deliveries_url, &api_key).await;
    let mut paths = vec![
        "/v1/check-api-key".to_owned(),
        "/v1/integrations".to_owned(),
        format!("/v1/integrations/{integration_id}"),
        format!("/v1/integrations/{integration_id}/requests"),
        format!("/v1/integrations/{personio_id}/requests"),
        format!("/v1/connect/integration-by-token/{activation}"),
        "/v1/connect/links".to_owned(),
        "/v1/webhooks".to_owned(),
        format!("/v1/webhooks/{endpoint_id}"),
        format!("/v1/webhooks/{endpoint_id}/deliveries"),
        "/v1/audit-events".to_owned(),
        "/metrics".to_owned(),
        "/openapi.json".to_owned(),
    ];
    for delivery in log["data"]["results"].as_array().expect("deliveries") {
        let id = delivery["id"].as_str().expect("id");
        paths.push(format!("/v1/webhooks/{endpoint_id}/deliveries/{id}"));
    }
    for path in &paths {
        let bearer = if path == "/metrics" {
            crate::helpers::METRICS_TOKEN
        } else {
            &api_key
        };
        let response = client
            .get(format!("{base}{path}"))
            .bearer_auth(bearer)
            .send()
            .await
            .expect("get");
        let headers = format!("{:?}", response.headers());
        responses.push((
            path.clone(),
            format!("{headers} {}", response.text().await.expect("body")),
        ));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    drop(server);
    logs.push_str(&std::fs::read_to_string(&log_path).expect("logs"));
    assert!(logs.contains("TRACE"), "the server logged at TRACE level");
    assert!(deliveries.len() >= 2, "webhooks arrived");
    let webhooks: Vec<String> = deliveries
        .iter()
        .map(|d| format!("{:?} {}", d.headers, d.body))
        .collect();
    let mut database = Vec::new();
    for file in ["plugboard.db", "plugboard.db-wal"] {
        database.extend(std::fs::read(dir.path().join(file)).unwrap_or_default());
    }
    for secret in &secrets {
        assert_eq!(
            count(logs.as_bytes(), secret),
            0,
            "{secret:.12}… in the TRACE logs"
        );
        for (path, response) in &responses {
            assert_eq!(
                count(response.as_bytes(), secret),
                0,
                "{secret:.12}… in the answer to {path:.60}"
            );
        }
        for webhook in &webhooks {
            assert_eq!(
                count(webhook.as_bytes(), secret),
                0,
                "{secret:.12}… in a webhook"
            );
        }
        assert_eq!(
            count(&database, secret),
            0,
            "{secret:.12}… in the database files"
        );
    }
}
