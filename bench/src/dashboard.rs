//! The dashboard's pages at scale: `bench/run dashboard` (see `docs/benchmarks.md`).
//!
//! On SQLite, then on PostgreSQL (`PLUGBOARD_BENCH_POSTGRES_URL`, in a schema of its own that
//! is dropped afterwards):
//!
//! 1. **Seeds** the development environment: [`REAL`] integrations through the real
//!    `complete_connection` path (sealed credentials, so their pages open them as in
//!    production), five webhook endpoints, then [`BULK`] integrations written straight into
//!    the tables the migrations created (varied organisations, e-mail addresses, origin ids,
//!    tools, statuses, some with failing credentials), two events each (`integration-created`
//!    and `integration-state-changed`), a delivery of every event to every endpoint
//!    (1,000,000 in all; some retried, failed or pending, with their attempts) and an audit
//!    entry for every second integration. Multi-row `INSERT`s of literal values, no binding:
//!    the same text serves both backends and loads in a minute or two.
//! 2. **Measures** against the release server as a separate process, signed in as an operator
//!    (`plugboard operators create`, then the welcome form): the list page, a search by a part
//!    of an organisation's name (a different term each request, matched by about 16
//!    integrations: a search that walks the table reads all of it), a search by an exact e-mail address and the page of an
//!    integration with events and deliveries, each [`SEQUENTIAL`] times one after the other
//!    (after [`WARM_UP`] requests) and then by [`TASKS`] clients at once, with `/healthz` as
//!    the reference. Prints p50, p95 and p99.
//!
//! `PLUGBOARD_BENCH_KEEP=1` keeps the seeded SQLite database and PostgreSQL schema, to look at
//! query plans afterwards.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use base64::Engine;
use chrono::Utc;
use plugboard::{
    AppState,
    config::{Config, Database},
    integrations::{self, Credentials},
    links::{Language, LinkClaims, LinkKind, LinkType},
    vault::MasterKey,
};
use plugboard_catalog::Category;
use plugboard_store::ids::new_id;
use sqlx::Connection;

use crate::{Server, config, webhooks::postgres_schema};

/// Integrations written straight into the database.
const BULK: usize = 100_000;
/// Integrations connected through the real path; their pages are the ones measured.
const REAL: usize = 100;
/// Webhook endpoints: each event is delivered to every one.
const ENDPOINTS: usize = 5;
/// Integrations per committed transaction while seeding.
const COMMIT_EVERY: usize = 10_000;
/// Rows per `INSERT` statement.
const ROWS_PER_INSERT: usize = 500;
/// Unmeasured requests per page before the sequential ones.
const WARM_UP: usize = 200;
/// Measured sequential requests per page.
const SEQUENTIAL: usize = 500;
/// Concurrent clients.
const TASKS: usize = 4;
/// Measured requests per concurrent client.
const PER_TASK: usize = 100;

const TOOLS: [&str; 6] = [
    "personio",
    "bamboohr",
    "hibob",
    "factorial",
    "workday",
    "successfactors",
];
const FIRST: [&str; 30] = [
    "Alpen", "Baltic", "Cedar", "Delta", "Elbe", "Fjord", "Granite", "Harbor", "Iris", "Juniper",
    "Krone", "Linden", "Meridian", "Nordwind", "Orchid", "Pioneer", "Quarz", "Rhein", "Summit",
    "Tandem", "Ultra", "Vector", "Willow", "Xenon", "Yarrow", "Zenith", "Atlas", "Beacon", "Comet",
    "Dune",
];
const SECOND: [&str; 20] = [
    "Logistik",
    "Software",
    "Bau",
    "Consulting",
    "Foods",
    "Health",
    "Media",
    "Energy",
    "Retail",
    "Finance",
    "Robotics",
    "Textil",
    "Pharma",
    "Travel",
    "Labs",
    "Systems",
    "Partners",
    "Studio",
    "Mobility",
    "Analytics",
];
const CITIES: [&str; 10] = [
    "Berlin", "Hamburg", "Munich", "Vienna", "Zurich", "London", "Paris", "Madrid", "Milan", "Oslo",
];
const SUFFIXES: [&str; 8] = ["GmbH", "AG", "Ltd", "Inc", "SE", "KG", "BV", "SAS"];
const PEOPLE: [&str; 12] = [
    "anna", "ben", "clara", "david", "eva", "felix", "greta", "hugo", "ines", "jonas", "katja",
    "lukas",
];

