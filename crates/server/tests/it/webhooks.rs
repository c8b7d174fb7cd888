//! Webhooks over HTTP on both backends: endpoint management, signed delivery checked by
//! independent implementations, retries, `Retry-After`, `410`, redirects, timeouts, SSRF
//! refusals, rotation, test events and the delivery log.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app, spawn_app_with},
    receiver::{Answer, Received, TestReceiver},
};

const WAIT: Duration = Duration::from_secs(20);

/// Creates an endpoint with the development key; returns (id, secret).
async fn add_endpoint(app: &TestApp, url: &str, events: Option<&[&str]>) -> (String, String) {
    let mut body = json!({ "url": url });
    if let Some(events) = events {
        body["events"] = json!(events);
    }
    let reply = app.json(Method::POST, "/v1/webhooks", body).await;
    let data = reply.data();
    (
        data["id"].as_str().expect("id").to_owned(),
        data["secret"].as_str().expect("secret").to_owned(),
    )
}

/// Creates an endpoint with the production key; returns its id.
async fn add_production_endpoint(app: &TestApp, url: &str) -> String {
    let created = app
        .send(
            Method::POST,
            "/v1/webhooks",
            Some(&app.prod_key),
            Some(json!({ "url": url }).to_string()),
        )
        .await;
    created.data()["id"].as_str().expect("id").to_owned()
}

/// Queues a test event for `endpoint` with `key`; returns (event id, delivery id).
async fn send_test(app: &TestApp, key: &str, endpoint: &str) -> (String, String) {
    let reply = app
        .send(
            Method::POST,
            &format!("/v1/webhooks/{endpoint}/test"),
            Some(key),
            None,
        )
        .await;
    let id = |field: &str| reply.data()[field].as_str().expect(field).to_owned();
    (id("event_id"), id("delivery_id"))
}

