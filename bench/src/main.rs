//! Plugboard's API benchmark. Run it with `bench/run api` (see `docs/benchmarks.md`).
//!
//! Machines here are noisy, so it measures every endpoint in one run against one server and
//! reports throughput as a ratio of `/healthz`, the cheapest thing the server can answer:
//!
//! 1. Prefills a fresh SQLite database with 100,000 integrations through the real
//!    `complete_connection` path, keeping one unredeemed activation token per integration.
//! 2. Starts the release binary (`plugboard serve`) on it as a separate process.
//! 3. Loads `/healthz`, `create-link` and `integration-by-token` in three alternating rounds
//!    with `wrk` (the best round of each counts), each token
//!    redeemed exactly once, and prints throughput, p99 latency, ratios and idle memory.
//! 4. Refusals: the same `create-link` request refused (a key over its limit, made-up keys
//!    with and without the limit on failed authentications), each against a server with small
//!    limits, next to the served `create-link` of step 3.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::{Context, bail};
use base64::Engine;
use chrono::Utc;
use plugboard::{
    AppState,
    config::{Config, Database, MasterKeySource},
    integrations::{self, Credentials},
    links::{Language, LinkClaims, LinkKind, LinkType},
    vault::MasterKey,
};
use plugboard_catalog::Category;
use plugboard_store::EnvironmentName;

mod dashboard;
mod passthrough;
mod webhooks;

const WRK_THREADS: usize = 2;
const CONNECTIONS: usize = 32;
/// How many times each endpoint is loaded, alternating; the best round counts.
const ROUNDS: usize = 3;

/// Which benchmark to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Benchmark {
    /// API throughput ratios.
    Api,
    /// The hosted flow's page weight and response times.
    Flow,
    /// Webhook delivery throughput and latency on SQLite and PostgreSQL.
    Webhooks,
    /// What passthrough adds to a call of a fake tool that answers at once.
    Passthrough,
    /// The dashboard's integration pages over 100,000 integrations and 1,000,000 deliveries.
    Dashboard,
}

struct Options {
    benchmark: Benchmark,
    integrations: usize,
    seconds: u64,
}

