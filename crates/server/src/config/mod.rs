//! Configuration: the defaults of `config.default.toml`, under an optional TOML file given with
//! `--config`, under `PLUGBOARD_*` environment variables, read straight into [`Config`] and
//! validated once at start-up. Every error names the variable to fix.
//!
//! A key is declared by its field (the field's name, or its `rename`, is the key; the variable
//! is `PLUGBOARD_` and the key in upper case) plus a line in `config.default.toml`; tests keep
//! the README's table and `.env.sample` in step.

mod de;

pub(crate) use de::parse_frame_ancestors;
mod sources;

use std::{
    collections::{BTreeMap, BTreeSet},
    ffi::OsString,
    net::SocketAddr,
    num::NonZeroU32,
    path::{Path, PathBuf},
    time::Duration,
};

use figment::Figment;
use plugboard_store::EnvironmentName;
use serde::Deserialize;
use url::Url;

pub use self::sources::DEFAULTS;
use crate::{
    branding::{BrandingConfig, RawBranding},
    vault::MasterKey,
};

/// Where Plugboard keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL server, by URL.
    Postgres(String),
}

/// How logs are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log pipelines.
    Json,
}

/// Where the master key comes from.
#[derive(Debug, Clone)]
pub enum MasterKeySource {
    /// `PLUGBOARD_MASTER_KEY`.
    Configured(MasterKey),
    /// Generated into (or read from) `master.key` in the data directory.
    DataDir(PathBuf),
}