/// Polls the delivery log of `endpoint` until `done` holds for its newest delivery's detail.
async fn wait_for_delivery(app: &TestApp, endpoint: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let list = app
            .get(&format!("/v1/webhooks/{endpoint}/deliveries"))
            .await;
        if let Some(id) = list.data()["results"][0]["id"].as_str() {
            let detail = app.get(&format!("/v1/webhooks/deliveries/{id}")).await;
            if done(detail.data()) {
                return detail.data().clone();
            }
        }
        assert!(
            Instant::now() < deadline,
            "the delivery did not get there: {}",
            list.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn compressed(schedule_ms: &[u64]) -> impl FnOnce(&mut plugboard::config::Config) {
    let schedule: Vec<Duration> = schedule_ms
        .iter()
        .map(|&ms| Duration::from_millis(ms))
        .collect();
    move |config| config.webhooks.retry_schedule = schedule
}

async fn endpoints_are_managed_over_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    let receiver = TestReceiver::start().await;
    let created = app
        .json(Method::POST, "/v1/webhooks", json!({ "url": receiver.url }))
        .await;
    let data = created.data().clone();
    let id = data["id"].as_str().expect("id");
    let secret = data["secret"].as_str().expect("secret");
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    assert_eq!(
        data["events"],
        json!([
            "integration-created",
            "integration-deleted",
            "integration-state-changed",
            "connection-flow-failed"
        ])
    );
    assert_eq!(data["enabled"], true);
    assert!(data["disabled_reason"].is_null() && data["failing_since"].is_null());

    // The secret is never shown again.
    let fetched = app.get(&format!("/v1/webhooks/{id}")).await;
    assert!(fetched.data().get("secret").is_none(), "{}", fetched.text);
    assert!(!fetched.text.contains(secret));
    let list = app.get("/v1/webhooks").await;
    assert_eq!(list.data()["results"].as_array().expect("list").len(), 1);
    assert!(!list.text.contains(secret));

    // Another environment's key sees nothing.
    let other = app
        .send(
            Method::GET,
            &format!("/v1/webhooks/{id}"),
            Some(&app.prod_key),
            None,
        )
        .await;
    other.error(404, None);
    let other_list = app
        .send(Method::GET, "/v1/webhooks", Some(&app.prod_key), None)
        .await;
    assert_eq!(other_list.data()["results"], json!([]));

    // Changes.
    let patched = app
        .json(
            Method::PATCH,
            &format!("/v1/webhooks/{id}"),
            json!({ "events": ["integration-deleted"], "enabled": false }),
        )
        .await;
    assert_eq!(patched.data()["events"], json!(["integration-deleted"]));
    assert_eq!(patched.data()["enabled"], false);
    assert_eq!(patched.data()["disabled_reason"], "MANUAL");
    let enabled = app
        .json(
            Method::PATCH,
            &format!("/v1/webhooks/{id}"),
            json!({ "enabled": true }),
        )
        .await;
    assert!(enabled.data()["disabled_reason"].is_null());

    // Bad input names the field.
    for (body, field) in [
        (json!({}), "url"),
        (json!({ "url": "not a url" }), "url"),
        (json!({ "url": "ftp://example.com/" }), "url"),
        (json!({ "url": receiver.url, "events": [] }), "events"),
        (
            json!({ "url": receiver.url, "events": ["sync-finished"] }),
            "events",
        ),
        (
            json!({ "url": receiver.url, "events": "integration-created" }),
            "events",
        ),
    ] {
        let reply = app.json(Method::POST, "/v1/webhooks", body.clone()).await;
        let message = reply.error(400, Some("PLATFORM.INPUT_INVALID"));
        assert!(message.contains(field), "{body}: {message}");
    }
    let bad_patch = app
        .json(
            Method::PATCH,
            &format!("/v1/webhooks/{id}"),
            json!({ "url": "http://10.0.0.1/" }),
        )
        .await;
    assert!(
        bad_patch
            .error(400, Some("PLATFORM.INPUT_INVALID"))
            .contains("url")
    );
    app.json(Method::PATCH, "/v1/webhooks/missing", json!({}))
        .await
        .error(404, None);

    // Delete.
    let deleted = app
        .send(
            Method::DELETE,
            &format!("/v1/webhooks/{id}"),
            Some(&app.dev_key),
            Some("{}".into()),
        )
        .await;
    deleted.data();
    app.get(&format!("/v1/webhooks/{id}"))
        .await
        .error(404, None);
    app.send(
        Method::DELETE,
        &format!("/v1/webhooks/{id}"),
        Some(&app.dev_key),
        None,
    )
    .await
    .error(404, None);
    app.send(Method::GET, "/v1/webhooks", None, None)
        .await
        .error(401, Some("PLATFORM.AUTHENTICATION_INVALID"));
}

fn verifier() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/compat")
}