fn parse_options() -> anyhow::Result<Options> {
    let mut args = std::env::args().skip(1);
    let benchmark = match args.next().as_deref() {
        Some("api") => Benchmark::Api,
        Some("flow") => Benchmark::Flow,
        Some("webhooks") => Benchmark::Webhooks,
        Some("passthrough") => Benchmark::Passthrough,
        Some("dashboard") => Benchmark::Dashboard,
        _ => bail!(
            "usage: plugboard-bench api|flow|webhooks|passthrough|dashboard [--integrations N] [--seconds S]"
        ),
    };
    let mut options = Options {
        benchmark,
        integrations: 100_000,
        seconds: 5,
    };
    while let Some(flag) = args.next() {
        let value = args.next().context("every flag takes a value")?;
        match flag.as_str() {
            "--integrations" => options.integrations = value.parse()?,
            "--seconds" => options.seconds = value.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(options)
}

fn config(dir: &Path, master: &MasterKey) -> Config {
    let listen = "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!());
    Config {
        listen,
        data_dir: dir.to_path_buf(),
        database: Database::Sqlite(dir.join("plugboard.db")),
        public_url: "http://127.0.0.1:1"
            .parse()
            .unwrap_or_else(|_| unreachable!()),
        master_key: MasterKeySource::Configured(master.clone()),
        log: "warn".into(),
        ..Config::defaults()
    }
}

/// Creates `count` integrations and returns one fresh activation token for each, and a key.
async fn prefill(
    dir: &Path,
    master: &MasterKey,
    count: usize,
) -> anyhow::Result<(Vec<String>, String)> {
    let state = AppState::new(config(dir, master)).await?;
    let (_, key) = plugboard::api_keys::create(
        &state,
        EnvironmentName::Development,
        "bench",
        &plugboard::audit::Caller::cli(),
    )
    .await?;
    let env = state.environments.development.id.clone();
    let credentials: Credentials = [("api_key".to_owned(), "benchmark-secret".to_owned())].into();
    let mut tokens = Vec::with_capacity(count);
    let started = std::time::Instant::now();
    for n in 0..count {
        let now = Utc::now().timestamp();
        let claims = LinkClaims {
            jti: plugboard_store::ids::new_id(),
            env: env.clone(),
            kind: LinkKind::Connect,
            iid: None,
            cat: Category::Hris,
            tool: None,
            renv: None,
            lang: Some(Language::En),
            typ: LinkType::Embedded,
            email: Some(format!("admin{n}@customer.example")),
            org: format!("Customer {n}"),
            oid: Some(n.to_string()),
            scope: None,
            exp: now + 3600,
        };
        let tool = ["personio", "bamboohr", "hibob", "factorial"][n % 4];
        let token = integrations::complete_connection(&state, &claims, tool, &credentials)
            .await
            .map_err(|e| anyhow::anyhow!("prefill: {e}"))?;
        tokens.push(token);
        if (n + 1) % 20_000 == 0 {
            eprintln!(
                "  prefilled {} integrations ({:.0}/s)",
                n + 1,
                (n + 1) as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    Ok((tokens, key))
}

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(binary: &Path, dir: &Path, master: &MasterKey) -> anyhow::Result<Server> {
    start_server_with(binary, dir, master, &[])
}

/// Starts `plugboard serve` on `dir` with `env` added to its environment.
fn start_server_with(
    binary: &Path,
    dir: &Path,
    master: &MasterKey,
    env: &[(&str, String)],
) -> anyhow::Result<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let key = base64::engine::general_purpose::STANDARD.encode(master.bytes());
    let child = Command::new(binary)
        .arg("serve")
        .env("PLUGBOARD_DATA_DIR", dir)
        .env("PLUGBOARD_LISTEN", format!("127.0.0.1:{port}"))
        .env("PLUGBOARD_MASTER_KEY", key)
        .env("PLUGBOARD_LOG", "warn")
        // The benchmarks drive one API key far past any sensible per-key limit on purpose.
        .env("PLUGBOARD_RATE_LIMIT_API", "off")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let server = Server { child, port };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(server);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("the server did not start")
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("VmRSS value")?
        .parse()?)
}

struct Result {
    name: &'static str,
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    /// Requests completed in the run.
    requests: u64,
}

fn parse_millis(text: &str) -> Option<f64> {
    let (number, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic())?);
    let value: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        _ => return None,
    })
}

fn wrk(
    name: &'static str,
    script: &Path,
    url: &str,
    seconds: u64,
    env: &[(&str, String)],
) -> anyhow::Result<Result> {
    wrk_with(name, script, url, seconds, env, CONNECTIONS)
}

fn wrk_with(
    name: &'static str,
    script: &Path,
    url: &str,
    seconds: u64,
    env: &[(&str, String)],
    connections: usize,
) -> anyhow::Result<Result> {
    let threads = WRK_THREADS.min(connections);
    let output = Command::new("wrk")
        .args([
            "--latency",
            "-t",
            &threads.to_string(),
            "-c",
            &connections.to_string(),
        ])
        .args(["-d", &format!("{seconds}s"), "-s"])
        .arg(script)
        .arg(url)
        .env("WRK_THREADS", threads.to_string())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .context("running wrk (install it: apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "wrk failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
    };
    let requests_per_second = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .context("no Requests/sec")?;
    let p50_ms = field("50%").and_then(parse_millis).context("no p50")?;
    let p99_ms = field("99%").and_then(parse_millis).context("no p99")?;
    let errors = field("Non-2xx or 3xx responses:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // "123456 requests in 10.00s, 12.34MB read"
    let requests = text
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.parse().ok())
        .context("no request count")?;
    Ok(Result {
        name,
        requests_per_second,
        p50_ms,
        p99_ms,
        errors,
        requests,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = parse_options()?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let binary = root.join("target/release/plugboard");
    if !binary.exists() {
        bail!("build the server first: cargo build --release -p plugboard (bench/run does)");
    }
    match options.benchmark {
        Benchmark::Api => api(&options, &root, &binary).await,
        Benchmark::Flow => flow(&options, &root, &binary).await,
        Benchmark::Webhooks => webhooks::run(&binary).await,
        Benchmark::Passthrough => passthrough::run(&root, &binary, options.seconds).await,
        Benchmark::Dashboard => dashboard::run(&binary).await,
    }
}

/// A GET with the standard library: the flow benchmark needs a handful of single requests.
fn http_get(port: u16, path: &str) -> anyhow::Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").context("HTTP response")?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        bail!("GET {path}: {}", head.lines().next().unwrap_or_default());
    }
    Ok(body.to_owned())
}

