//! Plugboard: a self-hosted Connect service, wire-compatible with the Kombo Connect API.
//!
//! The binary (`main.rs`) only parses the command line; everything else is here so tests can
//! build the application, bind port 0 and stop it cleanly. See `ARCHITECTURE.md` for the map.

use std::{future::Future, ops::Deref, sync::Arc};

use anyhow::Context;
use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    http::{HeaderValue, Uri, header},
    middleware,
    response::{IntoResponse, Response},
};
use plugboard_catalog::Catalog;
use plugboard_store::{Environment, EnvironmentName, Store};
use tokio::net::TcpListener;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::{
        CompressionLayer,
        predicate::{DefaultPredicate, NotForContentType, Predicate},
    },
    set_header::SetResponseHeaderLayer,
    timeout::RequestBodyTimeoutLayer,
    trace::TraceLayer,
};

pub mod api;
pub mod api_keys;
pub(crate) mod assets;
pub mod audit;
pub mod branding;
pub mod checks;
pub mod cli;
pub mod config;
pub(crate) mod dashboard;
pub mod demo;
pub mod error;
pub mod events;
pub mod extract;
pub(crate) mod files;
pub(crate) mod flow;
pub(crate) mod health;
pub mod integrations;
pub mod keys;
pub mod links;
pub(crate) mod listener;
pub(crate) mod metrics;
pub mod net;
pub mod oauth;
pub mod oidc;
pub mod openapi;
pub mod operators;
pub(crate) mod ops;
pub mod passthrough;
pub(crate) mod ratelimit;
pub mod retention;
pub(crate) mod sandbox;
pub mod sdk;
pub mod settings;
pub mod tokens;
pub(crate) mod tool_auth;
pub(crate) mod tools;
pub mod vault;
pub mod webhooks;

use crate::{
    config::{Config, Database, MasterKeySource},
    error::ApiError,
    metrics::Metrics,
    vault::{MasterKey, Vault},
};

/// Locks a mutex that guards plain in-memory bookkeeping (counters, lists): a panic while it was
/// held cannot leave such data inconsistent, so a poisoned lock is used as it is.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Reads a lock that guards plain in-memory data (see [`lock`]).
pub(crate) fn lock_read<T>(lock: &std::sync::RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Writes a lock that guards plain in-memory data (see [`lock`]).
pub(crate) fn lock_write<T>(lock: &std::sync::RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The two environments, loaded once at start-up (they never change).
#[derive(Debug, Clone)]
pub struct Environments {
    /// Production.
    pub production: Environment,
    /// Development.
    pub development: Environment,
}

impl Environments {
    /// The environment called `name`.
    pub fn get(&self, name: EnvironmentName) -> &Environment {
        match name {
            EnvironmentName::Production => &self.production,
            EnvironmentName::Development => &self.development,
        }
    }

    /// The environment with this id.
    pub fn by_id(&self, id: &str) -> Option<&Environment> {
        [&self.production, &self.development]
            .into_iter()
            .find(|env| env.id == id)
    }
}

/// Everything a request handler may need. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<AppInner>);

/// The contents of [`AppState`].
pub struct AppInner {
    /// Validated configuration.
    pub config: Config,
    /// The database.
    pub store: Arc<dyn Store>,
    /// The tool catalog.
    pub catalog: Catalog,
    /// Sealing and signing keys.
    pub vault: Arc<Vault>,
    /// The two environments.
    pub environments: Environments,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// The hosted flow's credential verifier, and which views it already audited.
    pub flow: flow::FlowState,
    /// Rate limits (`ratelimit.rs`), pruned every minute by a task that ends with the state.
    pub limits: Arc<ratelimit::RateLimits>,
    /// Whether the database answered the last health probe (`health.rs`).
    pub database_up: tokio::sync::watch::Receiver<bool>,
    /// Recently authenticated API keys (`api_keys.rs`).
    pub(crate) api_keys: api_keys::KeyCache,
    /// Passthrough's clients, caches, limits and request log writer (`passthrough/`).
    pub passthrough: passthrough::Passthrough,
    /// Wakes this process's connection checker when a check is brought forward (`checks.rs`).
    pub check_wake: Arc<tokio::sync::Notify>,
    /// OAuth access tokens handed out by this process, and the single-flight refresh locks
    /// (`oauth/tokens.rs`).
    pub oauth_tokens: oauth::tokens::Tokens,
    /// The environment settings operators saved in the dashboard, reloaded every few
    /// seconds (`settings.rs`).
    pub settings: Arc<settings::Settings>,
    /// The identity provider's metadata for operators' OpenID Connect sign-in (`oidc.rs`).
    pub oidc: oidc::Oidc,
}

impl std::fmt::Debug for AppInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppInner")
            .field("config", &self.config)
            .field("vault", &self.vault)
            .finish_non_exhaustive()
    }
}

