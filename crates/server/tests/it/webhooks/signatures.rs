//! Signed deliveries: exactly the stored bytes, Kombo's and Standard Webhooks' headers, both
//! signatures after a rotation, checked by independent implementations (`standardwebhooks` in
//! Node and the README's Rust receiver).

use std::path::PathBuf;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};

use super::WAIT;
use crate::{
    both_backends,
    helpers::{Backend, spawn_app},
    receiver::{Received, TestReceiver},
};

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
    let (id, secret) = app.add_webhook(&receiver.url).await;
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
    let (test_event, _) = app.test_webhook(&id).await;
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

both_backends!(events_arrive_signed_and_verify_independently);

// The Rust receiver example of the README (as rustfmt lays it out): it must verify a real
// delivery.

/// Whether `signature` (the X-Kombo-Signature header) signs `body` (the raw request body).
pub(crate) fn kombo_signature_is_valid(secret: &str, body: &[u8], signature: &str) -> bool {
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
    let (id, secret) = app.add_webhook(&receiver.url).await;
    app.test_webhook(&id).await;
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
