//! Webhook delivery: `bench/run webhooks` (see `docs/benchmarks.md`).
//!
//! On SQLite, then on PostgreSQL (`PLUGBOARD_BENCH_POSTGRES_URL`, default the local server's
//! `test` database, in a schema of its own that is dropped afterwards):
//!
//! 1. **Throughput.** 20,000 events are queued for one endpoint before the release server
//!    starts; the server (as a separate process, default settings) delivers them to a
//!    receiver in this process that answers `200` at once. Deliveries per second are counted
//!    from the first receipt to the last.
//! 2. **Latency.** Then events are created through the API at 100 per second for 10 seconds;
//!    each one's latency is from just before its API request (so it includes the commit) to its
//!    receipt.

use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use axum::{Router, extract::State, http::HeaderMap, routing::post};
use plugboard::{
    AppState,
    config::{Config, Database},
    vault::MasterKey,
};
use plugboard_store::EnvironmentName;

use crate::{config, start_server_with};

const BURST: usize = 20_000;
const RATE: u64 = 100;
const LATENCY_SECONDS: u64 = 10;

/// Receipts: (webhook-id, when it arrived).
type Receipts = Arc<Mutex<Vec<(String, Instant)>>>;

async fn receive(State(receipts): State<Receipts>, headers: HeaderMap) -> &'static str {
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    receipts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push((id, Instant::now()));
    "ok"
}

async fn start_receiver() -> anyhow::Result<(String, Receipts)> {
    let receipts = Receipts::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    // Answer at once: without TCP_NODELAY, a delayed ACK would stall each response.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        let _ = stream.set_nodelay(true);
    });
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(Arc::clone(&receipts));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, receipts))
}

fn count(receipts: &Receipts) -> usize {
    receipts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .len()
}

async fn wait_for(receipts: &Receipts, n: usize, limit: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    while count(receipts) < n {
        if started.elapsed() > limit {
            anyhow::bail!("only {} of {n} deliveries arrived", count(receipts));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

struct Measured {
    backend: &'static str,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or(f64::NAN)
}

async fn measure(
    binary: &Path,
    backend: &'static str,
    database: Option<String>,
) -> anyhow::Result<Measured> {
    let dir = tempfile::tempdir()?;
    let master = MasterKey::generate();
    let mut settings: Config = config(dir.path(), &master);
    // The benchmark's receiver listens on loopback.
    settings.webhooks.allow_loopback = true;
    if let Some(url) = &database {
        settings.database = Database::Postgres(url.clone());
    }
    let (url, receipts) = start_receiver().await?;
    let state = AppState::new(settings).await?;
    let (_, key) = plugboard::api_keys::create(
        &state,
        EnvironmentName::Development,
        "bench",
        &plugboard::audit::Caller::cli(),
    )
    .await?;
    let environment = state.environments.development.clone();
    let cli = plugboard::audit::Caller::cli();
    let (endpoint, _) =
        plugboard::webhooks::create_endpoint(&state, &environment, &url, None, &cli).await?;
    eprintln!("{backend}: queueing {BURST} events…");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (state, env, endpoint) = (state.clone(), environment.id.clone(), endpoint.id.clone());
        tasks.spawn(async move {
            for _ in 0..BURST / 8 {
                let event = plugboard::events::webhook_test(&env, &endpoint, chrono::Utc::now());
                state
                    .store
                    .queue_event_for_endpoint(&event, &endpoint)
                    .await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    drop(state);

    let mut env = vec![("PLUGBOARD_WEBHOOK_ALLOW_LOOPBACK", "true".to_owned())];
    if let Some(url) = &database {
        env.push(("PLUGBOARD_DATABASE_URL", url.clone()));
    }
    let server = start_server_with(binary, dir.path(), &master, &env)?;
    wait_for(&receipts, BURST, Duration::from_secs(300)).await?;
    let per_second = {
        let all = receipts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let first = all.iter().map(|(_, at)| *at).min().context("receipts")?;
        let last = all.iter().map(|(_, at)| *at).max().context("receipts")?;
        BURST as f64 / (last - first).as_secs_f64()
    };
    eprintln!(
        "{backend}: {per_second:.0} deliveries/s; now {RATE} events/s for {LATENCY_SECONDS}s…"
    );

    let client = reqwest::Client::new();
    let test_url = format!(
        "http://127.0.0.1:{}/v1/webhooks/{}/test",
        server.port, endpoint.id
    );
    let mut sent: Vec<(String, Instant)> = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(1000 / RATE));
    for _ in 0..RATE * LATENCY_SECONDS {
        ticker.tick().await;
        let started = Instant::now();
        let reply: serde_json::Value = client
            .post(&test_url)
            .bearer_auth(&key)
            .send()
            .await?
            .json()
            .await?;
        let id = reply["data"]["event_id"]
            .as_str()
            .context("event id")?
            .to_owned();
        sent.push((id, started));
    }
    wait_for(&receipts, BURST + sent.len(), Duration::from_secs(60)).await?;
    drop(server);
    let arrived: std::collections::HashMap<String, Instant> = receipts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .cloned()
        .collect();
    let mut latencies: Vec<f64> = sent
        .iter()
        .filter_map(|(id, at)| Some((arrived.get(id)?.duration_since(*at)).as_secs_f64() * 1000.0))
        .collect();
    latencies.sort_by(f64::total_cmp);
    Ok(Measured {
        backend,
        per_second,
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
    })
}

/// A fresh schema on the benchmark's PostgreSQL server; returns its URL and a drop guard.
pub(crate) async fn postgres_schema() -> anyhow::Result<Option<(String, sqlx::PgPool, String)>> {
    let base = std::env::var("PLUGBOARD_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let Ok(pool) = sqlx::PgPool::connect(&base).await else {
        eprintln!(
            "PostgreSQL at {base} is not reachable: skipping it (set PLUGBOARD_BENCH_POSTGRES_URL)"
        );
        return Ok(None);
    };
    let schema = format!("pbbench_{}", chrono::Utc::now().timestamp());
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&pool)
        .await?;
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    Ok(Some((url, pool, schema)))
}

/// Runs the benchmark on both backends and prints the results.
pub async fn run(binary: &Path) -> anyhow::Result<()> {
    let mut results = vec![measure(binary, "SQLite", None).await?];
    if let Some((url, pool, schema)) = postgres_schema().await? {
        let measured = measure(binary, "PostgreSQL", Some(url)).await;
        sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .execute(&pool)
            .await?;
        results.push(measured?);
    }
    println!(
        "\nPlugboard webhook delivery: {BURST} queued events to one loopback endpoint, then {RATE} events/s for {LATENCY_SECONDS}s"
    );
    println!(
        "{:<12} {:>14} {:>14} {:>14}",
        "backend", "deliveries/s", "p50 (ms)", "p99 (ms)"
    );
    for result in results {
        println!(
            "{:<12} {:>14.0} {:>14.2} {:>14.2}",
            result.backend, result.per_second, result.p50_ms, result.p99_ms
        );
    }
    Ok(())
}