/// Page weight and response time of each step of the hosted flow.
async fn flow(options: &Options, root: &Path, binary: &Path) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let master = MasterKey::generate();
    let state = AppState::new(config(dir.path(), &master)).await?;
    let (_, key) = plugboard::api_keys::create(
        &state,
        EnvironmentName::Development,
        "bench",
        &plugboard::audit::Caller::cli(),
    )
    .await?;
    drop(state);
    let server = start_server(binary, dir.path(), &master)?;
    let port = server.port;
    let link = {
        use std::io::{Read, Write};
        let body =
            r#"{"end_user_email":"admin@acme.example","end_user_organization_name":"Acme, Inc."}"#;
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
        write!(
            stream,
            "POST /v1/connect/create-link HTTP/1.0\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let start = response
            .find("/connect?token=")
            .context("link in the response")?;
        response[start..]
            .split('"')
            .next()
            .context("link")?
            .to_owned()
    };
    let picker = http_get(port, &link)?;
    let assets: Vec<String> = picker
        .split(['"', '\''])
        .filter(|part| part.starts_with("/connect/assets/"))
        .map(str::to_owned)
        .collect();
    let mut first_screen = picker.len();
    for asset in &assets {
        first_screen += http_get(port, asset)?.len();
    }
    let external = ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| picker.split(attribute).skip(1))
        .filter_map(|rest| rest.split('"').next())
        .filter(|url| {
            !url.starts_with('/') && !url.starts_with(&format!("http://127.0.0.1:{port}"))
        })
        .count();
    println!(
        "\nPlugboard hosted flow: first screen {first_screen} bytes (HTML {} + {} assets), {external} references to other origins",
        picker.len(),
        assets.len()
    );
    let script = root.join("bench/wrk/healthz.lua");
    let steps: [(&str, String); 4] = [
        ("picker", link.clone()),
        ("consent", format!("{link}&tool=sandbox")),
        ("guide", format!("{link}&tool=sandbox&step=guide")),
        (
            "credentials",
            format!("{link}&tool=sandbox&step=credentials"),
        ),
    ];
    println!(
        "{:<14} {:>12} {:>10} {:>10}",
        "step", "requests/s", "p50 (ms)", "p99 (ms)"
    );
    for (name, path) in steps {
        // Few connections: this measures rendering latency, not the machine's saturation point.
        let url = format!("http://127.0.0.1:{port}{path}");
        let result = wrk_with("step", &script, &url, options.seconds.min(5), &[], 2)?;
        println!(
            "{name:<14} {:>12.0} {:>10.2} {:>10.2}",
            result.requests_per_second, result.p50_ms, result.p99_ms
        );
    }
    drop(server);
    Ok(())
}

