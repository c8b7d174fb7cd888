//! Outbound HTTP as an attacker would aim it: environment proxies, loopback from a development
//! key, credential values that try to move the verification request, and vendors that cannot
//! be reached. (The address lists and the failure classification have unit tests in `net.rs`
//! and the URL templating in the catalog's `template.rs`.)

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Router, http::Uri};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    binary::{self, Binary},
    helpers::{Backend, TestApp, fill_in, spawn_app_with, token_of},
};

const WAIT: Duration = Duration::from_secs(30);

/// A TCP listener that counts connections and answers each with a 200 that would show up in
/// a delivery log: a stand-in for an HTTP proxy.
async fn fake_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 16\r\n\r\ninternal secrets")
                    .await;
            });
        }
    });
    (format!("http://{address}"), connections)
}

/// Polls the delivery `id` until its first attempt is recorded; returns that attempt.
async fn first_attempt(client: &reqwest::Client, base: &str, key: &str, delivery: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let url = format!("{base}/v1/webhooks/deliveries/{delivery}");
        let detail = binary::get(client, &url, key).await;
        let attempt = &detail["data"]["attempt_log"][0];
        if !attempt.is_null() {
            return attempt.clone();
        }
        assert!(Instant::now() < deadline, "no attempt recorded: {detail}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Item 3: with every proxy variable set, a webhook to a name resolving to loopback is still
/// refused by the guard, and the proxy sees no connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_proxies_are_never_used() {
    let (proxy, connections) = fake_proxy().await;
    let receiver = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = receiver.local_addr().expect("address").port();
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Binary::new(
        dir.path(),
        &[
            ("PLUGBOARD_WEBHOOK_ALLOW_LOOPBACK", "false"),
            ("HTTP_PROXY", &proxy),
            ("HTTPS_PROXY", &proxy),
            ("ALL_PROXY", &proxy),
            ("http_proxy", &proxy),
            ("https_proxy", &proxy),
            ("all_proxy", &proxy),
            ("NO_PROXY", ""),
        ],
    );
    let key = server.api_key();
    let _running = server.serve(std::process::Stdio::null()).await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let base = server.base();
    let target = format!("http://localhost:{port}/hook");
    let endpoint = binary::add_endpoint(&client, &base, &key, &target).await;
    let id = endpoint["id"].as_str().expect("endpoint id");
    let test = binary::post(
        &client,
        &format!("{base}/v1/webhooks/{id}/test"),
        &key,
        None,
    )
    .await;
    let delivery = test["data"]["delivery_id"].as_str().expect("delivery id");
    let attempt = first_attempt(&client, &base, &key, delivery).await;
    assert_eq!(
        attempt["error"], "refused: localhost does not resolve to an address webhooks may reach",
        "{attempt}"
    );
    assert!(attempt["response_excerpt"].is_null(), "{attempt}");
    assert_eq!(connections.load(Ordering::SeqCst), 0, "the proxy was used");
    receiver.set_nonblocking(true).expect("nonblocking");
    assert!(receiver.accept().is_err(), "nothing reached the receiver");
}

/// Creates a development endpoint for `url` and returns its first attempt.
async fn deliver_once(app: &TestApp, url: &str) -> Value {
    let (id, _) = app.add_webhook(url).await;
    let (_, delivery) = app.test_webhook(&id).await;
    first_attempt(&reqwest::Client::new(), &app.base, &app.dev_key, &delivery).await
}

/// Item 4: without `PLUGBOARD_WEBHOOK_ALLOW_LOOPBACK`, a development key reaches no loopback
/// service, and the log says the same for a loopback name as for one that does not resolve.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn development_webhooks_reach_loopback_only_when_the_deployment_allows_it() {
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.webhooks.allow_loopback = false;
    })
    .await;
    let receiver = crate::receiver::TestReceiver::start().await;
    let refused = app
        .json(Method::POST, "/v1/webhooks", json!({ "url": receiver.url }))
        .await;
    let message = refused.error(400, Some("PLATFORM.INPUT_INVALID"));
    assert!(
        message.contains("PLUGBOARD_WEBHOOK_ALLOW_LOOPBACK"),
        "{message}"
    );
    let by_name = receiver.url.replacen("127.0.0.1", "localhost", 1);
    let internal = deliver_once(&app, &by_name).await;
    let unknown = deliver_once(&app, "http://plugboard-test.invalid/hook").await;
    for attempt in [&internal, &unknown] {
        assert!(attempt["http_status"].is_null(), "{attempt}");
        assert!(attempt["response_excerpt"].is_null(), "{attempt}");
    }
    let words = |attempt: &Value, host: &str| {
        attempt["error"]
            .as_str()
            .expect("error")
            .replace(host, "<host>")
    };
    assert_eq!(
        words(&internal, "localhost"),
        words(&unknown, "plugboard-test.invalid"),
        "a blocked name and one that does not resolve read alike"
    );
    assert!(receiver.received().is_empty(), "nothing reached loopback");
}

/// A vendor stand-in that records the path and query of every request and answers 401.
async fn recording_vendor() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let app = Router::new().fallback(move |uri: Uri| {
        let record = Arc::clone(&record);
        async move {
            record.lock().expect("lock").push(uri.to_string());
            axum::http::StatusCode::UNAUTHORIZED
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), seen)
}

