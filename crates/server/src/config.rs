//! Configuration: environment variables (`PLUGBOARD_*`), optionally layered over a TOML file
//! given with `--config`, validated once at start-up. Every error names the variable to fix.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use base64::Engine;
use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use plugboard_store::EnvironmentName;
use serde::Deserialize;
use url::Url;

use crate::vault::MasterKey;

/// Default listen address: loopback only, so a first run exposes nothing.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "./plugboard-data";

/// Every configuration key, as its environment variable spells it after `PLUGBOARD_` (the
/// TOML key is the same in lower case). Only these are read from the environment:
/// `PLUGBOARD_TEST_*` and the like belong to other tools. A test keeps the README's table and
/// `.env.sample` in step with this list.
pub const KEYS: &[&str] = &[
    "LISTEN",
    "DATA_DIR",
    "DATABASE_URL",
    "PUBLIC_URL",
    "MASTER_KEY",
    "LOG",
    "LOG_FORMAT",
    "PRODUCT_NAME",
    "TOOL_BASE_URLS",
    "FRAME_ANCESTORS_PRODUCTION",
    "FRAME_ANCESTORS_DEVELOPMENT",
    "WEBHOOK_RETRY_SCHEDULE",
    "WEBHOOK_TIMEOUT",
    "WEBHOOK_CONCURRENCY",
    "WEBHOOK_ENDPOINT_CONCURRENCY",
    "WEBHOOK_DISABLE_AFTER",
    "WEBHOOK_ALLOWED_NETWORKS",
    "WEBHOOK_ALLOW_LOOPBACK",
    "RATE_LIMIT_API",
    "RATE_LIMIT_CREDENTIALS",
    "RATE_LIMIT_CREDENTIALS_PER_CLIENT",
    "RATE_LIMIT_CREDENTIALS_PER_ENVIRONMENT",
    "RATE_LIMIT_PAGES",
    "RATE_LIMIT_PAGES_PER_CLIENT",
    "RATE_LIMIT_AUTH",
    "PREVIOUS_MASTER_KEYS",
    "TRUSTED_PROXIES",
    "HTTP_MAX_CONNECTIONS",
    "HTTP_MAX_CONNECTIONS_PER_CLIENT",
    "HTTP_HEADER_TIMEOUT",
    "HTTP_BODY_TIMEOUT",
    "METRICS_LISTEN",
    "METRICS_TOKEN",
    "PRODUCT_NAME_PRODUCTION",
    "PRODUCT_NAME_DEVELOPMENT",
    "LOGO",
    "LOGO_PRODUCTION",
    "LOGO_DEVELOPMENT",
    "ACCENT_COLOR",
    "ACCENT_COLOR_PRODUCTION",
    "ACCENT_COLOR_DEVELOPMENT",
    "TOOL_LOGOS_DIR",
];

/// The raw keys, as the file and the environment spell them (`listen` = `PLUGBOARD_LISTEN`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    public_url: Option<String>,
    master_key: Option<String>,
    log: Option<String>,
    log_format: Option<String>,
    product_name: Option<String>,
    tool_base_urls: Option<StringOrMap>,
    frame_ancestors_production: Option<String>,
    frame_ancestors_development: Option<String>,
    webhook_retry_schedule: Option<TextOrList>,
    webhook_timeout: Option<Scalar>,
    webhook_concurrency: Option<Scalar>,
    webhook_endpoint_concurrency: Option<Scalar>,
    webhook_disable_after: Option<Scalar>,
    webhook_allowed_networks: Option<TextOrList>,
    webhook_allow_loopback: Option<Flag>,
    rate_limit_api: Option<Scalar>,
    rate_limit_credentials: Option<Scalar>,
    rate_limit_credentials_per_client: Option<Scalar>,
    rate_limit_credentials_per_environment: Option<Scalar>,
    rate_limit_pages: Option<Scalar>,
    rate_limit_pages_per_client: Option<Scalar>,
    rate_limit_auth: Option<Scalar>,
    previous_master_keys: Option<TextOrList>,
    trusted_proxies: Option<TextOrList>,
    http_max_connections: Option<Scalar>,
    http_max_connections_per_client: Option<Scalar>,
    http_header_timeout: Option<Scalar>,
    http_body_timeout: Option<Scalar>,
    metrics_listen: Option<String>,
    metrics_token: Option<String>,
    product_name_production: Option<String>,
    product_name_development: Option<String>,
    logo: Option<String>,
    logo_production: Option<String>,
    logo_development: Option<String>,
    accent_color: Option<String>,
    accent_color_production: Option<String>,
    accent_color_development: Option<String>,
    tool_logos_dir: Option<PathBuf>,
}

/// A value that the environment gives as text and a TOML file may give as a number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Number(i64),
    Text(String),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Self::Number(n) => n.to_string(),
            Self::Text(text) => text.clone(),
        }
    }
}

/// A list given either as a TOML array or, in an environment variable, separated by commas
/// or spaces.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TextOrList {
    List(Vec<String>),
    Text(String),
}