async fn api(options: &Options, root: &Path, binary: &Path) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let master = MasterKey::generate();
    eprintln!("Prefilling {} integrations…", options.integrations);
    let (tokens, key) = prefill(dir.path(), &master, options.integrations).await?;
    let tokens_file = dir.path().join("tokens.txt");
    std::fs::File::create(&tokens_file)?.write_all((tokens.join("\n") + "\n").as_bytes())?;

    let server = start_server(binary, dir.path(), &master)?;
    std::thread::sleep(Duration::from_secs(1));
    let idle_rss = rss_kib(server.child.id())?;
    let base = format!("http://127.0.0.1:{}", server.port);
    let scripts = root.join("bench/wrk");
    let env = [
        ("API_KEY", key.clone()),
        ("TOKENS_FILE", tokens_file.display().to_string()),
    ];
    eprintln!(
        "Loading each endpoint in {ROUNDS} alternating rounds with wrk ({WRK_THREADS} threads, \
         {CONNECTIONS} connections)…"
    );
    // Rounds alternate the endpoints so that a burst of noise from elsewhere on the machine
    // hits one round, not one endpoint; each endpoint's best round is reported.
    let mut best: [Option<Result>; 3] = [None, None, None];
    let tokens_per_round = (options.integrations / ROUNDS) as u64;
    let mut exhausted = false;
    for round in 0..ROUNDS {
        let mut env = env.to_vec();
        env.push(("ROUND", round.to_string()));
        env.push(("ROUNDS", ROUNDS.to_string()));
        let runs = [
            wrk(
                "/healthz",
                &scripts.join("healthz.lua"),
                &format!("{base}/healthz"),
                options.seconds,
                &env,
            )?,
            wrk(
                "create-link",
                &scripts.join("create-link.lua"),
                &format!("{base}/v1/connect/create-link"),
                options.seconds,
                &env,
            )?,
            // A short run: a round has only a third of the tokens.
            wrk(
                "integration-by-token",
                &scripts.join("integration-by-token.lua"),
                &base,
                1,
                &env,
            )?,
        ];
        exhausted |= runs[2].requests >= tokens_per_round;
        for (slot, run) in best.iter_mut().zip(runs) {
            if slot
                .as_ref()
                .is_none_or(|b| run.requests_per_second > b.requests_per_second)
            {
                *slot = Some(run);
            }
        }
    }
    let results = best.map(|r| r.unwrap_or_else(|| unreachable!("ROUNDS > 0")));
    let loaded_rss = rss_kib(server.child.id())?;
    drop(server);

    let baseline = results[0].requests_per_second;
    println!(
        "\nPlugboard API benchmark: SQLite, {} prefilled integrations, best of {ROUNDS} rounds \
         ({}s per endpoint; 1s for integration-by-token)",
        options.integrations, options.seconds
    );
    println!(
        "{:<22} {:>12} {:>10} {:>14} {:>8}",
        "endpoint", "requests/s", "p99 (ms)", "vs /healthz", "errors"
    );
    for result in &results {
        println!(
            "{:<22} {:>12.0} {:>10.2} {:>13.0}% {:>8}",
            result.name,
            result.requests_per_second,
            result.p99_ms,
            100.0 * result.requests_per_second / baseline,
            result.errors
        );
    }
    println!(
        "idle RSS {:.1} MiB, after load {:.1} MiB",
        idle_rss as f64 / 1024.0,
        loaded_rss as f64 / 1024.0
    );
    if exhausted {
        println!(
            "note: a round used up its {tokens_per_round} tokens before its second ended, so \
             integration-by-token is a lower bound; prefill more with --integrations"
        );
    }
    refusals(
        options,
        binary,
        dir.path(),
        &master,
        &key,
        &scripts,
        &results[1],
    )
}

/// The path of the create-link endpoint.
const CREATE_LINK: &str = "/v1/connect/create-link";

/// The body `create-link.lua` and `made-up-keys.lua` send.
const CREATE_LINK_BODY: &str = r#"{"end_user_email":"admin@acme.example","end_user_organization_name":"Acme, Inc.","end_user_origin_id":"36123","integration_category":"HRIS","language":"en","enable_filtering":false,"enable_field_mapping":false,"link_type":"EMBEDDED"}"#;

/// The status of one `create-link` with `key`.
fn create_link_status(port: u16, key: &str) -> anyhow::Result<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    write!(
        stream,
        "POST /v1/connect/create-link HTTP/1.0\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{CREATE_LINK_BODY}",
        CREATE_LINK_BODY.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    response
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .context("an HTTP status line")
}

