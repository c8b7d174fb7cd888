//! Master key rotation, online: data sealed with the old key stays readable while
//! `keys::rotate` re-seals it under the new one, webhooks keep arriving signed with the same
//! secrets, and afterwards the old key can go.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use plugboard::{
    AppState,
    audit::Caller,
    config::MasterKeySource,
    integrations::{self, Credentials},
    keys, tokens,
    vault::{MasterKey, Purpose, Vault},
    webhooks,
};
use plugboard_store::ids::IntegrationId;
use reqwest::Method;

use crate::{
    both_backends,
    helpers::{Backend, spawn_app_with},
    receiver::TestReceiver,
};

/// Reads and opens the credentials of every integration in `ids`; panics if one does not open.
async fn open_every_credential(state: &AppState, ids: &[String]) {
    for id in ids {
        let parsed = IntegrationId::parse(id).expect("id");
        let sealed = state
            .store
            .integration_credentials(&parsed)
            .await
            .expect("read")
            .expect("stored");
        state
            .vault
            .open(Purpose::Credentials, id, &sealed)
            .expect("the credentials open");
    }
}

async fn rotation_reseals_everything_while_the_server_serves(backend: Backend) {
    let old = MasterKey::generate();
    let new = MasterKey::generate();
    let receiver = TestReceiver::start().await;
    // Step 2 of the rotation: the server runs with the new key and still knows the old one.
    let previous = old.clone();
    let app = spawn_app_with(backend, |config| {
        config.master_key = MasterKeySource::Configured(new.clone());
        config.previous_master_keys = vec![previous];
    })
    .await;
    // What was written before the change, sealed and signed with the old key alone.
    let before = AppState::from_parts(
        app.state.config.clone(),
        app.state.store.clone(),
        Vault::new(&old),
    )
    .await
    .expect("state with the old key");
    let development = app.state.environments.development.clone();
    let mut integration_ids = Vec::new();
    for i in 0..12 {
        let link = app.create_link(serde_json::json!({})).await;
        let credentials: Credentials = [("api_key".to_owned(), format!("secret-{i}"))].into();
        let token = integrations::complete_connection(
            &before,
            &app.claims(&link),
            "personio",
            &credentials,
        )
        .await
        .expect("connect");
        integration_ids.push(app.redeem(&token).await);
    }
    // Subscribed to an event this test never causes: only its test events are delivered.
    let events = ["connection-flow-failed".to_owned()];
    let (endpoint, _) = webhooks::create_endpoint(
        &before,
        &development,
        &receiver.url,
        Some(&events),
        &Caller::cli(),
    )
    .await
    .expect("endpoint");
    let (_, secret) = webhooks::rotate_secret(&before, &development, &endpoint.id, &Caller::cli())
        .await
        .expect("rotate");
    let secret = secret.as_str().to_owned();
    let old_link_claims = app.claims(&app.create_link(serde_json::json!({})).await);
    let old_link = tokens::seal_link(&before.vault, &old_link_claims);

    // Without the old key the server would refuse to start, naming what to do.
    let refused = AppState::from_parts(
        app.state.config.clone(),
        app.state.store.clone(),
        Vault::new(&new),
    )
    .await
    .expect_err("the old key is still needed");
    assert!(
        refused
            .to_string()
            .contains("PLUGBOARD_PREVIOUS_MASTER_KEYS"),
        "{refused}"
    );

    // Readers and webhook traffic run for the whole rotation; none may fail.
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let reader = {
        let (state, stop, reads, ids) = (
            app.state.clone(),
            stop.clone(),
            reads.clone(),
            integration_ids.clone(),
        );
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                open_every_credential(&state, &ids).await;
                reads.fetch_add(1, Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
        })
    };
    // The rotation runs as its own task, as `plugboard keys rotate` runs as its own process.
    let rotation = {
        let state = app.state.clone();
        tokio::spawn(async move { keys::rotate(&*state.store, &state.vault, 3, |_| {}).await })
    };
    let mut tests_sent = 0;
    while !rotation.is_finished() {
        app.test_webhook(&endpoint.id).await;
        tests_sent += 1;
    }
    let report = rotation.await.expect("task").expect("rotation");
    for _ in 0..3 {
        app.test_webhook(&endpoint.id).await;
        tests_sent += 1;
    }
    stop.store(true, Ordering::Relaxed);
    reader.await.expect("reader never failed");
    assert!(reads.load(Ordering::Relaxed) > 0);
    assert_eq!(
        report.resealed,
        12 + 2,
        "credentials, the secret and the rotated-out secret: {report:?}"
    );
    assert!(report.failed.is_empty(), "{report:?}");
    let counts = app.state.store.sealing_key_counts().await.expect("counts");
    assert_eq!(counts, vec![(app.state.vault.key_id().to_owned(), 14)]);

    // Every delivery, before and after its secret was re-sealed, is signed with the same secret.
    let received = receiver.wait_for(tests_sent, Duration::from_secs(20)).await;
    assert_eq!(received.len(), tests_sent);
    for delivery in &received {
        assert_eq!(
            delivery.header("x-kombo-signature"),
            webhooks::sign::kombo_signature(&secret, delivery.body.as_bytes()),
            "signed with the endpoint's secret"
        );
    }
    // A link signed with the old key still opens while the key is a previous key.
    let page = app
        .send(
            Method::GET,
            &format!("/connect?token={old_link}"),
            None,
            None,
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    // Running again finds nothing; the old key can go.
    let again = keys::rotate(&*app.state.store, &app.state.vault, 3, |_| {})
        .await
        .expect("again");
    assert_eq!(again, keys::RotationReport::default());
    let mut config = app.state.config.clone();
    config.previous_master_keys.clear();
    let without_old = AppState::from_parts(config, app.state.store.clone(), Vault::new(&new))
        .await
        .expect("the new key alone opens everything");
    open_every_credential(&without_old, &integration_ids).await;
}

both_backends!(rotation_reseals_everything_while_the_server_serves);