impl TextOrList {
    fn items(&self) -> Vec<String> {
        match self {
            Self::List(items) => items.clone(),
            Self::Text(text) => text
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// A map given either as a TOML table or, in an environment variable, as `key=value` pairs
/// separated by commas or spaces.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StringOrMap {
    Map(std::collections::BTreeMap<String, String>),
    Text(String),
}

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

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PLUGBOARD_LISTEN`: the address `serve` binds.
    pub listen: SocketAddr,
    /// `PLUGBOARD_DATA_DIR`: SQLite file and generated keys.
    pub data_dir: PathBuf,
    /// `PLUGBOARD_DATABASE_URL`: the database.
    pub database: Database,
    /// `PLUGBOARD_PUBLIC_URL`: absolute base of links and asset URLs, without trailing slash.
    pub public_url: Url,
    /// `PLUGBOARD_MASTER_KEY`: encrypts credentials and signs links.
    pub master_key: MasterKeySource,
    /// `PLUGBOARD_LOG`: a `tracing` filter such as `info,plugboard=debug`.
    pub log: String,
    /// `PLUGBOARD_LOG_FORMAT`: `text` or `json`.
    pub log_format: LogFormat,
    /// `PLUGBOARD_PRODUCT_NAME`: the operator's product, named in the flow ("what Acme will
    /// be able to read"). `None` uses a generic phrase.
    pub product_name: Option<String>,
    /// `PLUGBOARD_TOOL_BASE_URLS`: per-tool API base URLs replacing the catalog's (on-premise
    /// instances, tests). Requests to these may reach private addresses: the operator chose them.
    pub tool_base_urls: std::collections::BTreeMap<String, String>,
    /// `PLUGBOARD_FRAME_ANCESTORS_PRODUCTION`: origins allowed to embed production links,
    /// as a CSP `frame-ancestors` source list. Default `'none'`: a production link's token is
    /// redeemed with the production key, so no site may frame it until the operator names
    /// its own (`*` is allowed but warned about at start-up).
    pub frame_ancestors_production: String,
    /// `PLUGBOARD_FRAME_ANCESTORS_DEVELOPMENT`: the same for development links. Default `*`.
    pub frame_ancestors_development: String,
    /// Webhook delivery settings (`PLUGBOARD_WEBHOOK_*`).
    pub webhooks: WebhookConfig,
    /// `PLUGBOARD_RATE_LIMIT_API`: API requests one API key may make per minute, in bursts
    /// of up to the same number; `off` for no limit. Default 1000. Counted per process.
    pub rate_limit_api: Option<std::num::NonZeroU32>,
    /// `PLUGBOARD_RATE_LIMIT_CREDENTIALS`: credential submissions one link may make per
    /// minute, so a link cannot be used to hammer a tool's API or guess a key; `off` for no
    /// limit. Default 10.
    pub rate_limit_credentials: Option<std::num::NonZeroU32>,
    /// `PLUGBOARD_RATE_LIMIT_CREDENTIALS_PER_CLIENT`: credential submissions one client
    /// address (an IPv6 client by its /64) may make per minute across all links, so that
    /// someone holding many links cannot use Plugboard to test credentials against vendors;
    /// `off` for no limit. Default 30.
    pub rate_limit_credentials_per_client: Option<std::num::NonZeroU32>,
    /// `PLUGBOARD_RATE_LIMIT_CREDENTIALS_PER_ENVIRONMENT`: credential submissions per minute
    /// in one environment from all clients together, the ceiling for guessing spread over many
    /// addresses; `off` for no limit. Default 600.
    pub rate_limit_credentials_per_environment: Option<std::num::NonZeroU32>,
    /// `PLUGBOARD_RATE_LIMIT_PAGES`: flow pages (`GET /connect` and its steps) one link may be
    /// opened with per minute, since each opening reads the database; `off` for no limit.
    /// Default 120.
    pub rate_limit_pages: Option<std::num::NonZeroU32>,
    /// `PLUGBOARD_RATE_LIMIT_PAGES_PER_CLIENT`: flow pages one client address may open per
    /// minute across all links; `off` for no limit. Default 600.
    pub rate_limit_pages_per_client: Option<std::num::NonZeroU32>,
    /// `PLUGBOARD_RATE_LIMIT_AUTH`: failed API authentications (missing, malformed, unknown
    /// or revoked keys) one client address may make per minute; past it the client's
    /// requests are refused before their key is looked at, until the bucket refills. `off`
    /// for no limit. Default 120.
    pub rate_limit_auth: Option<std::num::NonZeroU32>,
    /// `PLUGBOARD_PREVIOUS_MASTER_KEYS`: earlier master keys, comma-separated. Records and
    /// links sealed or signed with them stay readable while `plugboard keys rotate` re-seals
    /// the records under the current key; remove them once it reports nothing left.
    pub previous_master_keys: Vec<MasterKey>,
    /// `PLUGBOARD_TRUSTED_PROXIES`: addresses or networks of reverse proxies whose
    /// `X-Forwarded-For` is believed when recording the end user's IP address in the audit
    /// trail. Empty by default: the peer address is recorded.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How the HTTP listener treats connections (`PLUGBOARD_HTTP_*`).
    pub http: HttpConfig,
    /// `PLUGBOARD_METRICS_LISTEN`: a second address that serves only `/metrics` (and
    /// `/healthz`), for a scraper on an internal network. `/metrics` is not on the public
    /// listener unless `PLUGBOARD_METRICS_TOKEN` is set.
    pub metrics_listen: Option<SocketAddr>,
    /// `PLUGBOARD_METRICS_TOKEN`: when set, `/metrics` on the public listener answers requests
    /// that carry `Authorization: Bearer <token>`; without it `/metrics` there is a 404, since
    /// the listener that serves the flow to the internet should not publish the service's
    /// internals.
    pub metrics_token: Option<Secret>,
    /// The flow's branding per environment (`PLUGBOARD_PRODUCT_NAME_*`, `PLUGBOARD_LOGO*`,
    /// `PLUGBOARD_ACCENT_COLOR*`) and the operator's tool images (`PLUGBOARD_TOOL_LOGOS_DIR`).
    /// Pages read it through [`Config::branding`].
    pub brand: crate::branding::BrandingConfig,
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
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// `PLUGBOARD_HTTP_MAX_CONNECTIONS`: open connections in all; past it new connections get
    /// a 503 and are closed. Default: three quarters of the process's file limit (raised at
    /// start-up where allowed), at most 10,000, so files remain for the database, webhooks
    /// and logs.
    pub max_connections: Option<usize>,
    /// `PLUGBOARD_HTTP_MAX_CONNECTIONS_PER_CLIENT`: open connections from one client address
    /// (an IPv6 client by its /64); past it a 429. Trusted proxies are exempt. Default: a
    /// quarter of the total, at most 256.
    pub max_connections_per_client: Option<usize>,
    /// `PLUGBOARD_HTTP_HEADER_TIMEOUT`: how long a client may take to send a request's
    /// headers, which is also how long an idle keep-alive connection stays open. Default
    /// `65s`: longer than the 60 s idle timeout of common load balancers, so that the
    /// balancer, not Plugboard, closes idle pooled connections (the other way round races).
    pub header_timeout: std::time::Duration,
    /// `PLUGBOARD_HTTP_BODY_TIMEOUT`: how long a client may take to send a request's body.
    /// Default `30s`.
    pub body_timeout: std::time::Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_connections: None,
            max_connections_per_client: None,
            header_timeout: std::time::Duration::from_secs(65),
            body_timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// `PLUGBOARD_WEBHOOK_RETRY_SCHEDULE`: the wait before each retry, e.g.
    /// `5s,5m,30m,2h,5h,10h,10h,14h,14h` (the default, about 2 days 8 hours in all). Each wait
    /// is lengthened by up to a quarter at random so that retries of many deliveries spread
    /// out, and a `Retry-After` longer than the wait wins. After the last retry a delivery
    /// fails (and can be retried by hand).
    pub retry_schedule: Vec<std::time::Duration>,
    /// `PLUGBOARD_WEBHOOK_TIMEOUT`: how long one request may take in all. Default `15s`.
    pub timeout: std::time::Duration,
    /// `PLUGBOARD_WEBHOOK_CONCURRENCY`: requests in flight per process. Default 64.
    pub concurrency: u32,
    /// `PLUGBOARD_WEBHOOK_ENDPOINT_CONCURRENCY`: requests in flight per endpoint and process,
    /// so a slow endpoint cannot take every slot. Default 8.
    pub endpoint_concurrency: u32,
    /// `PLUGBOARD_WEBHOOK_DISABLE_AFTER`: an endpoint that has failed every attempt for this
    /// long is disabled. Default `5d`.
    pub disable_after: std::time::Duration,
    /// `PLUGBOARD_WEBHOOK_ALLOWED_NETWORKS`: networks (CIDR, e.g. `10.0.0.0/8`) that webhook
    /// URLs may reach although they are not public. Empty by default: webhooks go to public
    /// addresses only.
    pub allowed_networks: Vec<ipnet::IpNet>,
    /// `PLUGBOARD_WEBHOOK_ALLOW_LOOPBACK`: whether development webhooks may reach loopback
    /// (`127.0.0.0/8`, `::1`), for a receiver on the developer's own machine. Default `false`,
    /// so a development API key on a deployed server cannot reach the services listening on
    /// its loopback; `serve --demo` turns it on. Production webhooks reach loopback only
    /// through `PLUGBOARD_WEBHOOK_ALLOWED_NETWORKS`.
    pub allow_loopback: bool,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        use std::time::Duration;
        let minutes = |m: u64| Duration::from_secs(60 * m);
        let hours = |h: u64| Duration::from_secs(3600 * h);
        Self {
            retry_schedule: vec![
                Duration::from_secs(5),
                minutes(5),
                minutes(30),
                hours(2),
                hours(5),
                hours(10),
                hours(10),
                hours(14),
                hours(14),
            ],
            timeout: Duration::from_secs(15),
            concurrency: 64,
            endpoint_concurrency: 8,
            disable_after: hours(24 * 5),
            allowed_networks: Vec::new(),
            allow_loopback: false,
        }
    }
}

/// A configuration problem, naming the variable (and file) to fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub(crate) String);

fn error(variable: &str, message: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("{variable}: {message}"))
}

impl Config {
    /// Reads the environment, over `file` when given.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(file) = file {
            if !file.is_file() {
                return Err(error(
                    "--config",
                    format!("no such file: {}", file.display()),
                ));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::prefixed("PLUGBOARD_").only(KEYS));
        let raw: RawConfig = figment
            .extract()
            .map_err(|e| ConfigError(format!("configuration: {e}")))?;
        Self::from_raw(raw)
    }

    fn from_raw(mut raw: RawConfig) -> Result<Self, ConfigError> {
        let raw_webhooks = RawWebhooks {
            retry_schedule: raw.webhook_retry_schedule.take(),
            timeout: raw.webhook_timeout.take(),
            concurrency: raw.webhook_concurrency.take(),
            endpoint_concurrency: raw.webhook_endpoint_concurrency.take(),
            disable_after: raw.webhook_disable_after.take(),
            allowed_networks: raw.webhook_allowed_networks.take(),
            allow_loopback: raw.webhook_allow_loopback.take(),
        };
        // Before any field is moved out of `raw`.
        let http = parse_http(&raw)?;
        let listen_text = non_empty(raw.listen).unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            error(
                "PLUGBOARD_LISTEN",
                format!("{listen_text:?} is not an address like 127.0.0.1:8080"),
            )
        })?;
        let data_dir = raw
            .data_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database = match non_empty(raw.database_url) {
            None => Database::Sqlite(data_dir.join("plugboard.db")),
            Some(url) => parse_database_url(&url)?,
        };
        let public_url = parse_public_url(non_empty(raw.public_url), listen)?;
        let master_key = match non_empty(raw.master_key) {
            Some(text) => MasterKeySource::Configured(parse_master_key(&text)?),
            None if matches!(database, Database::Postgres(_)) => {
                return Err(error(
                    "PLUGBOARD_MASTER_KEY",
                    "must be set when the database is PostgreSQL, because every instance must \
                     share it; generate one with `openssl rand -base64 32`",
                ));
            }
            None => MasterKeySource::DataDir(data_dir.join("master.key")),
        };
        let log_format = match non_empty(raw.log_format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(error(
                    "PLUGBOARD_LOG_FORMAT",
                    format!("{other:?} is neither text nor json"),
                ));
            }
        };
        let log = non_empty(raw.log).unwrap_or_else(|| "info".to_owned());
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&log) {
            return Err(error("PLUGBOARD_LOG", e));
        }
        let product_name = non_empty(raw.product_name).map(|name| name.trim().to_owned());
        let brand = crate::branding::BrandingConfig::parse(crate::branding::RawBranding {
            product_name_production: raw.product_name_production.take(),
            product_name_development: raw.product_name_development.take(),
            logo: raw.logo.take(),
            logo_production: raw.logo_production.take(),
            logo_development: raw.logo_development.take(),
            accent_color: raw.accent_color.take(),
            accent_color_production: raw.accent_color_production.take(),
            accent_color_development: raw.accent_color_development.take(),
            tool_logos_dir: raw.tool_logos_dir.take(),
        })?;
        let tool_base_urls = parse_tool_base_urls(raw.tool_base_urls)?;
        let frame_ancestors_production = parse_frame_ancestors(
            "PLUGBOARD_FRAME_ANCESTORS_PRODUCTION",
            raw.frame_ancestors_production,
            "'none'",
        )?;
        let frame_ancestors_development = parse_frame_ancestors(
            "PLUGBOARD_FRAME_ANCESTORS_DEVELOPMENT",
            raw.frame_ancestors_development,
            "*",
        )?;
        let webhooks = parse_webhooks(&raw_webhooks)?;
        let rate_limit_api = parse_rate(
            "PLUGBOARD_RATE_LIMIT_API",
            raw.rate_limit_api.as_ref(),
            1000,
        )?;
        let rate_limit_credentials = parse_rate(
            "PLUGBOARD_RATE_LIMIT_CREDENTIALS",
            raw.rate_limit_credentials.as_ref(),
            10,
        )?;
        let rate_limit_credentials_per_client = parse_rate(
            "PLUGBOARD_RATE_LIMIT_CREDENTIALS_PER_CLIENT",
            raw.rate_limit_credentials_per_client.as_ref(),
            30,
        )?;
        let rate_limit_credentials_per_environment = parse_rate(
            "PLUGBOARD_RATE_LIMIT_CREDENTIALS_PER_ENVIRONMENT",
            raw.rate_limit_credentials_per_environment.as_ref(),
            600,
        )?;
        let rate_limit_pages = parse_rate(
            "PLUGBOARD_RATE_LIMIT_PAGES",
            raw.rate_limit_pages.as_ref(),
            120,
        )?;
        let rate_limit_pages_per_client = parse_rate(
            "PLUGBOARD_RATE_LIMIT_PAGES_PER_CLIENT",
            raw.rate_limit_pages_per_client.as_ref(),
            600,
        )?;
        let rate_limit_auth = parse_rate(
            "PLUGBOARD_RATE_LIMIT_AUTH",
            raw.rate_limit_auth.as_ref(),
            120,
        )?;
        let previous_master_keys = raw
            .previous_master_keys
            .as_ref()
            .map(TextOrList::items)
            .unwrap_or_default()
            .iter()
            .map(|text| {
                parse_master_key(text).map_err(|e| {
                    // The message names PLUGBOARD_MASTER_KEY; say which variable it really was.
                    ConfigError(e.0.replacen(
                        "PLUGBOARD_MASTER_KEY",
                        "PLUGBOARD_PREVIOUS_MASTER_KEYS",
                        1,
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let trusted_proxies =
            parse_networks("PLUGBOARD_TRUSTED_PROXIES", raw.trusted_proxies.as_ref())?;
        let metrics_listen = match non_empty(raw.metrics_listen.take()) {
            None => None,
            Some(text) => Some(text.parse().map_err(|_| {
                error(
                    "PLUGBOARD_METRICS_LISTEN",
                    format!("{text:?} is not an address like 127.0.0.1:9090"),
                )
            })?),
        };
        let metrics_token = match non_empty(raw.metrics_token.take()) {
            Some(token) if token.len() < 16 => {
                return Err(error(
                    "PLUGBOARD_METRICS_TOKEN",
                    "must be at least 16 characters; generate one with `openssl rand -hex 32`",
                ));
            }
            token => token.map(Secret),
        };
        Ok(Self {
            listen,
            data_dir,
            database,
            public_url,
            master_key,
            log,
            log_format,
            product_name,
            tool_base_urls,
            frame_ancestors_production,
            frame_ancestors_development,
            webhooks,
            rate_limit_api,
            rate_limit_credentials,
            rate_limit_credentials_per_client,
            rate_limit_credentials_per_environment,
            rate_limit_pages,
            rate_limit_pages_per_client,
            rate_limit_auth,
            previous_master_keys,
            trusted_proxies,
            http,
            metrics_listen,
            metrics_token,
            brand,
        })
    }
}

fn parse_http(raw: &RawConfig) -> Result<HttpConfig, ConfigError> {
    let defaults = HttpConfig::default();
    let connections = |variable: &str, value: Option<&Scalar>| {
        value
            // An empty value (as in .env.sample) means the default.
            .filter(|value| !value.text().trim().is_empty())
            .map(|value| {
                let text = value.text();
                text.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| (1..=1_000_000).contains(&n))
                    .ok_or_else(|| {
                        error(
                            variable,
                            format!("{text:?} is not a number from 1 to 1000000"),
                        )
                    })
            })
            .transpose()
    };
    let duration = |variable: &str, value: Option<&Scalar>, default| {
        value
            .filter(|value| !value.text().trim().is_empty())
            .map_or(Ok(default), |value| parse_duration(variable, &value.text()))
    };
    Ok(HttpConfig {
        max_connections: connections(
            "PLUGBOARD_HTTP_MAX_CONNECTIONS",
            raw.http_max_connections.as_ref(),
        )?,
        max_connections_per_client: connections(
            "PLUGBOARD_HTTP_MAX_CONNECTIONS_PER_CLIENT",
            raw.http_max_connections_per_client.as_ref(),
        )?,
        header_timeout: duration(
            "PLUGBOARD_HTTP_HEADER_TIMEOUT",
            raw.http_header_timeout.as_ref(),
            defaults.header_timeout,
        )?,
        body_timeout: duration(
            "PLUGBOARD_HTTP_BODY_TIMEOUT",
            raw.http_body_timeout.as_ref(),
            defaults.body_timeout,
        )?,
    })
}

/// The webhook keys of [`RawConfig`], taken out before the rest is consumed.
struct RawWebhooks {
    retry_schedule: Option<TextOrList>,
    timeout: Option<Scalar>,
    concurrency: Option<Scalar>,
    endpoint_concurrency: Option<Scalar>,
    disable_after: Option<Scalar>,
    allowed_networks: Option<TextOrList>,
    allow_loopback: Option<Flag>,
}

/// A yes/no setting: a TOML boolean, or `true`/`false` (also `1`/`0`, `yes`/`no`) as text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Text(String),
}

fn parse_flag(variable: &str, value: &Flag) -> Result<bool, ConfigError> {
    match value {
        Flag::Bool(value) => Ok(*value),
        Flag::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" | "" => Ok(false),
            _ => Err(error(variable, format!("{text:?} is not true or false"))),
        },
    }
}

fn parse_duration(variable: &str, text: &str) -> Result<std::time::Duration, ConfigError> {
    let duration = humantime::parse_duration(text.trim()).map_err(|e| {
        error(
            variable,
            format!("{text:?} is not a duration such as 15s, 5m or 2h ({e})"),
        )
    })?;
    if duration.is_zero() {
        return Err(error(variable, "must be longer than zero"));
    }
    Ok(duration)
}

fn parse_count(variable: &str, value: &Scalar) -> Result<u32, ConfigError> {
    let text = value.text();
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|&n| (1..=10_000).contains(&n))
        .ok_or_else(|| {
            error(
                variable,
                format!("{text:?} is not a number from 1 to 10000"),
            )
        })
}

fn parse_webhooks(raw: &RawWebhooks) -> Result<WebhookConfig, ConfigError> {
    let mut config = WebhookConfig::default();
    if let Some(schedule) = &raw.retry_schedule {
        const VARIABLE: &str = "PLUGBOARD_WEBHOOK_RETRY_SCHEDULE";
        config.retry_schedule = schedule
            .items()
            .iter()
            .map(|item| parse_duration(VARIABLE, item))
            .collect::<Result<_, _>>()?;
        if config.retry_schedule.len() > 50 {
            return Err(error(VARIABLE, "has more than 50 retries"));
        }
    }
    if let Some(value) = &raw.timeout {
        const VARIABLE: &str = "PLUGBOARD_WEBHOOK_TIMEOUT";
        config.timeout = parse_duration(VARIABLE, &value.text())?;
        if config.timeout > std::time::Duration::from_secs(120) {
            return Err(error(VARIABLE, "must be at most 2 minutes"));
        }
    }
    if let Some(value) = &raw.concurrency {
        config.concurrency = parse_count("PLUGBOARD_WEBHOOK_CONCURRENCY", value)?;
    }
    if let Some(value) = &raw.endpoint_concurrency {
        config.endpoint_concurrency = parse_count("PLUGBOARD_WEBHOOK_ENDPOINT_CONCURRENCY", value)?;
    }
    if let Some(value) = &raw.disable_after {
        config.disable_after = parse_duration("PLUGBOARD_WEBHOOK_DISABLE_AFTER", &value.text())?;
    }
    config.allowed_networks = parse_networks(
        "PLUGBOARD_WEBHOOK_ALLOWED_NETWORKS",
        raw.allowed_networks.as_ref(),
    )?;
    if let Some(value) = &raw.allow_loopback {
        config.allow_loopback = parse_flag("PLUGBOARD_WEBHOOK_ALLOW_LOOPBACK", value)?;
    }
    Ok(config)
}

/// A list of networks (`10.0.0.0/8`) or single addresses.
fn parse_networks(
    variable: &str,
    value: Option<&TextOrList>,
) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .items()
        .iter()
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    error(
                        variable,
                        format!("{item:?} is not a network such as 10.0.0.0/8"),
                    )
                })
        })
        .collect()
}

/// A rate per minute: a number from 1 to 1,000,000, or `off`.
fn parse_rate(
    variable: &str,
    value: Option<&Scalar>,
    default: u32,
) -> Result<Option<std::num::NonZeroU32>, ConfigError> {
    let Some(value) = value else {
        return Ok(std::num::NonZeroU32::new(default));
    };
    let text = value.text();
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    text.parse::<u32>()
        .ok()
        .filter(|n| (1..=1_000_000).contains(n))
        .and_then(std::num::NonZeroU32::new)
        .map(Some)
        .ok_or_else(|| {
            error(
                variable,
                format!("{text:?} is neither `off` nor a number of requests per minute from 1 to 1000000"),
            )
        })
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn parse_tool_base_urls(
    value: Option<StringOrMap>,
) -> Result<std::collections::BTreeMap<String, String>, ConfigError> {
    const VARIABLE: &str = "PLUGBOARD_TOOL_BASE_URLS";
    let pairs = match value {
        None => return Ok(Default::default()),
        Some(StringOrMap::Map(map)) => map,
        Some(StringOrMap::Text(text)) => text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                pair.split_once('=')
                    .map(|(tool, url)| (tool.to_owned(), url.to_owned()))
                    .ok_or_else(|| error(VARIABLE, format!("{pair:?} is not tool=url")))
            })
            .collect::<Result<_, _>>()?,
    };
    for (tool, url) in &pairs {
        let parsed = Url::parse(&url.replace(['{', '}'], "")).map_err(|e| {
            error(
                VARIABLE,
                format!("{tool}: {url:?} is not an absolute URL ({e})"),
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(error(VARIABLE, format!("{tool}: {url:?} must be http(s)")));
        }
    }
    Ok(pairs)
}

fn parse_frame_ancestors(
    variable: &str,
    value: Option<String>,
    default: &str,
) -> Result<String, ConfigError> {
    let Some(value) = non_empty(value) else {
        return Ok(default.to_owned());
    };
    for source in value.split_whitespace() {
        let ok = source == "*"
            || source == "'self'"
            || source == "'none'"
            || Url::parse(&source.replace("*.", "wildcard."))
                .is_ok_and(|url| url.path() == "/" && url.query().is_none())
            || source.ends_with(':');
        if !ok || source.contains([';', ',', '"']) {
            return Err(error(
                variable,
                format!("{source:?} is not an origin such as https://app.example.com"),
            ));
        }
    }
    Ok(value.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn parse_database_url(url: &str) -> Result<Database, ConfigError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Database::Postgres(url.to_owned()));
    }
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() || path.starts_with(":memory:") {
            return Err(error(
                "PLUGBOARD_DATABASE_URL",
                "needs a SQLite file path, e.g. sqlite://./plugboard.db",
            ));
        }
        return Ok(Database::Sqlite(PathBuf::from(path)));
    }
    Err(error(
        "PLUGBOARD_DATABASE_URL",
        "must start with postgres://, postgresql:// or sqlite:// (credentials not shown)",
    ))
}

fn parse_public_url(value: Option<String>, listen: SocketAddr) -> Result<Url, ConfigError> {
    let text = value.unwrap_or_else(|| format!("http://{listen}"));
    let url = Url::parse(&text).map_err(|e| {
        error(
            "PLUGBOARD_PUBLIC_URL",
            format!("{text:?} is not an absolute URL ({e})"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(error(
            "PLUGBOARD_PUBLIC_URL",
            format!("{text:?} must be an http(s) URL with a host"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(error(
            "PLUGBOARD_PUBLIC_URL",
            "must not have a query or fragment",
        ));
    }
    Ok(url)
}

/// Parses a base64 master key (standard or URL-safe alphabet, padding optional).
pub fn parse_master_key(text: &str) -> Result<MasterKey, ConfigError> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let trimmed = text.trim().trim_end_matches('=');
    let bytes = STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed))
        .map_err(|_| error("PLUGBOARD_MASTER_KEY", "is not base64 (value not shown)"))?;
    let key: [u8; 32] = bytes.try_into().map_err(|bytes: Vec<u8>| {
        error(
            "PLUGBOARD_MASTER_KEY",
            format!("must decode to 32 bytes, not {}", bytes.len()),
        )
    })?;
    Ok(MasterKey::new(key))
}

impl Config {
    /// The configuration when nothing is set: every default. Tests and tools start from this
    /// and override what they need.
    pub fn defaults() -> Self {
        Self::from_raw(RawConfig::default())
            .unwrap_or_else(|e| unreachable!("the defaults are valid: {e}"))
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
mod tests {
    use super::*;

    #[test]
    fn every_key_is_documented_in_the_readme_and_the_env_sample() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"));
        let sample = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.env.sample"));
        for key in KEYS {
            let variable = format!("PLUGBOARD_{key}");
            assert!(
                readme.contains(&format!("| `{variable}` | `{}`", key.to_lowercase())),
                "README.md's configuration table has no row for {variable}"
            );
            assert!(
                sample.lines().any(|line| line
                    .trim_start_matches("# ")
                    .starts_with(&format!("{variable}="))),
                ".env.sample does not name {variable}"
            );
        }
    }

    fn parse(raw: RawConfig) -> Result<Config, String> {
        Config::from_raw(raw).map_err(|e| e.to_string())
    }

    #[test]
    fn webhook_settings_take_text_lists_and_numbers() {
        let from_env = parse(RawConfig {
            webhook_retry_schedule: Some(TextOrList::Text("100ms, 2s,1h".into())),
            webhook_timeout: Some(Scalar::Text("3s".into())),
            webhook_concurrency: Some(Scalar::Text("12".into())),
            webhook_allowed_networks: Some(TextOrList::Text("10.0.0.0/8 192.168.1.7".into())),
            webhook_allow_loopback: Some(Flag::Text("TRUE".into())),
            ..Default::default()
        })
        .expect("valid");
        let webhooks = &from_env.webhooks;
        assert_eq!(
            webhooks.retry_schedule,
            [
                std::time::Duration::from_millis(100),
                std::time::Duration::from_secs(2),
                std::time::Duration::from_secs(3600)
            ]
        );
        assert_eq!(webhooks.timeout, std::time::Duration::from_secs(3));
        assert_eq!(webhooks.concurrency, 12);
        assert_eq!(webhooks.allowed_networks.len(), 2);
        assert!(webhooks.allow_loopback);
        assert!(!WebhookConfig::default().allow_loopback, "opt-in");
        let from_toml = parse(RawConfig {
            webhook_retry_schedule: Some(TextOrList::List(vec!["5s".into(), "5m".into()])),
            webhook_endpoint_concurrency: Some(Scalar::Number(3)),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(from_toml.webhooks.retry_schedule.len(), 2);
        assert_eq!(from_toml.webhooks.endpoint_concurrency, 3);
        let timeout = parse(RawConfig {
            webhook_timeout: Some(Scalar::Text("10m".into())),
            ..Default::default()
        })
        .expect_err("too long");
        assert!(timeout.contains("PLUGBOARD_WEBHOOK_TIMEOUT"), "{timeout}");
    }

    #[test]
    fn rate_limits_take_numbers_or_off() {
        let config = parse(RawConfig {
            rate_limit_api: Some(Scalar::Text("off".into())),
            rate_limit_credentials: Some(Scalar::Number(3)),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(config.rate_limit_api, None);
        assert_eq!(config.rate_limit_credentials.map(|n| n.get()), Some(3));
        let defaults = parse(RawConfig::default()).expect("defaults");
        assert_eq!(defaults.rate_limit_api.map(|n| n.get()), Some(1000));
        assert_eq!(defaults.rate_limit_credentials.map(|n| n.get()), Some(10));
        let get = |limit: Option<std::num::NonZeroU32>| limit.map(std::num::NonZeroU32::get);
        assert_eq!(get(defaults.rate_limit_credentials_per_client), Some(30));
        assert_eq!(
            get(defaults.rate_limit_credentials_per_environment),
            Some(600)
        );
        assert_eq!(get(defaults.rate_limit_pages), Some(120));
        assert_eq!(get(defaults.rate_limit_pages_per_client), Some(600));
        assert_eq!(get(defaults.rate_limit_auth), Some(120));
        for bad in ["0", "-1", "many", "2000000"] {
            let message = parse(RawConfig {
                rate_limit_api: Some(Scalar::Text(bad.into())),
                ..Default::default()
            })
            .expect_err(bad);
            assert!(message.starts_with("PLUGBOARD_RATE_LIMIT_API"), "{message}");
        }
    }

    #[test]
    fn previous_master_keys_are_a_list_named_in_errors() {
        let key = |byte| base64::engine::general_purpose::STANDARD.encode([byte; 32]);
        let config = parse(RawConfig {
            previous_master_keys: Some(TextOrList::Text(format!("{},{}", key(1), key(2)))),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(config.previous_master_keys.len(), 2);
        let message = parse(RawConfig {
            previous_master_keys: Some(TextOrList::Text("s3cr3t!!".into())),
            ..Default::default()
        })
        .expect_err("invalid");
        assert!(
            message.starts_with("PLUGBOARD_PREVIOUS_MASTER_KEYS"),
            "{message}"
        );
        assert!(!message.contains("s3cr3t"), "{message}");
    }

    #[test]
    fn defaults_need_nothing() {
        let config = parse(RawConfig::default()).expect("defaults");
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(
            config.database,
            Database::Sqlite(PathBuf::from(DEFAULT_DATA_DIR).join("plugboard.db"))
        );
        assert_eq!(config.public("/connect"), "http://127.0.0.1:8080/connect");
        assert!(matches!(config.master_key, MasterKeySource::DataDir(_)));
        assert_eq!(config.log_format, LogFormat::Text);
    }

    #[test]
    fn errors_name_the_variable() {
        let cases: Vec<(RawConfig, &str)> = vec![
            (
                RawConfig {
                    listen: Some("localhost".into()),
                    ..Default::default()
                },
                "PLUGBOARD_LISTEN",
            ),
            (
                RawConfig {
                    database_url: Some("mysql://x".into()),
                    ..Default::default()
                },
                "PLUGBOARD_DATABASE_URL",
            ),
            (
                RawConfig {
                    database_url: Some("sqlite::memory:".into()),
                    ..Default::default()
                },
                "PLUGBOARD_DATABASE_URL",
            ),
            (
                RawConfig {
                    public_url: Some("example.com".into()),
                    ..Default::default()
                },
                "PLUGBOARD_PUBLIC_URL",
            ),
            (
                RawConfig {
                    public_url: Some("ftp://example.com".into()),
                    ..Default::default()
                },
                "PLUGBOARD_PUBLIC_URL",
            ),
            (
                RawConfig {
                    master_key: Some("not base64!".into()),
                    ..Default::default()
                },
                "PLUGBOARD_MASTER_KEY",
            ),
            (
                RawConfig {
                    master_key: Some("AAAA".into()),
                    ..Default::default()
                },
                "PLUGBOARD_MASTER_KEY",
            ),
            (
                RawConfig {
                    database_url: Some("postgres://db/x".into()),
                    ..Default::default()
                },
                "PLUGBOARD_MASTER_KEY",
            ),
            (
                RawConfig {
                    log_format: Some("xml".into()),
                    ..Default::default()
                },
                "PLUGBOARD_LOG_FORMAT",
            ),
            (
                RawConfig {
                    log: Some("info,[".into()),
                    ..Default::default()
                },
                "PLUGBOARD_LOG",
            ),
        ];
        for (raw, variable) in cases {
            let message = parse(raw).expect_err(variable);
            assert!(message.starts_with(variable), "{message}");
        }
    }

    #[test]
    fn secrets_are_not_echoed_in_errors() {
        let message = parse(RawConfig {
            master_key: Some("s3cr3t!!".into()),
            ..Default::default()
        })
        .expect_err("invalid");
        assert!(!message.contains("s3cr3t"), "{message}");
        let message = parse(RawConfig {
            database_url: Some("mysql://u:hunter2@db".into()),
            ..Default::default()
        })
        .expect_err("invalid");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn master_keys_accept_both_base64_alphabets() {
        let key = [0xfb_u8; 32];
        let standard = base64::engine::general_purpose::STANDARD.encode(key);
        let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key);
        assert!(standard.contains('+') || standard.contains('/'));
        assert_eq!(parse_master_key(&standard).expect("standard").bytes(), &key);
        assert_eq!(parse_master_key(&url_safe).expect("url-safe").bytes(), &key);
    }

    #[test]
    fn postgres_and_sqlite_urls() {
        let key = Some(base64::engine::general_purpose::STANDARD.encode([1u8; 32]));
        let pg = parse(RawConfig {
            database_url: Some("postgres://u@h/db".into()),
            master_key: key,
            ..Default::default()
        })
        .expect("postgres");
        assert_eq!(pg.database, Database::Postgres("postgres://u@h/db".into()));
        let lite = parse(RawConfig {
            database_url: Some("sqlite:///var/lib/pb.db?mode=rwc".into()),
            ..Default::default()
        })
        .expect("sqlite");
        assert_eq!(
            lite.database,
            Database::Sqlite(PathBuf::from("/var/lib/pb.db"))
        );
    }
}