impl Deref for AppState {
    type Target = AppInner;

    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// Opens the configured database (creating the SQLite file and its directory if needed).
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match &config.database {
        Database::Sqlite(path) => {
            // The directory 0700, the database and its WAL files 0600 (`files.rs`).
            files::prepare_sqlite(path, &config.data_dir)?;
            let store = plugboard_store_sqlite::SqliteStore::open(path)
                .await
                .with_context(|| format!("opening SQLite database {}", path.display()))?;
            files::tighten_sqlite(path)?;
            Arc::new(store)
        }
        Database::Postgres(url) => {
            let store = plugboard_store_postgres::PostgresStore::connect(url)
                .await
                .context("connecting to PostgreSQL (PLUGBOARD_DATABASE_URL)")?;
            Arc::new(store)
        }
    })
}

/// Reads the master key, generating one into the data directory on first start.
pub fn master_key(config: &Config) -> anyhow::Result<MasterKey> {
    match &config.master_key {
        MasterKeySource::Configured(key) => Ok(key.clone()),
        MasterKeySource::DataDir(path) => {
            if let Some(dir) = path.parent() {
                files::ensure_dir(dir, dir == config.data_dir)?;
            }
            files::tighten_file(path)?;
            let (key, created) = MasterKey::load_or_generate(path)
                .with_context(|| format!("reading master key {}", path.display()))?;
            if created {
                tracing::warn!(
                    path = %path.display(),
                    "\n\n  !!! Generated a new master key at {path}.\n  \
                     !!! It encrypts every stored credential: back it up, or set PLUGBOARD_MASTER_KEY.\n  \
                     !!! Production deployments must set PLUGBOARD_MASTER_KEY explicitly.\n",
                    path = path.display()
                );
            }
            Ok(key)
        }
    }
}

impl AppState {
    /// Opens the database, applies migrations, and checks that the master key can open the
    /// data already stored.
    pub async fn new(config: Config) -> anyhow::Result<Self> {
        let store = open_store(&config).await?;
        store
            .migrate()
            .await
            .context("applying database migrations")?;
        let vault = Vault::with_previous(&master_key(&config)?, &config.previous_master_keys);
        Self::from_parts(config, store, vault).await
    }

    /// Assembles the state from an opened, migrated store.
    pub async fn from_parts(
        config: Config,
        store: Arc<dyn Store>,
        vault: Vault,
    ) -> anyhow::Result<Self> {
        let unknown: Vec<String> = store
            .sealing_key_ids()
            .await?
            .into_iter()
            .filter(|id| !vault.knows(id))
            .collect();
        if !unknown.is_empty() {
            anyhow::bail!(
                "stored credentials were sealed with master key id(s) {}, but the configured master key has id {} \
                 and none of the previous keys match: \
                 set PLUGBOARD_MASTER_KEY to the key this data was created with, or list the \
                 old key in PLUGBOARD_PREVIOUS_MASTER_KEYS and run `plugboard keys rotate`",
                unknown.join(", "),
                vault.key_id()
            );
        }
        let mut production = None;
        let mut development = None;
        for env in store.environments().await? {
            match env.name {
                EnvironmentName::Production => production = Some(env),
                EnvironmentName::Development => development = Some(env),
            }
        }
        let environments = Environments {
            production: production
                .context("the production environment is missing; run `plugboard migrate`")?,
            development: development
                .context("the development environment is missing; run `plugboard migrate`")?,
        };
        let mut catalog = Catalog::builtin().context("loading the tool catalog")?;
        if let Some(dir) = &config.brand.tool_logos_dir {
            catalog
                .load_logo_overrides(dir)
                .context("PLUGBOARD_TOOL_LOGOS_DIR")?;
        }
        let flow = flow::FlowState::new(&config);
        let limits = Arc::new(ratelimit::RateLimits::new(&config));
        ratelimit::spawn_pruning(&limits, ratelimit::PRUNE_EVERY);
        let database_up = health::watch(store.clone());
        let settings = Arc::new(
            settings::Settings::load(store.as_ref())
                .await
                .context("reading the environment settings")?,
        );
        let passthrough = passthrough::Passthrough::new(
            &config.passthrough,
            config.tool_base_urls.clone(),
            store.clone(),
        );
        let state = Self(Arc::new(AppInner {
            config,
            store,
            catalog,
            vault: Arc::new(vault),
            environments,
            metrics: Arc::new(Metrics::new()),
            flow,
            limits,
            database_up,
            api_keys: api_keys::KeyCache::default(),
            passthrough,
            check_wake: Arc::default(),
            oauth_tokens: oauth::tokens::Tokens::default(),
            settings,
            oidc: oidc::Oidc::default(),
        }));
        settings::spawn_reloading(&state);
        Ok(state)
    }
}

async fn route_not_found(uri: Uri) -> ApiError {
    let path: String = uri.path().chars().take(200).collect();
    ApiError::NotFound(format!(
        "There is no endpoint at {path}. The API lives under /v1."
    ))
}

async fn method_not_allowed(uri: Uri) -> ApiError {
    let path: String = uri.path().chars().take(200).collect();
    ApiError::MethodNotAllowed(format!("{path} does not support this HTTP method."))
}