/// Validated configuration. Each field's key and default are in `config.default.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// `PLUGBOARD_LISTEN`: the address `serve` binds.
    #[serde(deserialize_with = "de::address")]
    pub listen: SocketAddr,
    /// `PLUGBOARD_DATA_DIR`: SQLite file and generated keys.
    pub data_dir: PathBuf,
    /// `PLUGBOARD_DATABASE_URL`: the database; by default `plugboard.db` in the data
    /// directory. Read with the other keys whose default depends on another key.
    #[serde(skip, default = "unresolved::database")]
    pub database: Database,
    /// `PLUGBOARD_PUBLIC_URL`: absolute base of links and asset URLs, without trailing slash;
    /// by default `http://` and the listen address.
    #[serde(skip, default = "unresolved::public_url")]
    pub public_url: Url,
    /// `PLUGBOARD_MASTER_KEY`: encrypts credentials and signs links; by default generated
    /// into `master.key` in the data directory, which PostgreSQL does not allow.
    #[serde(skip, default = "unresolved::master_key")]
    pub master_key: MasterKeySource,
    /// `PLUGBOARD_LOG`: a `tracing` filter such as `info,plugboard=debug`.
    #[serde(deserialize_with = "de::log_filter")]
    pub log: String,
    /// `PLUGBOARD_LOG_FORMAT`: `text` or `json`.
    #[serde(deserialize_with = "de::log_format")]
    pub log_format: LogFormat,
    /// `PLUGBOARD_PRODUCT_NAME`: the operator's product, named in the flow ("what Acme will
    /// be able to do"). `None` uses a generic phrase.
    #[serde(default, deserialize_with = "de::trimmed")]
    pub product_name: Option<String>,
    /// `PLUGBOARD_TOOL_BASE_URLS`: per-tool API base URLs replacing the catalog's (on-premise
    /// instances, tests). Requests to these may reach private addresses: the operator chose them.
    #[serde(deserialize_with = "de::tool_base_urls")]
    pub tool_base_urls: BTreeMap<String, String>,
    /// `PLUGBOARD_FRAME_ANCESTORS_PRODUCTION`: origins allowed to embed production links,
    /// as a CSP `frame-ancestors` source list. Default `'none'`: a production link's token is
    /// redeemed with the production key, so no site may frame it until the operator names
    /// its own (`*` is allowed but warned about at start-up).
    #[serde(deserialize_with = "de::frame_ancestors")]
    pub frame_ancestors_production: String,
    /// `PLUGBOARD_FRAME_ANCESTORS_DEVELOPMENT`: the same for development links. Default `*`.
    #[serde(deserialize_with = "de::frame_ancestors")]
    pub frame_ancestors_development: String,
    /// Webhook delivery settings (`PLUGBOARD_WEBHOOK_*`), read as a section of their own.
    #[serde(skip)]
    pub webhooks: WebhookConfig,
    /// Passthrough settings (`PLUGBOARD_PASSTHROUGH_*`), read as a section of their own.
    #[serde(skip)]
    pub passthrough: PassthroughConfig,
    /// Connection check settings (`PLUGBOARD_CONNECTION_CHECK_*`), a section of their own.
    #[serde(skip)]
    pub checks: ChecksConfig,
    /// The operator dashboard's sessions (`PLUGBOARD_DASHBOARD_*`), a section of their own.
    #[serde(skip)]
    pub dashboard: DashboardConfig,
    /// `PLUGBOARD_OAUTH_REFRESH_MARGIN`: how long before its expiry an OAuth access token is
    /// refreshed when it is used (at most half its lifetime, so a short-lived token is not
    /// refreshed on every call). Vendors' tokens live from an hour to a month.
    #[serde(deserialize_with = "de::duration")]
    pub oauth_refresh_margin: Duration,
    /// `PLUGBOARD_RATE_LIMIT_API`: API requests one API key may make per minute, in bursts
    /// of up to the same number; `None` (`off`) for no limit. Counted per process.
    #[serde(deserialize_with = "de::rate")]
    pub rate_limit_api: Option<NonZeroU32>,
    /// `PLUGBOARD_RATE_LIMIT_CREDENTIALS`: credential submissions one link may make per
    /// minute, so a link cannot be used to hammer a tool's API or guess a key.
    #[serde(deserialize_with = "de::rate")]
    pub rate_limit_credentials: Option<NonZeroU32>,
    /// `PLUGBOARD_RATE_LIMIT_CREDENTIALS_PER_CLIENT`: credential submissions one client
    /// address (an IPv6 client by its /64) may make per minute across all links, so that
    /// someone holding many links cannot use Plugboard to test credentials against vendors.
    #[serde(deserialize_with = "de::rate")]
    pub rate_limit_credentials_per_client: Option<NonZeroU32>,
    /// `PLUGBOARD_RATE_LIMIT_CREDENTIALS_PER_ENVIRONMENT`: credential submissions per minute
    /// in one environment from all clients together, the ceiling for guessing spread over many
    /// addresses.
    #[serde(deserialize_with = "de::rate")]
    pub rate_limit_credentials_per_environment: Option<NonZeroU32>,
    /// `PLUGBOARD_RATE_LIMIT_PAGES`: flow pages (`GET /connect` and its steps) one link may be
    /// opened with per minute, since each opening reads the database.
    #[serde(deserialize_with = "de::rate")]
    pub rate_limit_pages: Option<NonZeroU32>,
    /// `PLUGBOARD_RATE_LIMIT_PAGES_PER_CLIENT`: flow pages one client address may open per
    /// minute across all links.
    #[serde(deserialize_with = "de::rate")]
    pub rate_limit_pages_per_client: Option<NonZeroU32>,
    /// `PLUGBOARD_RATE_LIMIT_AUTH`: failed API authentications (missing, malformed, unknown
    /// or revoked keys) one client address may make per minute; past it the client's
    /// requests are refused before their key is looked at, until the bucket refills.
    #[serde(deserialize_with = "de::rate")]
    pub rate_limit_auth: Option<NonZeroU32>,
    /// `PLUGBOARD_RATE_LIMIT_SIGNINS`: dashboard sign-in attempts (passwords and one-time
    /// links) one client address may make per minute. Each account is limited as well, across
    /// every instance: five wrong passwords lock it for fifteen minutes.
    #[serde(deserialize_with = "de::rate")]
    pub rate_limit_signins: Option<NonZeroU32>,
    /// `PLUGBOARD_PREVIOUS_MASTER_KEYS`: earlier master keys, comma-separated. Records and
    /// links sealed or signed with them stay readable while `plugboard keys rotate` re-seals
    /// the records under the current key; remove them once it reports nothing left.
    #[serde(deserialize_with = "de::master_keys")]
    pub previous_master_keys: Vec<MasterKey>,
    /// `PLUGBOARD_TRUSTED_PROXIES`: addresses or networks of reverse proxies whose
    /// `X-Forwarded-For` is believed when recording the end user's IP address in the audit
    /// trail. Empty by default: the peer address is recorded.
    #[serde(deserialize_with = "de::networks")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How the HTTP listener treats connections (`PLUGBOARD_HTTP_*`), read as a section of
    /// their own.
    #[serde(skip)]
    pub http: HttpConfig,
    /// `PLUGBOARD_METRICS_LISTEN`: a second address that serves only `/metrics` (and
    /// `/healthz`), for a scraper on an internal network. `/metrics` is not on the public
    /// listener unless `PLUGBOARD_METRICS_TOKEN` is set.
    #[serde(default, deserialize_with = "de::some_address")]
    pub metrics_listen: Option<SocketAddr>,
    /// `PLUGBOARD_METRICS_TOKEN`: when set, `/metrics` on the public listener answers requests
    /// that carry `Authorization: Bearer <token>`; without it `/metrics` there is a 404, since
    /// the listener that serves the flow to the internet should not publish the service's
    /// internals.
    #[serde(default, deserialize_with = "de::token")]
    pub metrics_token: Option<Secret>,
    /// The flow's branding per environment (`PLUGBOARD_PRODUCT_NAME_*`, `PLUGBOARD_LOGO*`,
    /// `PLUGBOARD_ACCENT_COLOR*`) and the operator's tool images (`PLUGBOARD_TOOL_LOGOS_DIR`),
    /// read as a section of their own. Pages read it through [`Config::branding`].
    #[serde(skip)]
    pub brand: BrandingConfig,
}

