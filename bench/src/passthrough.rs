//! Passthrough overhead: `bench/run passthrough` (see `docs/benchmarks.md`).
//!
//! What Plugboard adds to a call is only visible next to the same call made without it, so
//! one run measures both against one fake tool:
//!
//! 1. Connects [`INTEGRATIONS`] BambooHR integrations through the real `complete_connection`
//!    path (sealed credentials) and starts the release server with BambooHR's base URL pointed
//!    at a fake tool on loopback, which answers `GET /{subdomain}/v1/employees` at once from
//!    a runtime of its own (so `wrk` blocking this process's runtime cannot slow it).
//! 2. Redeems the activation tokens and checks that one passthrough call per integration
//!    comes back with the tool's answer.
//! 3. Loads the tool directly and through `POST /v1/passthrough/bamboohr/v1` with `wrk`, at 32
//!    connections (throughput) and at 1 (latency without queueing), in alternating rounds; the
//!    best round of each counts. The fake tool counts what it answers, so a passthrough run
//!    that never reached it cannot pass for a fast one.
//!
//! On SQLite, then on PostgreSQL (`PLUGBOARD_BENCH_POSTGRES_URL`, as `bench/run webhooks`):
//! every call is written to the request log, so the backend is part of what a call costs.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use anyhow::{Context, bail};
use axum::{Router, extract::State, http::header::CONTENT_TYPE, routing::get};
use base64::Engine;
use chrono::Utc;
use plugboard::{
    AppState,
    config::Database,
    integrations::{self, Credentials},
    links::{Language, LinkClaims, LinkKind, LinkType},
    vault::MasterKey,
};
use plugboard_catalog::Category;
use plugboard_store::EnvironmentName;

use crate::{CONNECTIONS, ROUNDS, Result, config, start_server_with, wrk_with};

/// Integrations the calls go round-robin over: one alone would meet its limit of calls in
/// flight (`PLUGBOARD_PASSTHROUGH_CONCURRENCY`, 30 as Kombo's) below 32 connections.
const INTEGRATIONS: usize = 8;

/// The fake tool's whole answer.
const EMPLOYEES: &str = r#"{"data":[{"id":1}]}"#;

/// The stored API key; the direct calls send the Basic header Plugboard derives from it.
const TOOL_KEY: &str = "benchmark-secret";

async fn employees(
    State(answered): State<Arc<AtomicU64>>,
) -> ([(&'static str, &'static str); 1], &'static str) {
    answered.fetch_add(1, Ordering::Relaxed);
    ([(CONTENT_TYPE.as_str(), "application/json")], EMPLOYEES)
}

/// Starts the fake tool on a thread and runtime of its own; returns its port and its count of
/// answered requests.
fn start_tool() -> anyhow::Result<(u16, Arc<AtomicU64>)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    let answered = Arc::new(AtomicU64::new(0));
    let app = Router::new()
        .route("/{subdomain}/v1/employees", get(employees))
        .with_state(Arc::clone(&answered));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            // Answer at once: without TCP_NODELAY, a delayed ACK would stall each response.
            let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
                let _ = stream.set_nodelay(true);
            });
            let _ = axum::serve(listener, app).await;
        });
    });
    Ok((port, answered))
}

