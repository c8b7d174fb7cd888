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
use serde::Deserialize;
use url::Url;

use crate::vault::MasterKey;

/// Default listen address: loopback only, so a first run exposes nothing.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "./plugboard-data";

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
    /// as a CSP `frame-ancestors` source list. Default `*`.
    pub frame_ancestors_production: String,
    /// `PLUGBOARD_FRAME_ANCESTORS_DEVELOPMENT`: the same for development links. Default `*`.
    pub frame_ancestors_development: String,
}

/// A configuration problem, naming the variable (and file) to fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

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
        // Only the documented keys are read from the environment; `PLUGBOARD_TEST_*` and the
        // like belong to other tools.
        let keys = [
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
        ];
        figment = figment.merge(Env::prefixed("PLUGBOARD_").only(&keys));
        let raw: RawConfig = figment
            .extract()
            .map_err(|e| ConfigError(format!("configuration: {e}")))?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawConfig) -> Result<Self, ConfigError> {
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
        let tool_base_urls = parse_tool_base_urls(raw.tool_base_urls)?;
        let frame_ancestors_production = parse_frame_ancestors(
            "PLUGBOARD_FRAME_ANCESTORS_PRODUCTION",
            raw.frame_ancestors_production,
        )?;
        let frame_ancestors_development = parse_frame_ancestors(
            "PLUGBOARD_FRAME_ANCESTORS_DEVELOPMENT",
            raw.frame_ancestors_development,
        )?;
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
        })
    }
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

fn parse_frame_ancestors(variable: &str, value: Option<String>) -> Result<String, ConfigError> {
    let Some(value) = non_empty(value) else {
        return Ok("*".to_owned());
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

    /// The absolute URL of `path` (which starts with `/`) under the public URL.
    pub fn public(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.as_str().trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: RawConfig) -> Result<Config, String> {
        Config::from_raw(raw).map_err(|e| e.to_string())
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