/// Stand-ins for the fields that [`Config::resolve`] sets from other keys; never seen outside
/// [`Config::load`].
mod unresolved {
    use super::{Database, MasterKeySource, PathBuf, Url};

    pub fn database() -> Database {
        Database::Sqlite(PathBuf::new())
    }

    pub fn public_url() -> Url {
        Url::parse("http://unresolved.invalid/").unwrap_or_else(|_| unreachable!("a valid URL"))
    }

    pub fn master_key() -> MasterKeySource {
        MasterKeySource::DataDir(PathBuf::new())
    }
}

/// The keys whose default depends on other keys, completed by [`Config::resolve`].
#[derive(Deserialize)]
struct Dependent {
    /// `PLUGBOARD_DATABASE_URL`.
    #[serde(default, deserialize_with = "de::database")]
    database_url: Option<Database>,
    /// `PLUGBOARD_PUBLIC_URL`.
    #[serde(default, deserialize_with = "de::public_url")]
    public_url: Option<Url>,
    /// `PLUGBOARD_MASTER_KEY`.
    #[serde(default, deserialize_with = "de::master_key")]
    master_key: Option<MasterKey>,
}

/// A configured secret: never printed, compared in constant time.
#[derive(Clone)]
pub struct Secret(String);

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl Secret {
    /// The secret itself, for the one request that sends it (the OpenID Connect client
    /// secret to the provider's token endpoint).
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is this secret, in time independent of where they differ.
    pub fn matches(&self, candidate: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_bytes().ct_eq(candidate.as_bytes()).into()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// How the HTTP listener bounds what clients may hold. The defaults keep a flood of idle or
/// half-sent connections from one address from exhausting the process's file descriptors.
#[derive(Debug, Clone, Deserialize)]
pub struct HttpConfig {
    /// `PLUGBOARD_HTTP_MAX_CONNECTIONS`: open connections in all; past it new connections get
    /// a 503 and are closed. `None`: three quarters of the process's file limit (raised at
    /// start-up where allowed), at most 10,000, so files remain for the database, webhooks
    /// and logs.
    #[serde(
        rename = "http_max_connections",
        default,
        deserialize_with = "de::connections"
    )]
    pub max_connections: Option<usize>,
    /// `PLUGBOARD_HTTP_MAX_CONNECTIONS_PER_CLIENT`: open connections from one client address
    /// (an IPv6 client by its /64); past it a 429. Trusted proxies are exempt. `None`: a
    /// quarter of the total, at most 256.
    #[serde(
        rename = "http_max_connections_per_client",
        default,
        deserialize_with = "de::connections"
    )]
    pub max_connections_per_client: Option<usize>,
    /// `PLUGBOARD_HTTP_HEADER_TIMEOUT`: how long a client may take to send a request's
    /// headers, which is also how long an idle keep-alive connection stays open. The default
    /// is longer than the 60 s idle timeout of common load balancers, so that the balancer,
    /// not Plugboard, closes idle pooled connections (the other way round races).
    #[serde(rename = "http_header_timeout", deserialize_with = "de::duration")]
    pub header_timeout: Duration,
    /// `PLUGBOARD_HTTP_BODY_TIMEOUT`: how long a client may take to send a request's body.
    #[serde(rename = "http_body_timeout", deserialize_with = "de::duration")]
    pub body_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        sources::default_of()
    }
}