/// Loads `/healthz` and each of `runs` (name, script, path, API key) against `server` in
/// alternating rounds; returns the best `/healthz` and the best of each run.
fn refusal_rounds(
    options: &Options,
    server: &Server,
    scripts: &Path,
    runs: &[(&'static str, &str, &str, &str)],
) -> anyhow::Result<(Result, Vec<Result>)> {
    let base = format!("http://127.0.0.1:{}", server.port);
    let mut healthz: Option<Result> = None;
    let mut best: Vec<Option<Result>> = runs.iter().map(|_| None).collect();
    let better = |slot: &Option<Result>, run: &Result| {
        slot.as_ref()
            .is_none_or(|b| run.requests_per_second > b.requests_per_second)
    };
    for _ in 0..ROUNDS {
        let run = wrk(
            "/healthz",
            &scripts.join("healthz.lua"),
            &format!("{base}/healthz"),
            options.seconds,
            &[],
        )?;
        if better(&healthz, &run) {
            healthz = Some(run);
        }
        for ((name, script, path, key), slot) in runs.iter().zip(best.iter_mut()) {
            let run = wrk(
                name,
                &scripts.join(script),
                &format!("{base}{path}"),
                options.seconds,
                &[("API_KEY", (*key).to_owned())],
            )?;
            if better(slot, &run) {
                *slot = Some(run);
            }
        }
    }
    let healthz = healthz.unwrap_or_else(|| unreachable!("ROUNDS > 0"));
    Ok((healthz, best.into_iter().flatten().collect()))
}

/// What a refused request costs next to a served `create-link`: an API key over its limit, a
/// flood of made-up keys with the failed-authentication limit off (each a hash and a database
/// read) and on (refused by address before the key is read). Each kind runs against a server
/// of its own with small limits, alternating with `/healthz` on that server.
fn refusals(
    options: &Options,
    binary: &Path,
    dir: &Path,
    master: &MasterKey,
    key: &str,
    scripts: &Path,
    served: &Result,
) -> anyhow::Result<()> {
    eprintln!("Refusals: the same create-link request, refused…");
    let made_up = "pb_dev_madeupmadeupmadeupmadeupmadeupmadeup0";
    let mut rows = Vec::new();
    {
        // One request a minute per key, no limit on failed authentications: the key's second
        // request is refused, and made-up keys are answered 401 after a lookup.
        let server = start_server_with(
            binary,
            dir,
            master,
            &[
                ("PLUGBOARD_RATE_LIMIT_API", "1".into()),
                ("PLUGBOARD_RATE_LIMIT_AUTH", "off".into()),
            ],
        )?;
        let first = create_link_status(server.port, key)?;
        let second = create_link_status(server.port, key)?;
        let unknown = create_link_status(server.port, made_up)?;
        if (first, second, unknown) != (200, 429, 401) {
            bail!(
                "expected 200, 429, 401 before the refusal rounds, got {first}, {second}, {unknown}"
            );
        }
        let (healthz, runs) = refusal_rounds(
            options,
            &server,
            scripts,
            &[
                (
                    "429 key over its limit",
                    "create-link.lua",
                    CREATE_LINK,
                    key,
                ),
                // The same refusal without a body: a POST refused before its body is read
                // closes the connection (`listener::close_if_body_unread`), a GET does not.
                (
                    "429 key over limit, GET",
                    "check-api-key.lua",
                    "/v1/check-api-key",
                    key,
                ),
                (
                    "401 made-up keys, no limit",
                    "made-up-keys.lua",
                    CREATE_LINK,
                    "",
                ),
            ],
        )?;
        rows.extend(
            runs.into_iter()
                .map(|run| (run, healthz.requests_per_second)),
        );
    }
    {
        // One failed authentication a minute per address: after one made-up key, this client's
        // address is refused before any key is read.
        let server = start_server_with(
            binary,
            dir,
            master,
            &[("PLUGBOARD_RATE_LIMIT_AUTH", "1".into())],
        )?;
        let first = create_link_status(server.port, made_up)?;
        let second = create_link_status(server.port, made_up)?;
        if (first, second) != (401, 429) {
            bail!("expected 401, 429 before the refusal rounds, got {first}, {second}");
        }
        let (healthz, runs) = refusal_rounds(
            options,
            &server,
            scripts,
            &[(
                "429 made-up keys, limited",
                "made-up-keys.lua",
                CREATE_LINK,
                "",
            )],
        )?;
        rows.extend(
            runs.into_iter()
                .map(|run| (run, healthz.requests_per_second)),
        );
    }
    println!(
        "\nRefusals: the create-link request refused, best of {ROUNDS} rounds against a server of \
         their own ({}s each); served create-link above: {:.0} requests/s",
        options.seconds, served.requests_per_second
    );
    println!(
        "{:<28} {:>12} {:>10} {:>16} {:>12} {:>10}",
        "refusal", "requests/s", "p99 (ms)", "vs create-link", "vs /healthz", "non-2xx"
    );
    for (run, healthz) in &rows {
        println!(
            "{:<28} {:>12.0} {:>10.2} {:>15.0}% {:>11.0}% {:>10}",
            run.name,
            run.requests_per_second,
            run.p99_ms,
            100.0 * run.requests_per_second / served.requests_per_second,
            100.0 * run.requests_per_second / healthz,
            run.errors
        );
    }
    Ok(())
}