/// The policy of every response that sets none of its own: nothing may load, run or frame it.
/// The flow, the demo page and the tool images set policies fitted to them.
const DEFAULT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Security headers on every response, unless the handler chose its own: a locked-down CSP,
/// no referrer, and HSTS when Plugboard is served over HTTPS.
async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(DEFAULT_CSP));
    headers
        .entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("no-referrer"));
    if state.config.public_url.scheme() == "https" {
        headers
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static(
                "max-age=31536000; includeSubDomains",
            ));
    }
    response
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    // The panic message is printed by the panic hook; the client gets the opaque envelope.
    ApiError::Internal.into_response()
}

/// gzip or brotli (quality 4, cheap) for every text response of 32 bytes or more that the
/// client accepts compressed: the flow's pages repeat the link token many times, and its CSS and
/// JS are sent to every end user. Images (other than SVG) and the SDK's npm tarball are
/// compressed already.
fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new().compress_when(
        DefaultPredicate::new().and(NotForContentType::const_new("application/gzip")),
    )
}

/// The complete HTTP application.
pub fn app(state: AppState) -> Router {
    app_with(state, None)
}

/// The application, with the demo customer app at `/` when `demo` is given.
pub fn app_with(state: AppState, demo: Option<Arc<demo::Demo>>) -> Router {
    // Spans name the route template, never the raw path: raw paths carry activation tokens.
    let trace = TraceLayer::new_for_http().make_span_with(|request: &Request| {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", MatchedPath::as_str);
        tracing::info_span!("request", method = %request.method(), route)
    });
    let api =
        api::router().route_layer(middleware::from_fn_with_state(state.clone(), health::guard));
    let mut router = Router::new()
        .merge(api)
        .merge(ops::router())
        .merge(flow::router())
        .merge(dashboard::router_with(&state))
        .merge(sdk::router())
        .merge(sandbox::router());
    router = match demo {
        Some(demo) => router.merge(demo::router(demo)),
        None => router.merge(ops::home_router()),
    };
    router
        .route_layer(trace)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        .layer(middleware::from_fn(listener::close_if_body_unread))
        // A client that stalls mid-body is cut off instead of holding its connection (outside
        // the layer above, so its draining is bounded too).
        .layer(RequestBodyTimeoutLayer::new(state.config.http.body_timeout))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(compression())
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let http = state.config.http.clone();
    let trusted = state.config.trusted_proxies.clone();
    listener::serve(app(state), listener, &http, trusted, shutdown)
        .await
        .context("serving HTTP")
}

/// Builds the application from `config` and serves it on `listener`, with the webhook worker
/// beside it, until `shutdown`. Then HTTP requests in flight finish, then webhook deliveries in
/// flight finish and are recorded.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_with(config, listener, shutdown, false).await
}

/// [`run`], with the demo customer app (`plugboard serve --demo`) when `demo` is set.
pub async fn run_with(
    mut config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    demo: bool,
) -> anyhow::Result<()> {
    if demo {
        // The demo's own webhook inbox is on loopback; `--demo` is for a developer's machine.
        config.webhooks.allow_loopback = true;
    }
    let state = AppState::new(config).await?;
    flow::warn_about_framing(&state.config);
    let demo = if demo {
        Some(demo::prepare(&state, listener.local_addr()?).await?)
    } else {
        None
    };
    tracing::info!(
        address = %listener.local_addr()?,
        public_url = %state.config.public_url,
        "Plugboard is listening"
    );
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let worker_context = webhooks::worker::Context::of(&state);
    let mut checks_stopped = stopped.clone();
    let worker = tokio::spawn(webhooks::worker::run(worker_context, async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    }));
    let mut retention_stopped = checks_stopped.clone();
    let checker = tokio::spawn(checks::run(checks::Context::of(&state), async move {
        let _ = checks_stopped.wait_for(|stop| *stop).await;
    }));
    let pruner = tokio::spawn(retention::run(
        state.store.clone(),
        state.config.passthrough.log_retention,
        state.config.dashboard.session_idle,
        async move {
            let _ = retention_stopped.wait_for(|stop| *stop).await;
        },
    ));
    // One shutdown signal for the public listener and, when configured, the metrics one.
    let (stopping, stopping_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stopping.send(true);
    });
    let until_stopped = move || {
        let mut stopping = stopping_rx.clone();
        async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        }
    };
    let http = state.config.http.clone();
    let trusted = state.config.trusted_proxies.clone();
    let request_log = state.passthrough.log.clone();
    let metrics = match state.config.metrics_listen {
        Some(address) => {
            let metrics_listener = listener::bind(address).await?;
            tracing::info!(address = %address, "metrics are served at /metrics");
            let router = ops::metrics_router(state.clone());
            let (http, trusted, stopped) = (http.clone(), trusted.clone(), until_stopped());
            Some(tokio::spawn(async move {
                listener::serve(router, metrics_listener, &http, trusted, stopped).await
            }))
        }
        None => None,
    };
    let served = listener::serve(
        app_with(state, demo),
        listener,
        &http,
        trusted,
        until_stopped(),
    )
    .await
    .context("serving HTTP");
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    // Calls finished with the HTTP requests above; their log entries are written before exit.
    request_log.drain().await;
    let _ = stop.send(true);
    let _ = worker.await;
    let _ = checker.await;
    let _ = pruner.await;
    served
}