/// How webhooks are delivered.
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookConfig {
    /// `PLUGBOARD_WEBHOOK_RETRY_SCHEDULE`: the wait before each retry (by default about 2 days
    /// 8 hours in all). Each wait is lengthened by up to a quarter at random so that retries
    /// of many deliveries spread out, and a `Retry-After` longer than the wait wins. After
    /// the last retry a delivery fails (and can be retried by hand).
    #[serde(
        rename = "webhook_retry_schedule",
        deserialize_with = "de::retry_schedule"
    )]
    pub retry_schedule: Vec<Duration>,
    /// `PLUGBOARD_WEBHOOK_TIMEOUT`: how long one request may take in all.
    #[serde(rename = "webhook_timeout", deserialize_with = "de::webhook_timeout")]
    pub timeout: Duration,
    /// `PLUGBOARD_WEBHOOK_CONCURRENCY`: requests in flight per process.
    #[serde(rename = "webhook_concurrency", deserialize_with = "de::count")]
    pub concurrency: u32,
    /// `PLUGBOARD_WEBHOOK_ENDPOINT_CONCURRENCY`: requests in flight per endpoint and process,
    /// so a slow endpoint cannot take every slot.
    #[serde(
        rename = "webhook_endpoint_concurrency",
        deserialize_with = "de::count"
    )]
    pub endpoint_concurrency: u32,
    /// `PLUGBOARD_WEBHOOK_DISABLE_AFTER`: an endpoint that has failed every attempt for this
    /// long is disabled.
    #[serde(rename = "webhook_disable_after", deserialize_with = "de::duration")]
    pub disable_after: Duration,
    /// `PLUGBOARD_WEBHOOK_ALLOWED_NETWORKS`: networks (CIDR, e.g. `10.0.0.0/8`) that webhook
    /// URLs may reach although they are not public. Empty by default: webhooks go to public
    /// addresses only.
    #[serde(rename = "webhook_allowed_networks", deserialize_with = "de::networks")]
    pub allowed_networks: Vec<ipnet::IpNet>,
    /// `PLUGBOARD_WEBHOOK_ALLOW_LOOPBACK`: whether development webhooks may reach loopback
    /// (`127.0.0.0/8`, `::1`), for a receiver on the developer's own machine. Off by default,
    /// so a development API key on a deployed server cannot reach the services listening on
    /// its loopback; `serve --demo` turns it on. Production webhooks reach loopback only
    /// through `PLUGBOARD_WEBHOOK_ALLOWED_NETWORKS`.
    #[serde(rename = "webhook_allow_loopback", deserialize_with = "de::flag")]
    pub allow_loopback: bool,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        sources::default_of()
    }
}