/// A small deterministic generator (SplitMix64): the same data and requests on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The organisation of bulk integration `n`: 48,000 combinations, about two rows each.
fn organization(n: usize) -> String {
    let k = n.wrapping_mul(7919) % 48_000;
    format!(
        "{} {} {} {}",
        FIRST[k % 30],
        SECOND[(k / 30) % 20],
        CITIES[(k / 600) % 10],
        SUFFIXES[(k / 6000) % 8]
    )
}

/// The (unique) e-mail address of bulk integration `n`, some written with capitals.
fn email(n: usize) -> String {
    let k = n.wrapping_mul(7919) % 48_000;
    let person = PEOPLE[n % PEOPLE.len()];
    let domain = format!(
        "{}-{}",
        FIRST[k % 30].to_lowercase(),
        SECOND[(k / 30) % 20].to_lowercase()
    );
    if n.is_multiple_of(5) {
        let mut capital = person.to_owned();
        capital[..1].make_ascii_uppercase();
        format!("{capital}.Admin{n}@{domain}.example")
    } else {
        format!("{person}.admin{n}@{domain}.example")
    }
}

/// An SQL string literal.
fn lit(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// An SQL literal for an optional number.
fn num(value: Option<i64>) -> String {
    value.map_or_else(|| "NULL".to_owned(), |v| v.to_string())
}

/// A dedicated connection for the bulk load.
enum Db {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Db {
    async fn exec(&mut self, sql: &str) -> anyhow::Result<()> {
        match self {
            Self::Sqlite(conn) => {
                sqlx::raw_sql(sql).execute(conn).await?;
            }
            Self::Postgres(conn) => {
                sqlx::raw_sql(sql).execute(conn).await?;
            }
        }
        Ok(())
    }

    /// The `integration-created` events of the integrations connected so far: (event id,
    /// integration id, created at).
    async fn created_events(&mut self) -> anyhow::Result<Vec<(String, String, i64)>> {
        let sql = "SELECT id, integration_id, created_at FROM events \
                   WHERE event_type = 'integration-created' ORDER BY created_at";
        Ok(match self {
            Self::Sqlite(conn) => sqlx::query_as(sql).fetch_all(conn).await?,
            Self::Postgres(conn) => sqlx::query_as(sql).fetch_all(conn).await?,
        })
    }
}

/// Rows of one table waiting to be written.
struct Table {
    head: &'static str,
    rows: Vec<String>,
}

impl Table {
    fn new(head: &'static str) -> Self {
        Self {
            head,
            rows: Vec::new(),
        }
    }

    async fn flush(&mut self, db: &mut Db) -> anyhow::Result<()> {
        for chunk in self.rows.chunks(ROWS_PER_INSERT) {
            let sql = format!("{} VALUES {}", self.head, chunk.join(","));
            db.exec(&sql).await.with_context(|| self.head)?;
        }
        self.rows.clear();
        Ok(())
    }
}

/// The tables of the seed, in the order their foreign keys need.
struct Seed {
    integrations: Table,
    events: Table,
    deliveries: Table,
    attempts: Table,
    audit: Table,
    counts: [usize; 5],
}

impl Seed {
    fn new() -> Self {
        Self {
            integrations: Table::new(
                "INSERT INTO integrations (id, environment_id, tool, category, status, \
                 setup_status, end_user_email, end_user_organization_name, end_user_origin_id, \
                 scope_config_id, remote_environment, created_at, updated_at, check_due_at, \
                 failing_since)",
            ),
            events: Table::new(
                "INSERT INTO events (id, environment_id, event_type, payload, created_at, \
                 integration_id)",
            ),
            deliveries: Table::new(
                "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, environment_id, \
                 event_type, status, attempts, next_attempt_at, last_http_status, created_at, \
                 updated_at)",
            ),
            attempts: Table::new(
                "INSERT INTO webhook_attempts (delivery_id, number, started_at, duration_ms, \
                 http_status, error, response_excerpt)",
            ),
            audit: Table::new(
                "INSERT INTO audit_events (id, environment_id, action, actor, target, detail, \
                 created_at)",
            ),
            counts: [0; 5],
        }
    }

    async fn flush(&mut self, db: &mut Db) -> anyhow::Result<()> {
        for (i, table) in [
            &mut self.integrations,
            &mut self.events,
            &mut self.deliveries,
            &mut self.attempts,
            &mut self.audit,
        ]
        .into_iter()
        .enumerate()
        {
            self.counts[i] += table.rows.len();
            table.flush(db).await?;
        }
        Ok(())
    }

    /// An event about `integration` and its delivery to every endpoint.
    #[allow(clippy::too_many_arguments)]
    fn event(
        &mut self,
        rng: &mut Rng,
        environment: &str,
        endpoints: &[String],
        integration: &str,
        event_type: &str,
        at: i64,
        now: i64,
        state: Option<&str>,
    ) {
        let id = new_id();
        let data = match state {
            Some(state) => {
                format!(r#"{{"integration_id":"{integration}","state":"{state}"}}"#)
            }
            None => format!(r#"{{"id":"{integration}"}}"#),
        };
        let payload = format!(r#"{{"id":"{id}","type":"{event_type}","data":{data}}}"#);
        self.events.rows.push(format!(
            "({},{},{},{},{at},{})",
            lit(&id),
            lit(environment),
            lit(event_type),
            lit(&payload),
            lit(integration)
        ));
        self.deliveries(rng, environment, endpoints, &id, event_type, at, now);
    }

    /// Deliveries of event `event` to every endpoint: most succeeded at once, some after a
    /// retry, a few failed for good or wait for their next attempt.
    #[allow(clippy::too_many_arguments)]
    fn deliveries(
        &mut self,
        rng: &mut Rng,
        environment: &str,
        endpoints: &[String],
        event: &str,
        event_type: &str,
        at: i64,
        now: i64,
    ) {
        for endpoint in endpoints {
            let id = new_id();
            let roll = rng.below(100);
            let (status, attempts, next, last) = match roll {
                0..=92 => ("SUCCEEDED", 1, at, 200),
                93..=97 => ("SUCCEEDED", 2, at + 60_000, 200),
                98 => ("FAILED", 8, at + 86_400_000, 500),
                _ => ("PENDING", 3, now + 86_400_000, 503),
            };
            self.deliveries.rows.push(format!(
                "({},{},{},{},{},'{status}',{attempts},{next},{last},{at},{})",
                lit(&id),
                lit(event),
                lit(endpoint),
                lit(environment),
                lit(event_type),
                at + 1000
            ));
            if attempts > 1 {
                for number in 1..=attempts {
                    let ok = status == "SUCCEEDED" && number == attempts;
                    let (http, error, excerpt) = if ok {
                        ("200".to_owned(), "NULL", "'ok'")
                    } else if number % 2 == 0 {
                        ("NULL".to_owned(), "'connection refused'", "NULL")
                    } else {
                        (last.to_string(), "NULL", "'upstream unavailable'")
                    };
                    self.attempts.rows.push(format!(
                        "({},{number},{},{},{http},{error},{excerpt})",
                        lit(&id),
                        at + i64::from(number) * 60_000,
                        20 + rng.below(300)
                    ));
                }
            }
        }
    }

    fn audit(&mut self, environment: &str, integration: &str, action: &str, at: i64) {
        self.audit.rows.push(format!(
            "({},{},{},'operator:bench@example.com',{},'{{}}',{at})",
            lit(&new_id()),
            lit(environment),
            lit(action),
            lit(&format!("integration:{integration}")),
        ));
    }
}

/// What the measured pages need: the ids of the integrations connected the real way (the
/// bulk ones' addresses and organisations follow from their number).
struct Seeded {
    real: Vec<String>,
}

/// Connects [`REAL`] integrations the real way and creates the endpoints.
async fn connect_real(state: &AppState) -> anyhow::Result<Vec<String>> {
    let environment = state.environments.development.clone();
    let credentials: Credentials = [("api_key".to_owned(), "benchmark-secret".to_owned())].into();
    for n in 0..REAL {
        let claims = LinkClaims {
            jti: new_id(),
            env: environment.id.clone(),
            kind: LinkKind::Connect,
            iid: None,
            cat: Category::Hris,
            tool: None,
            renv: None,
            lang: Some(Language::En),
            typ: LinkType::Embedded,
            email: Some(format!("owner{n}@connected.example")),
            org: format!("Connected Customer {n} GmbH"),
            oid: Some(format!("connected-{n}")),
            scope: None,
            exp: Utc::now().timestamp() + 3600,
        };
        let tool = TOOLS[n % 4];
        integrations::complete_connection(state, &claims, tool, &credentials)
            .await
            .map_err(|e| anyhow::anyhow!("connecting: {e}"))?;
    }
    let cli = plugboard::audit::Caller::cli();
    let mut endpoints = Vec::new();
    for k in 0..ENDPOINTS {
        // Nothing is due for them (pending deliveries wait a day), so nothing is sent.
        let url = format!("http://127.0.0.1:9/hook-{k}");
        let (endpoint, _) =
            plugboard::webhooks::create_endpoint(state, &environment, &url, None, &cli).await?;
        endpoints.push(endpoint.id);
    }
    Ok(endpoints)
}

async fn seed(db: &mut Db, state: &AppState, endpoints: &[String]) -> anyhow::Result<Seeded> {
    let environment = state.environments.development.id.clone();
    let scope = state.environments.development.scope_config_id.clone();
    let now = Utc::now().timestamp_millis();
    let mut rng = Rng(42);
    let mut seed = Seed::new();
    let started = Instant::now();

    // The real integrations' first events get deliveries, and a state change and audit
    // entries of their own, so their pages show what a bulk integration's would.
    let real = db.created_events().await?;
    db.exec("BEGIN").await?;
    for (event, integration, at) in &real {
        seed.deliveries(
            &mut rng,
            &environment,
            endpoints,
            event,
            "integration-created",
            *at,
            now,
        );
        seed.event(
            &mut rng,
            &environment,
            endpoints,
            integration,
            "integration-state-changed",
            at + 1,
            now,
            Some("ACTIVE"),
        );
        for (i, action) in ["integration.disabled", "integration.enabled"]
            .into_iter()
            .enumerate()
        {
            seed.audit(&environment, integration, action, at + 2 + i as i64);
        }
    }
    seed.flush(db).await?;

    for n in 0..BULK {
        let tool = TOOLS[n % TOOLS.len()];
        let id = format!("{tool}:{}", new_id());
        // Five minutes apart over the last year, all older than the real ones.
        let created = now - 3_600_000 - (BULK - n) as i64 * 300_000;
        let (status, failing) = match n % 100 {
            0..=2 => ("ACTIVE", Some(created + 86_400_000)),
            3..=84 => ("ACTIVE", None),
            85..=91 => ("INVALID", None),
            _ => ("INACTIVE", None),
        };
        let origin = (!n.is_multiple_of(10)).then(|| format!("crm-{n}"));
        seed.integrations.rows.push(format!(
            "({},{},'{tool}','HRIS','{status}','COMPLETED',{},{},{},{},NULL,{created},{},{},{})",
            lit(&id),
            lit(&environment),
            lit(&email(n)),
            lit(&organization(n)),
            origin.as_deref().map_or_else(|| "NULL".to_owned(), lit),
            lit(&scope),
            created + 60_000,
            // Not due for a connection check during the run.
            now + 30 * 86_400_000 + n as i64,
            num(failing)
        ));
        seed.event(
            &mut rng,
            &environment,
            endpoints,
            &id,
            "integration-created",
            created,
            now,
            None,
        );
        seed.event(
            &mut rng,
            &environment,
            endpoints,
            &id,
            "integration-state-changed",
            created + 60_000,
            now,
            Some(status),
        );
        if n.is_multiple_of(2) {
            let action = if status == "INACTIVE" {
                "integration.disabled"
            } else {
                "integration.check-failed"
            };
            seed.audit(&environment, &id, action, created + 120_000);
        }
        if seed.integrations.rows.len() >= 1000 {
            seed.flush(db).await?;
        }
        if (n + 1).is_multiple_of(COMMIT_EVERY) {
            db.exec("COMMIT; BEGIN").await?;
            eprintln!(
                "  {} integrations seeded ({:.0}/s)",
                n + 1,
                (n + 1) as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    seed.flush(db).await?;
    db.exec("COMMIT").await?;
    let [integrations, events, deliveries, attempts, audit] = seed.counts;
    eprintln!(
        "  seeded {integrations} integrations, {events} events, {deliveries} deliveries, \
         {attempts} attempts, {audit} audit entries in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(Seeded {
        real: real.into_iter().map(|(_, id, _)| id).collect(),
    })
}

/// Starts `plugboard serve` on the seeded database, its public URL set so the sign-in form's
/// origin check passes.
fn start(
    binary: &Path,
    dir: &Path,
    master: &MasterKey,
    database: Option<&str>,
) -> anyhow::Result<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut command = Command::new(binary);
    command
        .arg("serve")
        .envs(environment(dir, master, database))
        .env("PLUGBOARD_LISTEN", format!("127.0.0.1:{port}"))
        .env("PLUGBOARD_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .stdout(Stdio::null());
    let child = command
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let server = Server { child, port };
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(server);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("the server did not start")
}

/// The environment a `plugboard` command needs to find the benchmark's database.
fn environment(dir: &Path, master: &MasterKey, database: Option<&str>) -> Vec<(String, String)> {
    let key = base64::engine::general_purpose::STANDARD.encode(master.bytes());
    let mut env = vec![
        ("PLUGBOARD_DATA_DIR".to_owned(), dir.display().to_string()),
        ("PLUGBOARD_MASTER_KEY".to_owned(), key),
        ("PLUGBOARD_LOG".to_owned(), "warn".to_owned()),
    ];
    if let Some(url) = database {
        env.push(("PLUGBOARD_DATABASE_URL".to_owned(), url.to_owned()));
    }
    env
}

/// Creates an operator with the CLI and signs in through the welcome form; returns the
/// session cookie.
async fn sign_in(
    binary: &Path,
    dir: &Path,
    master: &MasterKey,
    database: Option<&str>,
    base: &str,
) -> anyhow::Result<String> {
    let output = Command::new(binary)
        .args(["operators", "create", "--email", "bench@example.com"])
        .envs(environment(dir, master, database))
        .output()?;
    if !output.status.success() {
        bail!(
            "plugboard operators create: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stdout = String::from_utf8(output.stdout)?;
    let token = stdout
        .split_whitespace()
        .find_map(|word| word.split_once("token=").map(|(_, token)| token.to_owned()))
        .context("no sign-in link in the output of operators create")?;
    let client = client()?;
    let password = "benchmark-password-1";
    let reply = client
        .post(format!("{base}/dashboard/welcome"))
        .header("Origin", base)
        .form(&[
            ("token", token.as_str()),
            ("password", password),
            ("confirm", password),
        ])
        .send()
        .await?;
    if reply.status() != reqwest::StatusCode::SEE_OTHER {
        bail!("welcome form: {}", reply.status());
    }
    let cookie = reply
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("plugboard_session="))
        .context("no session cookie")?;
    Ok(cookie.split(';').next().unwrap_or_default().to_owned())
}

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// Which page a request loads.
#[derive(Clone, Copy)]
enum Page {
    Healthz,
    List,
    SearchOrganization,
    SearchEmail,
    Detail,
}

impl Page {
    const ALL: [Self; 5] = [
        Self::Healthz,
        Self::List,
        Self::SearchOrganization,
        Self::SearchEmail,
        Self::Detail,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Healthz => "/healthz (reference)",
            Self::List => "list (newest 50)",
            Self::SearchOrganization => "search: part of an organisation",
            Self::SearchEmail => "search: exact e-mail",
            Self::Detail => "integration's page",
        }
    }

    /// The path of request `i`, and a text the page must contain.
    fn request(self, rng: &mut Rng, real: &[String]) -> (String, Option<String>) {
        match self {
            Self::Healthz => ("/healthz".to_owned(), None),
            Self::List => ("/dashboard/development/integrations".to_owned(), None),
            Self::SearchOrganization => {
                // The end of the first word, the second and the start of the city ("ind
                // logistik ham"): about 16 integrations match, fewer than a page, so a search
                // that walks the integrations reads every one of them (the worst case).
                let name = organization(rng.below(BULK));
                let words: Vec<&str> = name.split(' ').collect();
                let from = words[0].len() - 2 - rng.below(2);
                let to = words[0].len() + words[1].len() + 2 + 3 + rng.below(2);
                let term = name[from..to.min(name.len())].to_lowercase();
                (
                    format!("/dashboard/development/integrations?q={}", encode(&term)),
                    // Fewer than a page match: the one the term came from is on it.
                    Some(name.clone()),
                )
            }
            Self::SearchEmail => {
                let address = email(rng.below(BULK));
                // Typed in another case than stored, sometimes.
                let typed = if rng.below(2) == 0 {
                    address.to_uppercase()
                } else {
                    address.clone()
                };
                (
                    format!("/dashboard/development/integrations?q={}", encode(&typed)),
                    Some(address),
                )
            }
            Self::Detail => {
                let id = &real[rng.below(real.len())];
                (
                    format!("/dashboard/development/integrations/{}", encode(id)),
                    Some("/webhooks/deliveries/".to_owned()),
                )
            }
        }
    }
}

/// Latencies of one page, in milliseconds.
struct Latencies {
    page: Page,
    sequential: Vec<f64>,
    concurrent: Vec<f64>,
}

async fn get(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    path: &str,
    expect: Option<&str>,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let reply = client
        .get(format!("{base}{path}"))
        .header("Cookie", cookie)
        .send()
        .await?;
    let status = reply.status();
    let body = reply.text().await?;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    if status != reqwest::StatusCode::OK {
        bail!("GET {path}: {status}");
    }
    if let Some(text) = expect
        && !body.contains(text)
    {
        bail!("GET {path}: the page does not show {text}");
    }
    Ok(elapsed)
}

async fn measure_page(
    page: Page,
    base: &str,
    cookie: &str,
    real: &[String],
) -> anyhow::Result<Latencies> {
    let client = client()?;
    let mut rng = Rng(7 + page as u64);
    for _ in 0..WARM_UP {
        let (path, expect) = page.request(&mut rng, real);
        get(&client, base, cookie, &path, expect.as_deref()).await?;
    }
    let mut sequential = Vec::with_capacity(SEQUENTIAL);
    for _ in 0..SEQUENTIAL {
        let (path, expect) = page.request(&mut rng, real);
        sequential.push(get(&client, base, cookie, &path, expect.as_deref()).await?);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let (base, cookie, real) = (base.to_owned(), cookie.to_owned(), real.to_vec());
        let client = client.clone();
        tasks.spawn(async move {
            let mut rng = Rng(1000 * (task as u64 + 1) + page as u64);
            let mut times = Vec::with_capacity(PER_TASK);
            for _ in 0..PER_TASK {
                let (path, expect) = page.request(&mut rng, &real);
                times.push(get(&client, &base, &cookie, &path, expect.as_deref()).await?);
            }
            anyhow::Ok(times)
        });
    }
    let mut concurrent = Vec::with_capacity(TASKS * PER_TASK);
    while let Some(done) = tasks.join_next().await {
        concurrent.extend(done??);
    }
    sequential.sort_by(f64::total_cmp);
    concurrent.sort_by(f64::total_cmp);
    Ok(Latencies {
        page,
        sequential,
        concurrent,
    })
}

async fn measure(
    binary: &Path,
    backend: &'static str,
    database: Option<String>,
) -> anyhow::Result<Vec<Latencies>> {
    let dir = tempfile::tempdir()?;
    let master = MasterKey::generate();
    let mut settings: Config = config(dir.path(), &master);
    // The endpoints' URLs are on loopback; nothing is ever due for them.
    settings.webhooks.allow_loopback = true;
    if let Some(url) = &database {
        settings.database = Database::Postgres(url.clone());
    }
    // The migrations run as the state opens the database.
    let state = AppState::new(settings).await?;
    eprintln!("{backend}: connecting {REAL} integrations the real way…");
    let endpoints = connect_real(&state).await?;
    let mut db = match &database {
        None => Db::Sqlite(
            sqlx::SqliteConnection::connect(&format!(
                "sqlite://{}",
                dir.path().join("plugboard.db").display()
            ))
            .await?,
        ),
        Some(url) => Db::Postgres(sqlx::PgConnection::connect(url).await?),
    };
    eprintln!("{backend}: seeding {BULK} integrations…");
    let seeded = seed(&mut db, &state, &endpoints).await?;
    drop(state);
    match &mut db {
        // A running server checkpoints its write-ahead log as it goes.
        Db::Sqlite(_) => db.exec("PRAGMA wal_checkpoint(TRUNCATE)").await?,
        // What autovacuum does within minutes of such a load, done before measuring so that
        // it does not run during the measurement instead.
        Db::Postgres(_) => db.exec("VACUUM ANALYZE").await?,
    }
    drop(db);

    let server = start(binary, dir.path(), &master, database.as_deref())?;
    let base = format!("http://127.0.0.1:{}", server.port);
    let cookie = sign_in(binary, dir.path(), &master, database.as_deref(), &base).await?;
    let mut results = Vec::new();
    for page in Page::ALL {
        eprintln!("{backend}: {}…", page.label());
        results.push(measure_page(page, &base, &cookie, &seeded.real).await?);
    }
    drop(server);
    if keep() {
        // For looking at query plans afterwards.
        eprintln!("{backend}: kept {}", dir.keep().display());
    }
    Ok(results)
}

/// Whether `PLUGBOARD_BENCH_KEEP` asks to keep the seeded databases.
fn keep() -> bool {
    std::env::var_os("PLUGBOARD_BENCH_KEEP").is_some()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or(f64::NAN)
}

/// Percent-encodes a query value or path segment (everything but unreserved characters).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Runs the benchmark on both backends and prints the results.
pub async fn run(binary: &Path) -> anyhow::Result<()> {
    let mut results = vec![("SQLite", measure(binary, "SQLite", None).await?)];
    if let Some((url, pool, schema)) = postgres_schema().await? {
        let measured = measure(binary, "PostgreSQL", Some(url)).await;
        if keep() {
            eprintln!("PostgreSQL: kept schema {schema}");
        } else {
            sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .execute(&pool)
                .await?;
        }
        results.push(("PostgreSQL", measured?));
    }
    println!(
        "\nPlugboard dashboard pages: {} integrations ({REAL} connected the real way), \
         {} deliveries; {SEQUENTIAL} sequential requests per page after {WARM_UP} unmeasured, \
         then {TASKS} clients × {PER_TASK}",
        BULK + REAL,
        (BULK + REAL) * 2 * ENDPOINTS
    );
    println!(
        "{:<11} {:<32} {:>9} {:>9} {:>9} {:>11} {:>11}",
        "backend", "page", "p50 ms", "p95 ms", "p99 ms", "×4 p50 ms", "×4 p99 ms"
    );
    for (backend, pages) in results {
        for latencies in pages {
            println!(
                "{:<11} {:<32} {:>9.2} {:>9.2} {:>9.2} {:>11.2} {:>11.2}",
                backend,
                latencies.page.label(),
                percentile(&latencies.sequential, 0.5),
                percentile(&latencies.sequential, 0.95),
                percentile(&latencies.sequential, 0.99),
                percentile(&latencies.concurrent, 0.5),
                percentile(&latencies.concurrent, 0.99),
            );
        }
    }
    Ok(())
}
