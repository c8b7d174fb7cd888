//! `serve --demo` over HTTP: the demo's back-end routes check their input, the inbox refuses
//! unsigned webhooks, and without `--demo` none of it exists.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::oneshot};

use crate::helpers::{Backend, spawn_app, test_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_app_checks_its_input_and_its_webhooks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let config = test_config(
        dir.path(),
        address,
        plugboard::config::Database::Sqlite(dir.path().join("plugboard.db")),
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(plugboard::run_with(
        config,
        listener,
        async move {
            let _ = stopped.await;
        },
        true,
    ));
    let base = format!("http://{address}");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ready, "the demo server started");

    let page = client.get(format!("{base}/")).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let html = page.text().await.expect("html");
    assert!(
        html.contains(&plugboard::sdk::path()) && html.contains("Connect HRIS"),
        "{html}"
    );

    let post = |path: &str, body: Value| client.post(format!("{base}{path}")).json(&body).send();
    let link: Value = post("/integrations/kombo/init", json!({ "category": "ATS" }))
        .await
        .expect("init")
        .json()
        .await
        .expect("json");
    assert!(
        link["link"].as_str().is_some_and(|l| l.starts_with(&base)),
        "{link}"
    );
    let bad = post("/integrations/kombo/init", json!({ "category": "LMS" }))
        .await
        .expect("init");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let unknown = post(
        "/integrations/kombo/activate",
        json!({ "token": "pbat_nope" }),
    )
    .await
    .expect("activate");
    assert_eq!(unknown.status(), StatusCode::BAD_GATEWAY);
    let message: Value = unknown.json().await.expect("json");
    assert!(
        message["error"].as_str().is_some_and(|m| !m.is_empty()),
        "{message}"
    );

    // A forged webhook is refused and shown as unverified.
    let forged = client
        .post(format!("{base}/webhooks/kombo"))
        .header("x-kombo-signature", "forged")
        .header("webhook-id", "evt")
        .header(
            "webhook-timestamp",
            chrono::Utc::now().timestamp().to_string(),
        )
        .header("webhook-signature", "v1,forged")
        .body(r#"{"id":"evt","type":"integration-created","data":{}}"#)
        .send()
        .await
        .expect("webhook");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let state: Value = client
        .get(format!("{base}/demo/state"))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json");
    assert_eq!(state["webhooks"][0]["verified"], false);
    assert_eq!(state["integrations"], json!([]));

    let _ = stop.send(());
    server.await.expect("join").expect("a clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_demo_there_is_no_demo() {
    let app = spawn_app(Backend::Sqlite).await;
    for (method, path) in [
        (Method::GET, "/"),
        (Method::GET, "/demo/state"),
        (Method::POST, "/integrations/kombo/init"),
        (Method::POST, "/webhooks/kombo"),
    ] {
        app.send(method, path, None, None).await.error(404, None);
    }
}