/// How passthrough requests (`POST /v1/passthrough/{tool}/{api}`) are limited.
#[derive(Debug, Clone, Deserialize)]
pub struct PassthroughConfig {
    /// `PLUGBOARD_PASSTHROUGH_TIMEOUT`: how long one passthrough call may take in all, retries
    /// and token logins included; past it the caller gets `PLATFORM.TASK_TIMED_OUT`.
    #[serde(rename = "passthrough_timeout", deserialize_with = "de::duration")]
    pub timeout: Duration,
    /// `PLUGBOARD_PASSTHROUGH_MAX_REQUEST_BODY`: the largest passthrough request Plugboard
    /// accepts, its JSON envelope included (a base64 file is a third larger than the file).
    #[serde(
        rename = "passthrough_max_request_body",
        deserialize_with = "de::byte_size"
    )]
    pub max_request_body: usize,
    /// `PLUGBOARD_PASSTHROUGH_MAX_RESPONSE_BODY`: the largest answer of a tool Plugboard reads;
    /// a larger one is an error, never a truncated body.
    #[serde(
        rename = "passthrough_max_response_body",
        deserialize_with = "de::byte_size"
    )]
    pub max_response_body: usize,
    /// `PLUGBOARD_PASSTHROUGH_CONCURRENCY`: calls in flight per integration and process; past
    /// it `PLATFORM.CONCURRENCY_LIMIT_EXCEEDED` (Kombo's limit is 30).
    #[serde(rename = "passthrough_concurrency", deserialize_with = "de::count")]
    pub concurrency: u32,
    /// `PLUGBOARD_PASSTHROUGH_RETRY_BUDGET`: the most a call that asked for retries
    /// (`api_options.retries`) waits in all between attempts; a longer `Retry-After` from the
    /// tool ends the retries and returns its answer.
    #[serde(rename = "passthrough_retry_budget", deserialize_with = "de::duration")]
    pub retry_budget: Duration,
    /// `PLUGBOARD_PASSTHROUGH_DOWNLOAD_NETWORKS`: networks (CIDR) that multipart `data_url`
    /// downloads may reach although they are not public, e.g. an internal file store. Empty
    /// by default: public addresses only.
    #[serde(
        rename = "passthrough_download_networks",
        deserialize_with = "de::networks"
    )]
    pub download_networks: Vec<ipnet::IpNet>,
    /// `PLUGBOARD_REQUEST_LOG_RETENTION`: how long the request log keeps an entry; the worker
    /// deletes older ones in small batches.
    #[serde(rename = "request_log_retention", deserialize_with = "de::duration")]
    pub log_retention: Duration,
}

impl Default for PassthroughConfig {
    fn default() -> Self {
        sources::default_of()
    }
}

/// How integrations' credentials are re-checked in the background (`checks.rs`).
#[derive(Debug, Clone, Deserialize)]
pub struct ChecksConfig {
    /// `PLUGBOARD_CONNECTION_CHECK_INTERVAL`: how often each `ACTIVE` or `INVALID`
    /// integration's credentials are verified again (each wait lengthened by up to a tenth at
    /// random, so checks spread out). A tool that refuses a passthrough call with 401 or 403
    /// gets its check at once.
    #[serde(
        rename = "connection_check_interval",
        deserialize_with = "de::duration"
    )]
    pub interval: Duration,
    /// `PLUGBOARD_CONNECTION_CHECK_GRACE`: how long the tool must keep refusing the
    /// credentials before the integration becomes `INVALID` (Kombo waits three days); `0s`
    /// for at once. A tool that cannot be reached never counts.
    #[serde(
        rename = "connection_check_grace",
        deserialize_with = "de::duration_or_zero"
    )]
    pub grace: Duration,
    /// `PLUGBOARD_CONNECTION_CHECK_CONCURRENCY`: checks in flight per tool and process, so a
    /// tool's API is never hammered by its many integrations' checks.
    #[serde(
        rename = "connection_check_concurrency",
        deserialize_with = "de::count"
    )]
    pub per_tool: u32,
}