/// Creates an API key and [`INTEGRATIONS`] BambooHR integrations; returns the key and one
/// activation token per integration.
async fn prefill(
    dir: &Path,
    master: &MasterKey,
    database: Option<&str>,
) -> anyhow::Result<(String, Vec<String>)> {
    let mut settings = config(dir, master);
    if let Some(url) = database {
        settings.database = Database::Postgres(url.to_owned());
    }
    let state = AppState::new(settings).await?;
    let (_, key) = plugboard::api_keys::create(
        &state,
        EnvironmentName::Development,
        "bench",
        &plugboard::audit::Caller::cli(),
    )
    .await?;
    let env = state.environments.development.id.clone();
    let credentials: Credentials = [
        ("subdomain".to_owned(), "acme".to_owned()),
        ("api_key".to_owned(), TOOL_KEY.to_owned()),
    ]
    .into();
    let mut tokens = Vec::with_capacity(INTEGRATIONS);
    for n in 0..INTEGRATIONS {
        let claims = LinkClaims {
            jti: plugboard_store::ids::new_id(),
            env: env.clone(),
            kind: LinkKind::Connect,
            iid: None,
            cat: Category::Hris,
            tool: Some("bamboohr".to_owned()),
            renv: None,
            lang: Some(Language::En),
            typ: LinkType::Embedded,
            email: Some(format!("admin{n}@customer.example")),
            org: format!("Customer {n}"),
            oid: Some(n.to_string()),
            scope: None,
            exp: Utc::now().timestamp() + 3600,
        };
        let token = integrations::complete_connection(&state, &claims, "bamboohr", &credentials)
            .await
            .map_err(|e| anyhow::anyhow!("connecting bamboohr: {e}"))?;
        tokens.push(token);
    }
    Ok((key, tokens))
}

