//! At least once, through crashes and across workers: the real binary is `kill -9`ed in the
//! middle of a burst of 5,000 events and restarted, and two workers on one PostgreSQL share
//! 5,000 events without sending any twice.

use std::{
    collections::HashMap,
    process::Stdio,
    sync::Arc,
    time::{Duration, Instant},
};

use plugboard::{AppState, config::MasterKeySource, events, vault::Vault, webhooks::worker};
use tokio::sync::watch;

use crate::{
    binary::{Binary, add_endpoint, post},
    helpers::{Backend, spawn_app_with},
    receiver::{Answer, TestReceiver},
};

/// Creates an endpoint for `url`; returns its id.
async fn endpoint_id(client: &reqwest::Client, base: &str, key: &str, url: &str) -> String {
    add_endpoint(client, base, key, url).await["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

const EVENTS: usize = 5_000;

/// The binary as these tests run it: a short webhook timeout makes the lease short, so a
/// restart resends the deliveries that were in flight at the kill within seconds; one key
/// queues thousands of events, far past its per-minute limit, on purpose.
fn binary(dir: &std::path::Path) -> Binary {
    Binary::new(
        dir,
        &[
            ("PLUGBOARD_WEBHOOK_TIMEOUT", "1s"),
            ("PLUGBOARD_WEBHOOK_ENDPOINT_CONCURRENCY", "4"),
            ("PLUGBOARD_RATE_LIMIT_API", "off"),
        ],
    )
}

/// Queues a test event through the API; returns the answer's `data`.
async fn send_test_event(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    endpoint: &str,
) -> serde_json::Value {
    post(
        client,
        &format!("{base}/v1/webhooks/{endpoint}/test"),
        key,
        None,
    )
    .await["data"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_a_burst_loses_no_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let binary = binary(dir.path());
    let key = binary.api_key();
    let receiver = TestReceiver::start().await;
    // 4 deliveries at a time, 5 ms each: the burst takes seconds, so the kill lands mid-way.
    receiver.answer(Answer::Slow(Duration::from_millis(5)));

    let mut server = binary.serve(Stdio::null()).await;
    let base = binary.base();
    let client = reqwest::Client::new();
    let endpoint = endpoint_id(&client, &base, &key, &receiver.url).await;

    // 5,000 events, 8 requests at a time.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, base, key, endpoint) =
            (client.clone(), base.clone(), key.clone(), endpoint.clone());
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for _ in 0..EVENTS / 8 {
                let queued = send_test_event(&client, &base, &key, &endpoint).await;
                ids.push(queued["event_id"].as_str().expect("event id").to_owned());
            }
            ids
        });
    }
    let mut event_ids = Vec::new();
    while let Some(ids) = tasks.join_next().await {
        event_ids.extend(ids.expect("task"));
    }
    assert_eq!(event_ids.len(), EVENTS);

    receiver.wait_for(500, Duration::from_secs(60)).await;
    server.kill().expect("kill -9");
    let _ = server.wait();
    let before_restart = receiver.received().len();
    assert!(
        before_restart < EVENTS,
        "the kill came after every delivery; nothing was tested"
    );

    let mut server = binary.serve(Stdio::null()).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let bodies = loop {
        let mut bodies: HashMap<String, Vec<String>> = HashMap::new();
        for request in receiver.received() {
            bodies
                .entry(request.header("webhook-id").to_owned())
                .or_default()
                .push(request.body.clone());
        }
        if event_ids.iter().all(|id| bodies.contains_key(id)) {
            break bodies;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {EVENTS} events arrived after the restart",
            bodies.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = server.kill();
    let _ = server.wait();
    for (id, copies) in &bodies {
        assert!(
            copies.iter().all(|body| body == &copies[0]),
            "{id}: duplicates differ"
        );
    }
    let duplicates: usize = bodies.values().map(|copies| copies.len() - 1).sum();
    eprintln!(
        "{before_restart} delivered before the kill; {duplicates} sent again after the restart"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_postgres_send_each_event_once() {
    let app = spawn_app_with(Backend::Postgres, |config| {
        config.webhooks.endpoint_concurrency = 32;
    })
    .await;
    let receiver = TestReceiver::start().await;
    let dev = app.state.environments.development.clone();
    let (endpoint, _) = app.add_webhook(&receiver.url).await;

    // A second worker: its own connection pool on the same schema, as a second process has.
    let schema = app.pg_schema.clone().expect("schema");
    let options = plugboard_store_postgres::testing::schema_options(&schema).expect("options");
    let store = plugboard_store_postgres::PostgresStore::connect_with(options)
        .await
        .expect("connect");
    let MasterKeySource::Configured(master) = &app.state.config.master_key else {
        unreachable!("tests configure the key")
    };
    let second = AppState::from_parts(
        app.state.config.clone(),
        Arc::new(store),
        Vault::new(master),
    )
    .await
    .expect("second state");
    let (stop, stopped) = watch::channel(false);
    let second_worker = tokio::spawn(worker::run(worker::Context::of(&second), async move {
        let mut stopped = stopped;
        let _ = stopped.wait_for(|stop| *stop).await;
    }));

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (state, dev, endpoint) = (app.state.clone(), dev.clone(), endpoint.clone());
        tasks.spawn(async move {
            for _ in 0..EVENTS / 8 {
                let event = events::webhook_test(&dev.id, &endpoint, chrono::Utc::now());
                state
                    .store
                    .queue_event_for_endpoint(&event, &endpoint)
                    .await
                    .expect("queue")
                    .expect("endpoint exists");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task");
    }
    receiver.wait_for(EVENTS, Duration::from_secs(120)).await;
    // Anything sent twice would arrive shortly after.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = receiver.received();
    let mut ids: Vec<&str> = received.iter().map(|r| r.header("webhook-id")).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        (received.len(), ids.len()),
        (EVENTS, EVENTS),
        "each event exactly once"
    );

    let succeeded = |state: &AppState| -> u64 {
        state
            .metrics
            .render()
            .lines()
            .find(|line| {
                line.starts_with("plugboard_webhook_attempts_total{outcome=\"succeeded\"}")
            })
            .and_then(|line| line.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0)
    };
    let (first, other) = (succeeded(&app.state), succeeded(&second));
    assert_eq!(first + other, EVENTS as u64);
    assert!(
        first > 0 && other > 0,
        "both workers took part: {first} and {other}"
    );
    let _ = stop.send(true);
    second_worker.await.expect("second worker stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_deliveries_in_flight_finish_and_records_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let binary = binary(dir.path());
    let key = binary.api_key();
    let receiver = TestReceiver::start().await;
    receiver.answer(Answer::Slow(Duration::from_millis(700)));
    let mut server = binary.serve(Stdio::null()).await;
    let base = binary.base();
    let client = reqwest::Client::new();
    let endpoint = endpoint_id(&client, &base, &key, &receiver.url).await;
    let queued = send_test_event(&client, &base, &key, &endpoint).await;
    let delivery = queued["delivery_id"].as_str().expect("delivery").to_owned();
    receiver.wait_for(1, Duration::from_secs(20)).await;
    // The request is in flight (the receiver answers after 700 ms): stop the server now.
    assert!(server.terminate().success(), "a graceful exit");

    // The attempt finished and was recorded before the process ended.
    let store = plugboard_store_sqlite::SqliteStore::open(&dir.path().join("plugboard.db"))
        .await
        .expect("open the database");
    let environments = plugboard_store::Setup::environments(&store)
        .await
        .expect("environments");
    let development = environments
        .iter()
        .find(|env| env.name == plugboard_store::EnvironmentName::Development)
        .expect("development");
    let detail = plugboard_store::Deliveries::delivery(&store, &development.id, &delivery)
        .await
        .expect("read")
        .expect("the delivery");
    assert_eq!(
        detail.delivery.status,
        plugboard_store::webhooks::DeliveryStatus::Succeeded
    );
    assert_eq!(detail.attempts.len(), 1);
    assert!(
        detail.attempts[0].duration_ms >= 600,
        "{:?}",
        detail.attempts
    );
}
