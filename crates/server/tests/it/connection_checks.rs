//! Connection checks: a tool that starts refusing an integration's credentials turns it
//! `INVALID` (at once after a refused passthrough call, or after the grace period on the
//! schedule), with a signed `integration-state-changed`; a relink or a later good check makes
//! it `ACTIVE` again; an unreachable tool changes nothing.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use axum::{Router, http::StatusCode, response::IntoResponse};
use chrono::Utc;
use plugboard::{
    checks,
    integrations::{self, Credentials},
};
use plugboard_store::ids::IntegrationId;
use serde_json::{Value, json};

use crate::{
    both_backends, fake_vendor,
    helpers::{Backend, TestApp, encode, spawn_app_with},
    receiver::TestReceiver,
    webhooks::signatures::kombo_signature_is_valid,
};

/// A BambooHR stand-in whose answer to every request is 401 while `refuse` is set, else 200.
async fn switchable_vendor() -> (String, Arc<AtomicBool>) {
    let refuse = Arc::new(AtomicBool::new(false));
    let flag = refuse.clone();
    let app = Router::new().fallback(move || {
        let flag = flag.clone();
        async move {
            if flag.load(Ordering::SeqCst) {
                StatusCode::UNAUTHORIZED.into_response()
            } else {
                axum::Json(json!({"employees": []})).into_response()
            }
        }
    });
    let base = fake_vendor::serve(app).await;
    (format!("{base}/{{subdomain}}"), refuse)
}

const CREDENTIALS: [(&str, &str); 2] = [("subdomain", "acme"), ("api_key", "canary-check-key")];

fn credentials() -> Credentials {
    CREDENTIALS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Connects BambooHR and returns the integration id.
async fn connect(app: &TestApp) -> String {
    app.connect_tool("bamboohr", &CREDENTIALS).await
}

async fn status(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/v1/integrations/{}", encode(id)))
        .await
        .data()["status"]
        .clone()
}

/// Waits up to `within` for the integration to reach `expected`.
async fn wait_for_status(app: &TestApp, id: &str, expected: &str, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if status(app, id).await == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id} did not become {expected}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// With no grace period, a passthrough call the tool refuses turns the integration INVALID
/// within moments, with a signed webhook; a relink restores it.
async fn a_refused_call_turns_the_integration_invalid_until_relinked(backend: Backend) {
    let (vendor, refuse) = switchable_vendor().await;
    let app = spawn_app_with(backend, |config| {
        config.checks.grace = Duration::ZERO;
        config.tool_base_urls.insert("bamboohr".into(), vendor);
    })
    .await;
    let receiver = TestReceiver::start().await;
    let (_, secret) = app
        .add_webhook_for(&receiver.url, &["integration-state-changed"])
        .await;
    let id = connect(&app).await;
    refuse.store(true, Ordering::SeqCst);
    let reply = reqwest::Client::new()
        .post(format!("{}/v1/passthrough/bamboohr/v1", app.base))
        .bearer_auth(&app.dev_key)
        .header("x-integration-id", &id)
        .json(&json!({"method": "GET", "path": "/employees/directory"}))
        .send()
        .await
        .expect("passthrough");
    let body: Value = reply.json().await.expect("json");
    assert_eq!(body["data"]["status"], 401, "{body}");
    wait_for_status(&app, &id, "INVALID", Duration::from_secs(10)).await;

    let delivered = receiver.wait_for(1, Duration::from_secs(15)).await;
    let payload: Value = serde_json::from_str(&delivered[0].body).expect("json");
    assert_eq!(payload["type"], "integration-state-changed");
    assert_eq!(payload["data"]["integration_id"], id.as_str());
    assert_eq!(payload["data"]["state"], "INVALID");
    assert!(kombo_signature_is_valid(
        &secret,
        delivered[0].body.as_bytes(),
        delivered[0].header("x-kombo-signature")
    ));
    assert!(
        !delivered[0].body.contains("canary-check-key"),
        "{}",
        delivered[0].body
    );

    // The end user relinks with working credentials: ACTIVE again, with its event.
    refuse.store(false, Ordering::SeqCst);
    let link = app.relink(&id).await;
    integrations::complete_relink(&app.state, &app.claims(&link), &credentials())
        .await
        .expect("relink completes");
    assert_eq!(status(&app, &id).await, "ACTIVE");
    let delivered = receiver.wait_for(2, Duration::from_secs(15)).await;
    let payload: Value = serde_json::from_str(&delivered[1].body).expect("json");
    assert_eq!(payload["data"]["state"], "ACTIVE");
}

/// On the schedule, refusals count only after the grace period, a tool that cannot be
/// reached never counts, and a later good check makes the integration ACTIVE again. The clock
/// is moved by calling the checker with a later `now`.
async fn the_grace_period_and_unreachable_tools(backend: Backend) {
    let (vendor, refuse) = switchable_vendor().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let unreachable = format!("http://{}", closed.local_addr().expect("address"));
    drop(closed);
    let app = spawn_app_with(backend, |config| {
        config.tool_base_urls.insert("bamboohr".into(), vendor);
        config.tool_base_urls.insert("pinpoint".into(), unreachable);
    })
    .await;
    let context = checks::Context::of(&app.state);
    let id = connect(&app).await;
    let pinpoint = app
        .connect_tool("pinpoint", &[("subdomain", "acme"), ("api_key", "k")])
        .await;

    let t0 = Utc::now();
    let day = chrono::Duration::days(1);
    assert_eq!(
        checks::check_due(&context, t0).await,
        0,
        "nothing is due yet"
    );
    refuse.store(true, Ordering::SeqCst);
    assert_eq!(
        checks::check_due(&context, t0 + day + chrono::Duration::minutes(1)).await,
        2
    );
    assert_eq!(status(&app, &id).await, "ACTIVE", "within the grace period");
    assert_eq!(status(&app, &pinpoint).await, "ACTIVE", "unreachable");
    checks::check_due(&context, t0 + day * 5).await;
    assert_eq!(status(&app, &id).await, "INVALID", "refused for four days");
    assert_eq!(
        status(&app, &pinpoint).await,
        "ACTIVE",
        "an unreachable tool never invalidates"
    );
    refuse.store(false, Ordering::SeqCst);
    checks::check_due(&context, t0 + day * 7).await;
    assert_eq!(
        status(&app, &id).await,
        "ACTIVE",
        "the credentials work again"
    );
    let changes: Vec<String> = app
        .events()
        .await
        .into_iter()
        .filter(|(kind, payload)| {
            kind == "integration-state-changed" && payload["data"]["integration_id"] == id.as_str()
        })
        .map(|(_, payload)| {
            payload["data"]["state"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    let parsed = IntegrationId::parse(&id).expect("id");
    assert_eq!(parsed.tool(), "bamboohr");
}

both_backends!(
    a_refused_call_turns_the_integration_invalid_until_relinked,
    the_grace_period_and_unreachable_tools,
);