/// Runs `tests/compat/verify-webhook.mjs` on captured deliveries.
fn verify_independently(deliveries: &[(&Received, &str, Vec<&str>)]) {
    let dir = verifier();
    assert!(
        dir.join("node_modules/standardwebhooks").exists(),
        "standardwebhooks is not installed: run `npm ci` in tests/compat (./scripts/test does)"
    );
    let input = json!({
        "deliveries": deliveries.iter().map(|(received, kombo, standard)| {
            let headers: serde_json::Map<String, Value> = received
                .headers
                .iter()
                .map(|(name, value)| (name.to_string(), json!(value.to_str().unwrap_or_default())))
                .collect();
            json!({
                "body": received.body,
                "headers": headers,
                "kombo_secret": kombo,
                "standard_secrets": standard,
            })
        }).collect::<Vec<_>>()
    });
    let mut child = std::process::Command::new("node")
        .arg("verify-webhook.mjs")
        .current_dir(&dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("node finishes");
    assert!(
        output.status.success(),
        "independent verification failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn events_arrive_signed_and_verify_independently(backend: Backend) {
    let app = spawn_app(backend).await;
    let receiver = TestReceiver::start().await;
    let (id, secret) = add_endpoint(&app, &receiver.url, None).await;
    let integration = app.connected_integration().await;
    let received = receiver.wait_for(1, WAIT).await;
    let first = &received[0];
    let stored = app
        .state
        .store
        .recent_events(&app.state.environments.development.id, 10)
        .await
        .expect("events")
        .into_iter()
        .find(|event| event.event_type == "integration-created")
        .expect("event");
    assert_eq!(first.body, stored.payload, "exactly the stored bytes");
    let created: Value = serde_json::from_str(&stored.payload).expect("json");
    assert_eq!(first.header("content-type"), "application/json");
    assert_eq!(
        first.header("user-agent"),
        concat!("Plugboard/", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        first.header("webhook-id"),
        created["id"].as_str().expect("id")
    );
    let timestamp: i64 = first.header("webhook-timestamp").parse().expect("seconds");
    assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 60);
    assert_eq!(created["data"]["id"], integration.as_str());

    // A rotation: the next delivery carries both signatures; X-Kombo-Signature the new one.
    let rotated = app
        .send(
            Method::POST,
            &format!("/v1/webhooks/{id}/rotate-secret"),
            Some(&app.dev_key),
            None,
        )
        .await;
    let new_secret = rotated.data()["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    assert_ne!(new_secret, secret);
    assert!(rotated.data()["previous_secret_expires_at"].is_string());
    let (test_event, _) = send_test(&app, &app.dev_key, &id).await;
    let received = receiver.wait_for(2, WAIT).await;
    let second = &received[1];
    assert_eq!(second.header("webhook-id"), test_event);
    assert_eq!(second.header("webhook-signature").split(' ').count(), 2);
    let body: Value = serde_json::from_str(&second.body).expect("json");
    assert_eq!(body["type"], "webhook-test");
    assert_eq!(body["data"]["webhook_id"], id.as_str());

    verify_independently(&[
        (first, &secret, vec![&secret]),
        (second, &new_secret, vec![&new_secret, &secret]),
    ]);
}

async fn subscriptions_and_environments_decide_who_receives(backend: Backend) {
    let app = spawn_app(backend).await;
    let all = TestReceiver::start().await;
    let deleted_only = TestReceiver::start().await;
    add_endpoint(&app, &all.url, None).await;
    add_endpoint(&app, &deleted_only.url, Some(&["integration-deleted"])).await;
    let integration = app.connected_integration().await;
    app.json(
        Method::DELETE,
        &format!("/v1/integrations/{}", crate::helpers::encode(&integration)),
        json!({}),
    )
    .await
    .data();
    let got = all.wait_for(2, WAIT).await;
    let types: Vec<String> = got
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).expect("json")["type"]
                .as_str()
                .expect("type")
                .to_owned()
        })
        .collect();
    assert!(
        types.contains(&"integration-created".to_owned())
            && types.contains(&"integration-deleted".to_owned()),
        "{types:?}"
    );
    let only = deleted_only.wait_for(1, WAIT).await;
    assert!(only[0].body.contains("integration-deleted"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        deleted_only.received().len(),
        1,
        "no integration-created for it"
    );
}

async fn failures_are_retried_on_schedule_and_logged(backend: Backend) {
    let app = spawn_app_with(backend, compressed(&[100, 100, 100])).await;
    let receiver = TestReceiver::start().await;
    receiver.then([Answer::Status(500), Answer::Status(503)]);
    let (id, _) = add_endpoint(&app, &receiver.url, None).await;
    app.connected_integration().await;
    let got = receiver.wait_for(3, WAIT).await;
    let ids: Vec<&str> = got.iter().map(|r| r.header("webhook-id")).collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "the same webhook-id on every retry: {ids:?}"
    );
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "byte-identical retries"
    );
    assert!(
        got[1].at - got[0].at >= Duration::from_millis(100),
        "the schedule's wait"
    );

    let detail = wait_for_delivery(&app, &id, |d| d["status"] == "SUCCEEDED").await;
    assert_eq!(detail["attempts"], 3);
    assert!(detail["next_attempt_at"].is_null());
    assert_eq!(detail["last_http_status"], 200);
    let log = detail["attempt_log"].as_array().expect("attempts");
    let statuses: Vec<&Value> = log.iter().map(|a| &a["http_status"]).collect();
    assert_eq!(statuses, [&json!(500), &json!(503), &json!(200)]);
    assert_eq!(log[0]["response_excerpt"], "answer 500");
    assert_eq!(detail["payload"]["type"], "integration-created");
    let endpoint = app.get(&format!("/v1/webhooks/{id}")).await;
    assert!(
        endpoint.data()["failing_since"].is_null(),
        "a success clears the failure record"
    );

    // Exhausted: FAILED after 1 + 3 attempts; a manual retry delivers once the receiver is fixed.
    receiver.answer(Answer::Status(500));
    let (_, delivery) = send_test(&app, &app.dev_key, &id).await;
    let failed = wait_for_delivery(&app, &id, |d| d["status"] == "FAILED").await;
    assert_eq!(failed["id"], delivery.as_str());
    assert_eq!(failed["attempts"], 4);
    let failing = app.get(&format!("/v1/webhooks/{id}")).await;
    assert!(failing.data()["failing_since"].is_string());
    receiver.answer(Answer::Status(204));
    let retried = app
        .send(
            Method::POST,
            &format!("/v1/webhooks/deliveries/{delivery}/retry"),
            Some(&app.dev_key),
            None,
        )
        .await;
    assert_eq!(retried.data()["status"], "PENDING");
    let done = wait_for_delivery(&app, &id, |d| d["status"] == "SUCCEEDED").await;
    assert_eq!(done["last_http_status"], 204);
    app.send(
        Method::POST,
        "/v1/webhooks/deliveries/nope/retry",
        Some(&app.dev_key),
        None,
    )
    .await
    .error(404, None);

    // The log filters and pages.
    let failed_only = app
        .get(&format!("/v1/webhooks/{id}/deliveries?status=FAILED"))
        .await;
    assert_eq!(failed_only.data()["results"], json!([]));
    let tests_only = app
        .get(&format!(
            "/v1/webhooks/{id}/deliveries?event_type=webhook-test&page_size=1"
        ))
        .await;
    assert_eq!(
        tests_only.data()["results"].as_array().expect("page").len(),
        1
    );
    assert!(tests_only.data()["next"].is_null());
    let first_page = app
        .get(&format!("/v1/webhooks/{id}/deliveries?page_size=1"))
        .await;
    let next = first_page.data()["next"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let second_page = app
        .get(&format!(
            "/v1/webhooks/{id}/deliveries?page_size=1&cursor={next}"
        ))
        .await;
    assert_ne!(
        second_page.data()["results"][0]["id"],
        first_page.data()["results"][0]["id"]
    );
    app.get(&format!("/v1/webhooks/{id}/deliveries?status=LOST"))
        .await
        .error(400, Some("PLATFORM.INPUT_INVALID"));
    app.get(&format!("/v1/webhooks/{id}/deliveries?cursor=garbage"))
        .await
        .error(400, Some("PLATFORM.INPUT_INVALID"));
    app.get("/v1/webhooks/missing/deliveries")
        .await
        .error(404, None);
    app.get("/v1/webhooks/deliveries/missing")
        .await
        .error(404, None);
    let metrics = app.metrics().await;
    assert!(
        metrics
            .text
            .contains("plugboard_webhook_attempts_total{outcome=\"http_error\"}"),
        "{}",
        metrics.text
    );
}