impl Default for ChecksConfig {
    fn default() -> Self {
        sources::default_of()
    }
}

/// How long an operator's dashboard session lasts (`dashboard.rs`).
#[derive(Debug, Clone, Deserialize)]
pub struct DashboardConfig {
    /// `PLUGBOARD_DASHBOARD_SESSION_IDLE`: a session unused this long ends; the operator signs
    /// in again.
    #[serde(rename = "dashboard_session_idle", deserialize_with = "de::duration")]
    pub session_idle: Duration,
    /// `PLUGBOARD_DASHBOARD_SESSION_LIFETIME`: a session ends this long after sign-in however
    /// busy it is, so a stolen cookie does not work forever.
    #[serde(
        rename = "dashboard_session_lifetime",
        deserialize_with = "de::duration"
    )]
    pub session_lifetime: Duration,
    /// `PLUGBOARD_DASHBOARD_OIDC_ISSUER`: an OpenID Connect provider operators may sign in
    /// with (its issuer URL, for discovery); unset: passwords only. Operators still need an
    /// account (`plugboard operators create`) with the address the provider confirms.
    #[serde(
        rename = "dashboard_oidc_issuer",
        default,
        deserialize_with = "de::issuer"
    )]
    pub oidc_issuer: Option<String>,
    /// `PLUGBOARD_DASHBOARD_OIDC_CLIENT_ID`: the client the provider issued to Plugboard.
    #[serde(
        rename = "dashboard_oidc_client_id",
        default,
        deserialize_with = "de::trimmed"
    )]
    pub oidc_client_id: Option<String>,
    /// `PLUGBOARD_DASHBOARD_OIDC_CLIENT_SECRET`: its secret (at least 16 characters).
    #[serde(
        rename = "dashboard_oidc_client_secret",
        default,
        deserialize_with = "de::token"
    )]
    pub oidc_client_secret: Option<Secret>,
    /// `PLUGBOARD_DASHBOARD_OIDC_NAME`: what the sign-in button calls the provider ("Sign in
    /// with Okta"); unset: "single sign-on".
    #[serde(
        rename = "dashboard_oidc_name",
        default,
        deserialize_with = "de::trimmed"
    )]
    pub oidc_name: Option<String>,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        sources::default_of()
    }
}

/// A configuration problem, naming the variable (and file) to fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub(crate) String);

fn error(variable: &str, message: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("{variable}: {message}"))
}

/// Every configuration key (the TOML key; the variable is `PLUGBOARD_` and the key in upper
/// case), from the structs that read them.
pub fn keys() -> BTreeSet<&'static str> {
    [
        sources::fields::<Config>(),
        sources::fields::<Dependent>(),
        sources::fields::<WebhookConfig>(),
        sources::fields::<PassthroughConfig>(),
        sources::fields::<ChecksConfig>(),
        sources::fields::<DashboardConfig>(),
        sources::fields::<HttpConfig>(),
        sources::fields::<RawBranding>(),
    ]
    .concat()
    .into_iter()
    .collect()
}

/// Parses a base64 master key (standard or URL-safe alphabet, padding optional).
pub fn parse_master_key(text: &str) -> Result<MasterKey, ConfigError> {
    de::decode_master_key(text).map_err(|message| error("PLUGBOARD_MASTER_KEY", message))
}