/// Submits Recruitee's form with `company_id` on a fresh link; returns status and page.
async fn submit_recruitee(app: &TestApp, company_id: &str) -> (u16, String) {
    let link = app
        .create_link(json!({"integration_category": "ATS", "integration_tool": "recruitee"}))
        .await;
    let token = token_of(&link);
    fill_in(
        &app.base,
        &token,
        "recruitee",
        &[("company_id", company_id), ("api_token", "secret-token")],
    )
    .await
}

/// Item 10: a company id with `..`, `/`, `%2e%2e`, `?` or `#` stays inside its own path
/// segment at the vendor, and a bare `..` is refused before any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_values_cannot_move_the_verification_request() {
    let (vendor, seen) = recording_vendor().await;
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config
            .tool_base_urls
            .insert("recruitee".into(), format!("{vendor}/c/{{company_id}}"));
    })
    .await;
    for (company_id, received) in [
        ("../../admin", "/c/..%2F..%2Fadmin/offers"),
        ("%2e%2e", "/c/%252e%252e/offers"),
        ("x?limit=all#y", "/c/x%3Flimit%3Dall%23y/offers"),
    ] {
        let (status, html) = submit_recruitee(&app, company_id).await;
        assert_eq!(status, 422, "{company_id}: {html}");
        assert!(
            html.contains("did not accept these credentials"),
            "{company_id}: {html}"
        );
        let last = seen.lock().expect("lock").last().cloned();
        assert_eq!(last.as_deref(), Some(received), "{company_id}");
    }
    let before = seen.lock().expect("lock").len();
    let (status, html) = submit_recruitee(&app, "..").await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("could not find your account there"), "{html}");
    assert_eq!(seen.lock().expect("lock").len(), before, "no request sent");
}

/// The detail of the newest `connection-flow-failed` event.
async fn failure_detail(app: &TestApp) -> Value {
    let (kind, payload) = app.events().await.remove(0);
    assert_eq!(kind, "connection-flow-failed");
    let log_url = payload["data"]["log_url"].as_str().expect("log_url");
    let log = app.get(log_url.trim_start_matches(&app.base)).await;
    log.data()["detail"].clone()
}

/// Item 17: a vendor that refuses connections or never answers is "unreachable, try again",
/// not "could not find your account", even when the user's subdomain is in the URL's path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_vendor_is_not_a_wrong_instance() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_port = closed.local_addr().expect("address").port();
    drop(closed);
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent_port = silent.local_addr().expect("address").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    for port in [closed_port, silent_port] {
        let app = spawn_app_with(Backend::Sqlite, |config| {
            config.tool_base_urls.insert(
                "bamboohr".into(),
                format!("http://127.0.0.1:{port}/api/gateway.php/{{subdomain}}"),
            );
        })
        .await;
        let token = token_of(
            &app.create_link(json!({"integration_tool": "bamboohr"}))
                .await,
        );
        let (status, html) = fill_in(
            &app.base,
            &token,
            "bamboohr",
            &[("subdomain", "acme"), ("api_key", "good-key")],
        )
        .await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("could not be reached"), "{port}: {html}");
        assert!(!html.contains("could not find your account"), "{html}");
        assert_eq!(failure_detail(&app).await, "unreachable");
    }
}

/// Item 17, the operator's side: the log line of a failed verification names its cause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_verification_is_logged_with_its_cause() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_port = closed.local_addr().expect("address").port();
    drop(closed);
    let dir = tempfile::tempdir().expect("temp dir");
    let vendor = format!("bamboohr=http://127.0.0.1:{closed_port}/api/gateway.php/{{subdomain}}");
    let server = Binary::new(
        dir.path(),
        &[
            ("PLUGBOARD_TOOL_BASE_URLS", &vendor),
            ("PLUGBOARD_LOG_FORMAT", "json"),
        ],
    );
    let key = server.api_key();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let _running = server.serve(log.into()).await;
    let base = server.base();
    let client = reqwest::Client::new();
    let created = binary::post(
        &client,
        &format!("{base}/v1/connect/create-link"),
        &key,
        Some(json!({
            "end_user_email": "admin@acme.example",
            "end_user_organization_name": "Acme",
            "integration_tool": "bamboohr",
        })),
    )
    .await;
    let token = token_of(created["data"]["link"].as_str().expect("link"));
    let (status, html) = fill_in(
        &base,
        &token,
        "bamboohr",
        &[("subdomain", "acme"), ("api_key", "good-key")],
    )
    .await;
    assert_eq!(status, 422, "{html}");
    let deadline = Instant::now() + WAIT;
    loop {
        let text = std::fs::read_to_string(&log_path).expect("log");
        let line = text
            .lines()
            .find(|line| line.contains("verification request failed"));
        if let Some(line) = line {
            let entry: Value = serde_json::from_str(line).expect("a JSON log line");
            let fields = if entry["fields"].is_object() {
                &entry["fields"]
            } else {
                &entry
            };
            assert_eq!(fields["cause"], "refused", "{line}");
            assert_eq!(fields["outcome"], "unreachable", "{line}");
            assert_eq!(fields["tool"], "bamboohr", "{line}");
            break;
        }
        assert!(Instant::now() < deadline, "no log line: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