async fn retry_after_is_honoured(backend: Backend) {
    let app = spawn_app_with(backend, compressed(&[50, 50])).await;
    let receiver = TestReceiver::start().await;
    receiver.then([Answer::RetryAfter(2)]);
    add_endpoint(&app, &receiver.url, None).await;
    app.connected_integration().await;
    let got = receiver.wait_for(2, WAIT).await;
    let waited = got[1].at - got[0].at;
    assert!(
        waited >= Duration::from_millis(1900),
        "waited only {waited:?}"
    );
}

async fn gone_disables_the_endpoint_until_enabled(backend: Backend) {
    let app = spawn_app_with(backend, compressed(&[50, 50, 50])).await;
    let receiver = TestReceiver::start().await;
    receiver.then([Answer::Status(410)]);
    let (id, _) = add_endpoint(&app, &receiver.url, None).await;
    app.connected_integration().await;
    receiver.wait_for(1, WAIT).await;
    let deadline = Instant::now() + WAIT;
    loop {
        let endpoint = app.get(&format!("/v1/webhooks/{id}")).await;
        if endpoint.data()["disabled_reason"] == "GONE" {
            assert_eq!(endpoint.data()["enabled"], false);
            break;
        }
        assert!(Instant::now() < deadline, "{}", endpoint.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "nothing is sent to a gone endpoint"
    );
    // The delivery waited; enabling sends it.
    app.json(
        Method::PATCH,
        &format!("/v1/webhooks/{id}"),
        json!({ "enabled": true }),
    )
    .await
    .data();
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
}

async fn redirects_are_not_followed(backend: Backend) {
    let app = spawn_app_with(backend, compressed(&[60_000])).await;
    let receiver = TestReceiver::start().await;
    let elsewhere = TestReceiver::start().await;
    receiver.answer(Answer::Redirect(elsewhere.url.clone()));
    let (id, _) = add_endpoint(&app, &receiver.url, None).await;
    app.connected_integration().await;
    let detail = wait_for_delivery(&app, &id, |d| {
        d["attempts"] == 1 && d["last_http_status"] == 302
    })
    .await;
    assert_eq!(
        detail["status"], "PENDING",
        "a redirect is a failure, retried later"
    );
    assert!(
        elsewhere.received().is_empty(),
        "the redirect was not followed"
    );
}

async fn a_hanging_endpoint_times_out_without_delaying_others(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.webhooks.timeout = Duration::from_millis(700);
        config.webhooks.endpoint_concurrency = 2;
        config.webhooks.retry_schedule = vec![Duration::from_secs(60)];
    })
    .await;
    let hanging = TestReceiver::start().await;
    hanging.answer(Answer::Hang);
    let healthy = TestReceiver::start().await;
    let (hanging_id, _) = add_endpoint(&app, &hanging.url, None).await;
    let (healthy_id, _) = add_endpoint(&app, &healthy.url, None).await;
    let started = Instant::now();
    for endpoint in [&hanging_id, &healthy_id] {
        for _ in 0..5 {
            send_test(&app, &app.dev_key, endpoint).await;
        }
    }
    healthy.wait_for(5, WAIT).await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "healthy deliveries waited for the hanging endpoint: {:?}",
        started.elapsed()
    );
    let detail = wait_for_delivery(&app, &hanging_id, |d| {
        d["attempts"].as_u64() >= Some(1)
            && d["attempt_log"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    let error = detail["attempt_log"][0]["error"]
        .as_str()
        .expect("an error");
    assert!(error.contains("timed out"), "{error}");
    assert!(detail["attempt_log"][0]["http_status"].is_null());
}

async fn non_public_targets_are_refused(backend: Backend) {
    let app = spawn_app_with(backend, compressed(&[60_000])).await;
    let receiver = TestReceiver::start().await;
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .and_then(|p| p.split('/').next())
        .expect("port")
        .to_owned();
    // Literal addresses in every notation are refused when a production endpoint is created.
    for url in [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f.0.0.1/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00::1]/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://0.0.0.0/",
    ] {
        let reply = app
            .send(
                Method::POST,
                "/v1/webhooks",
                Some(&app.prod_key),
                Some(json!({ "url": url }).to_string()),
            )
            .await;
        let message = reply.error(400, Some("PLATFORM.INPUT_INVALID"));
        assert!(message.contains("not a public address"), "{url}: {message}");
    }
    // A name resolving to loopback is refused when it is resolved, before connecting.
    let by_name = format!("http://localhost:{port}/hook");
    let id = add_production_endpoint(&app, &by_name).await;
    let (_, delivery) = send_test(&app, &app.prod_key, &id).await;
    let deadline = Instant::now() + WAIT;
    let error = loop {
        let detail = app
            .send(
                Method::GET,
                &format!("/v1/webhooks/deliveries/{delivery}"),
                Some(&app.prod_key),
                None,
            )
            .await;
        if let Some(error) = detail.data()["attempt_log"][0]["error"].as_str() {
            break error.to_owned();
        }
        assert!(Instant::now() < deadline, "{}", detail.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        error.contains("refused") && error.contains("localhost"),
        "{error}"
    );
    assert!(
        receiver.received().is_empty(),
        "nothing reached the loopback receiver"
    );
}

async fn allow_listed_networks_are_reachable_in_production(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.webhooks.allowed_networks = vec!["127.0.0.0/8".parse().expect("network")];
    })
    .await;
    let receiver = TestReceiver::start().await;
    let id = add_production_endpoint(&app, &receiver.url).await;
    send_test(&app, &app.prod_key, &id).await;
    receiver.wait_for(1, WAIT).await;
}