/// Redeems each token and checks one passthrough call per integration; returns their ids.
async fn activate(base: &str, key: &str, tokens: &[String]) -> anyhow::Result<Vec<String>> {
    let client = reqwest::Client::new();
    let mut ids = Vec::with_capacity(tokens.len());
    for token in tokens {
        let reply: serde_json::Value = client
            .get(format!("{base}/v1/connect/integration-by-token/{token}"))
            .bearer_auth(key)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = reply["data"]["id"]
            .as_str()
            .context("the integration's id")?
            .to_owned();
        let reply: serde_json::Value = client
            .post(format!("{base}/v1/passthrough/bamboohr/v1"))
            .bearer_auth(key)
            .header("x-integration-id", &id)
            .json(&serde_json::json!({"method": "GET", "path": "/employees"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let expected: serde_json::Value = serde_json::from_str(EMPLOYEES)?;
        if reply["data"]["status"] != 200 || reply["data"]["data"] != expected {
            bail!("a passthrough call did not return the fake tool's answer: {reply}");
        }
        ids.push(id);
    }
    Ok(ids)
}

/// One measured configuration.
struct Load {
    name: &'static str,
    script: &'static str,
    url: String,
    connections: usize,
    /// Whether every completed request must have reached the fake tool.
    through_plugboard: bool,
}

/// Runs the benchmark on both backends and prints the results.
pub async fn run(root: &Path, binary: &Path, seconds: u64) -> anyhow::Result<()> {
    let results = measure(root, binary, seconds, None).await?;
    report("SQLite", &results, seconds)?;
    if let Some((url, pool, schema)) = crate::webhooks::postgres_schema().await? {
        let measured = measure(root, binary, seconds, Some(url)).await;
        sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .execute(&pool)
            .await?;
        report("PostgreSQL", &measured?, seconds)?;
    }
    Ok(())
}

/// Loads the tool directly and through passthrough; returns the best round of each load.
async fn measure(
    root: &Path,
    binary: &Path,
    seconds: u64,
    database: Option<String>,
) -> anyhow::Result<Vec<Result>> {
    let dir = tempfile::tempdir()?;
    let master = MasterKey::generate();
    let (key, tokens) = prefill(dir.path(), &master, database.as_deref()).await?;
    let (tool_port, answered) = start_tool()?;
    let mut server_env = vec![(
        "PLUGBOARD_TOOL_BASE_URLS",
        format!("bamboohr=http://127.0.0.1:{tool_port}/{{subdomain}}"),
    )];
    if let Some(url) = &database {
        server_env.push(("PLUGBOARD_DATABASE_URL", url.clone()));
    }
    let server = start_server_with(binary, dir.path(), &master, &server_env)?;
    let base = format!("http://127.0.0.1:{}", server.port);
    let ids = activate(&base, &key, &tokens).await?;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{TOOL_KEY}:x"));
    let env = [
        ("API_KEY", key),
        ("INTEGRATION_IDS", ids.join(",")),
        ("TOOL_AUTHORIZATION", format!("Basic {basic}")),
    ];
    let direct = format!("http://127.0.0.1:{tool_port}/acme/v1/employees");
    let passthrough = format!("{base}/v1/passthrough/bamboohr/v1");
    let healthz = format!("{base}/healthz");
    let loads = [
        (
            CONNECTIONS,
            "tool directly",
            direct.as_str(),
            "tool-direct.lua",
        ),
        (
            CONNECTIONS,
            "passthrough",
            passthrough.as_str(),
            "passthrough.lua",
        ),
        (1, "tool directly", direct.as_str(), "tool-direct.lua"),
        (1, "passthrough", passthrough.as_str(), "passthrough.lua"),
        // Plugboard's cheapest answer: the ceiling of anything it serves on this machine.
        (CONNECTIONS, "/healthz", healthz.as_str(), "healthz.lua"),
    ]
    .map(|(connections, name, url, script)| Load {
        name,
        script,
        url: url.to_owned(),
        connections,
        through_plugboard: script == "passthrough.lua",
    });
    let backend = if database.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    eprintln!(
        "{backend}: loading the tool directly and through passthrough in {ROUNDS} alternating \
         rounds ({CONNECTIONS} connections, then 1; {seconds}s each)…"
    );
    let scripts = root.join("bench/wrk");
    let mut best: Vec<Option<Result>> = loads.iter().map(|_| None).collect();
    for _ in 0..ROUNDS {
        for (load, slot) in loads.iter().zip(best.iter_mut()) {
            let before = answered.load(Ordering::Relaxed);
            let script = scripts.join(load.script);
            let run = wrk_with(
                load.name,
                &script,
                &load.url,
                seconds,
                &env,
                load.connections,
            )?;
            let reached = answered.load(Ordering::Relaxed) - before;
            if load.through_plugboard && reached < run.requests {
                bail!(
                    "{} requests through passthrough but only {reached} reached the tool",
                    run.requests
                );
            }
            if slot
                .as_ref()
                .is_none_or(|b| run.requests_per_second > b.requests_per_second)
            {
                *slot = Some(run);
            }
        }
    }
    drop(server);
    Ok(best.into_iter().flatten().collect())
}

fn report(backend: &str, results: &[Result], seconds: u64) -> anyhow::Result<()> {
    let [direct, through, direct_one, through_one, healthz] = results else {
        bail!("expected five results");
    };
    println!(
        "\nPlugboard passthrough on {backend}: GET /employees of a fake BambooHR on loopback, \
         directly and through POST /v1/passthrough/bamboohr/v1 ({INTEGRATIONS} integrations), \
         best of {ROUNDS} rounds ({seconds}s each)"
    );
    println!(
        "{:>11} {:<14} {:>12} {:>10} {:>10} {:>8}",
        "connections", "calls", "requests/s", "p50 (ms)", "p99 (ms)", "non-2xx"
    );
    for (connections, result) in [CONNECTIONS, CONNECTIONS, 1, 1, CONNECTIONS]
        .iter()
        .zip(results)
    {
        println!(
            "{:>11} {:<14} {:>12.0} {:>10.3} {:>10.3} {:>8}",
            connections,
            result.name,
            result.requests_per_second,
            result.p50_ms,
            result.p99_ms,
            result.errors
        );
    }
    println!(
        "throughput at {CONNECTIONS} connections: passthrough {:.0} % of direct (target ≥ 50 %)",
        100.0 * through.requests_per_second / direct.requests_per_second
    );
    println!(
        "Plugboard's own /healthz reaches {:.0} % of the tool's direct throughput; passthrough \
         reaches {:.0} % of /healthz",
        100.0 * healthz.requests_per_second / direct.requests_per_second,
        100.0 * through.requests_per_second / healthz.requests_per_second
    );
    println!(
        "added p50: {:.3} ms at 1 connection (target ≤ 0.5 ms), {:.3} ms at {CONNECTIONS}",
        through_one.p50_ms - direct_one.p50_ms,
        through.p50_ms - direct.p50_ms
    );
    Ok(())
}