impl Config {
    /// Reads the environment, over `file` when given, over the defaults.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, std::env::vars_os())
    }

    /// [`Config::load`] with `env` for the process's environment.
    pub(crate) fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Result<Self, ConfigError> {
        Self::extract(&sources::figment(file, env, &keys())?)
    }

    /// The configuration when nothing is set: every default. Tests and tools start from this
    /// and override what they need.
    pub fn defaults() -> Self {
        Self::extract(&sources::defaults())
            .unwrap_or_else(|e| unreachable!("the defaults are valid: {e}"))
    }

    fn extract(figment: &Figment) -> Result<Self, ConfigError> {
        fn section<T: for<'de> Deserialize<'de>>(figment: &Figment) -> Result<T, ConfigError> {
            figment.extract().map_err(sources::named)
        }
        let config = Self {
            webhooks: section(figment)?,
            passthrough: section(figment)?,
            checks: section(figment)?,
            dashboard: section(figment)?,
            http: section(figment)?,
            brand: BrandingConfig::parse(section(figment)?)?,
            ..section(figment)?
        };
        config.resolve(section(figment)?)
    }

    /// Completes the keys whose default depends on others, and checks what involves two keys.
    fn resolve(mut self, dependent: Dependent) -> Result<Self, ConfigError> {
        let sessions = &self.dashboard;
        if sessions.session_idle > sessions.session_lifetime {
            return Err(error(
                "PLUGBOARD_DASHBOARD_SESSION_IDLE",
                "must not be longer than PLUGBOARD_DASHBOARD_SESSION_LIFETIME",
            ));
        }
        if sessions.session_lifetime > Duration::from_secs(366 * 24 * 3600) {
            return Err(error(
                "PLUGBOARD_DASHBOARD_SESSION_LIFETIME",
                "must be at most a year",
            ));
        }
        let oidc = &self.dashboard;
        let parts = [
            (
                "PLUGBOARD_DASHBOARD_OIDC_ISSUER",
                oidc.oidc_issuer.is_some(),
            ),
            (
                "PLUGBOARD_DASHBOARD_OIDC_CLIENT_ID",
                oidc.oidc_client_id.is_some(),
            ),
            (
                "PLUGBOARD_DASHBOARD_OIDC_CLIENT_SECRET",
                oidc.oidc_client_secret.is_some(),
            ),
        ];
        let missing: Vec<&str> = parts
            .iter()
            .filter(|(_, set)| !set)
            .map(|(name, _)| *name)
            .collect();
        if let Some((named, _)) = parts.iter().find(|(_, set)| *set)
            && !missing.is_empty()
        {
            return Err(error(
                named,
                format!(
                    "single sign-on needs the issuer, client id and client secret together; also set {}",
                    missing.join(" and ")
                ),
            ));
        }
        self.database = dependent
            .database_url
            .unwrap_or_else(|| Database::Sqlite(self.data_dir.join("plugboard.db")));
        self.public_url = match dependent.public_url {
            Some(url) => url,
            None => de::parse_public_url(&format!("http://{}", self.listen))
                .map_err(|message| error("PLUGBOARD_PUBLIC_URL", message))?,
        };
        self.master_key = match dependent.master_key {
            Some(key) => MasterKeySource::Configured(key),
            None if matches!(self.database, Database::Postgres(_)) => {
                return Err(error(
                    "PLUGBOARD_MASTER_KEY",
                    "must be set when the database is PostgreSQL, because every instance must \
                     share it; generate one with `openssl rand -base64 32`",
                ));
            }
            None => MasterKeySource::DataDir(self.data_dir.join("master.key")),
        };
        Ok(self)
    }

    /// The flow's branding in `environment`: the one place pages ask, so that branding can
    /// move to the database without touching them.
    pub fn branding(&self, environment: EnvironmentName) -> crate::branding::Branding {
        let mut product_name = self.brand.product_name.clone();
        product_name.default = self.product_name.clone();
        crate::branding::Branding {
            product_name: product_name.get(environment),
            logo: self.brand.logo.get(environment),
            accent: self.brand.accent.get(environment),
        }
    }

    /// The absolute URL of `path` (which starts with `/`) under the public URL.
    pub fn public(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.as_str().trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests;