async fn a_backlog_drains_without_idling(backend: Backend) {
    // One delivery in flight at a time: every completion must lead straight to the next claim.
    // (A worker that missed the freed slot would idle a poll interval, a second, per delivery.)
    let app = spawn_app_with(backend, |config| config.webhooks.endpoint_concurrency = 1).await;
    let receiver = TestReceiver::start().await;
    let (id, _) = add_endpoint(&app, &receiver.url, None).await;
    app.json(
        Method::PATCH,
        &format!("/v1/webhooks/{id}"),
        json!({ "enabled": false }),
    )
    .await
    .data();
    let env = app.state.environments.development.id.clone();
    for _ in 0..300 {
        let event = plugboard::events::webhook_test(&env, &id, chrono::Utc::now());
        app.state
            .store
            .queue_event_for_endpoint(&event, &id)
            .await
            .expect("queue")
            .expect("endpoint");
    }
    app.json(
        Method::PATCH,
        &format!("/v1/webhooks/{id}"),
        json!({ "enabled": true }),
    )
    .await
    .data();
    receiver.wait_for(300, WAIT).await;
}

both_backends!(
    a_backlog_drains_without_idling,
    endpoints_are_managed_over_the_api,
    events_arrive_signed_and_verify_independently,
    subscriptions_and_environments_decide_who_receives,
    failures_are_retried_on_schedule_and_logged,
    retry_after_is_honoured,
    gone_disables_the_endpoint_until_enabled,
    redirects_are_not_followed,
    a_hanging_endpoint_times_out_without_delaying_others,
    non_public_targets_are_refused,
    allow_listed_networks_are_reachable_in_production,
);

