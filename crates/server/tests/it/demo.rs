//! `serve --demo` over HTTP: the demo's back-end routes check their input, the inbox refuses
//! unsigned webhooks, the dashboard opens signed in as the demo operator, and without `--demo`
//! none of it exists.

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
    // The customer's name ends in a full stop: no sentence ends right after it.
    assert!(
        html.contains("Acme, Inc.") && !html.contains(".."),
        "{html}"
    );
    // A favicon in the page, so the browser does not ask for /favicon.ico (a 404).
    assert!(
        html.contains(r#"<link rel="icon" href="data:image/svg+xml,"#),
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

    // A forged webhook is refused and not kept.
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
    assert_eq!(state["webhooks"], json!([]));
    assert_eq!(state["integrations"], json!([]));

    // "Open the dashboard" signs in the demo operator; another site cannot start it.
    assert!(html.contains(r#"href="/demo/dashboard""#), "{html}");
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let cross_site = no_redirects
        .get(format!("{base}/demo/dashboard"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("demo dashboard");
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert!(cross_site.headers().get("set-cookie").is_none());
    let signed_in = no_redirects
        .get(format!("{base}/demo/dashboard"))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .expect("demo dashboard");
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()["location"], "/dashboard/development");
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let overview = no_redirects
        .get(format!("{base}/dashboard/development"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("overview");
    assert_eq!(overview.status(), StatusCode::OK);
    let overview = overview.text().await.expect("html");
    assert!(
        overview.contains(plugboard::operators::DEMO_EMAIL),
        "{overview}"
    );

    let _ = stop.send(());
    server.await.expect("join").expect("a clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_demo_there_is_no_demo_and_the_root_names_plugboard() {
    let app = spawn_app(Backend::Sqlite).await;
    let home = reqwest::get(format!("{}/", app.base)).await.expect("home");
    assert_eq!(home.status(), StatusCode::OK);
    assert!(
        home.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/html")),
        "{:?}",
        home.headers()
    );
    let html = home.text().await.expect("html");
    for expected in [
        &format!("Plugboard {}", env!("CARGO_PKG_VERSION")),
        r#"href="/openapi.json""#,
        "https://github.com/plugboard-dev/plugboard#readme",
        &format!("npm install {}{}", app.base, plugboard::sdk::tarball_path()),
    ] {
        assert!(html.contains(expected), "{expected} in {html}");
    }
    for (method, path) in [
        (Method::GET, "/demo/app.js"),
        (Method::GET, "/demo/state"),
        (Method::GET, "/demo/dashboard"),
        (Method::POST, "/integrations/kombo/init"),
        (Method::POST, "/webhooks/kombo"),
    ] {
        app.send(method, path, None, None).await.error(404, None);
    }
}

/// A demo server on SQLite in `dir`, with a development API key of the test's own (made before
/// the demo starts, which revokes only its own keys); stops when `stop` is sent or dropped.
async fn spawn_demo(dir: &std::path::Path) -> (String, String, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let config = test_config(
        dir,
        address,
        plugboard::config::Database::Sqlite(dir.join("plugboard.db")),
    );
    let state = plugboard::AppState::new(config.clone())
        .await
        .expect("state");
    let (_, key) = plugboard::api_keys::create(
        &state,
        plugboard_store::EnvironmentName::Development,
        "test",
        &plugboard::audit::Caller::cli(),
    )
    .await
    .expect("key");
    drop(state);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(plugboard::run_with(
        config,
        listener,
        async move {
            let _ = stopped.await;
        },
        true,
    ));
    let base = format!("http://{address}");
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    while !client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(started.elapsed().as_secs() < 30, "the demo server started");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    (base, key, stop)
}

/// The event ids of the webhooks the demo shows, newest first.
async fn shown_webhooks(client: &reqwest::Client, base: &str) -> Vec<String> {
    let state: Value = client
        .get(format!("{base}/demo/state"))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json");
    state["webhooks"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|webhook| {
            assert_eq!(webhook["verified"], true, "{webhook}");
            webhook["id"].as_str().expect("id").to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_inbox_keeps_only_signed_webhooks_and_only_the_newest_hundred() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (base, key, _stop) = spawn_demo(dir.path()).await;
    let client = reqwest::Client::new();

    // Unsigned and badly signed posts: 401, nothing kept.
    let unsigned = client
        .post(format!("{base}/webhooks/kombo"))
        .body(r#"{"id":"evt","type":"integration-created","data":{}}"#)
        .send()
        .await
        .expect("webhook");
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(shown_webhooks(&client, &base).await, Vec::<String>::new());

    // Real, signed deliveries of test events to the demo's own endpoint.
    let endpoints = crate::binary::get(&client, &format!("{base}/v1/webhooks"), &key).await;
    let endpoint = endpoints["data"]["results"]
        .as_array()
        .or_else(|| endpoints["data"].as_array())
        .and_then(|list| {
            list.iter().find(|endpoint| {
                endpoint["url"]
                    .as_str()
                    .is_some_and(|url| url.ends_with("/webhooks/kombo"))
            })
        })
        .unwrap_or_else(|| panic!("the demo's endpoint in {endpoints}"))["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let send = |count: usize| {
        let (client, base, key, endpoint) = (&client, &base, &key, &endpoint);
        async move {
            let mut ids = Vec::new();
            for _ in 0..count {
                let sent: Value = client
                    .post(format!("{base}/v1/webhooks/{endpoint}/test"))
                    .bearer_auth(key)
                    .send()
                    .await
                    .expect("test event")
                    .json()
                    .await
                    .expect("json");
                ids.push(
                    sent["data"]["event_id"]
                        .as_str()
                        .expect("event id")
                        .to_owned(),
                );
            }
            ids
        }
    };
    let wait_for = |ids: Vec<String>| {
        let (client, base) = (&client, &base);
        async move {
            let started = std::time::Instant::now();
            loop {
                let shown = shown_webhooks(client, base).await;
                if ids.iter().all(|id| shown.contains(id)) {
                    return shown;
                }
                assert!(
                    started.elapsed().as_secs() < 60,
                    "{} of {} delivered",
                    ids.iter().filter(|id| shown.contains(id)).count(),
                    ids.len()
                );
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    };
    let first = send(plugboard::demo::KEPT).await;
    let shown = wait_for(first.clone()).await;
    assert_eq!(shown.len(), plugboard::demo::KEPT);

    let later = send(3).await;
    let shown = wait_for(later.clone()).await;
    assert_eq!(shown.len(), plugboard::demo::KEPT, "still at most 100");
    let dropped = first.iter().filter(|id| !shown.contains(id)).count();
    assert_eq!(dropped, 3, "three earlier ones made room");
    assert!(later.iter().all(|id| shown[..3].contains(id)), "{shown:?}");
}