// The Rust receiver example of the README (as rustfmt lays it out): it must verify a real
// delivery.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};

/// Whether `signature` (the X-Kombo-Signature header) signs `body` (the raw request body).
fn kombo_signature_is_valid(secret: &str, body: &[u8], signature: &str) -> bool {
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    mac.verify_slice(&signature).is_ok() // constant-time comparison
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_rust_receiver_verifies_a_delivery() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README");
    assert!(
        readme.contains(
            "fn kombo_signature_is_valid(secret: &str, body: &[u8], signature: &str) -> bool {"
        ),
        "the README's example changed: update this copy"
    );
    let app = spawn_app(Backend::Sqlite).await;
    let receiver = TestReceiver::start().await;
    let (id, secret) = add_endpoint(&app, &receiver.url, None).await;
    send_test(&app, &app.dev_key, &id).await;
    let delivery = &receiver.wait_for(1, WAIT).await[0];
    let signature = delivery.header("x-kombo-signature");
    assert!(kombo_signature_is_valid(
        &secret,
        delivery.body.as_bytes(),
        signature
    ));
    assert!(!kombo_signature_is_valid(&secret, b"{}", signature));
    assert!(!kombo_signature_is_valid(
        "whsec_other",
        delivery.body.as_bytes(),
        signature
    ));
}
