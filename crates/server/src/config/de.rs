//! How each kind of value is read, for `#[serde(deserialize_with = …)]`. The environment gives
//! text, a TOML file numbers, booleans, arrays and tables too; both forms are accepted. The
//! messages say what is wrong with the value; the caller prefixes the variable's name.

use std::{
    collections::BTreeMap, fmt::Display, net::SocketAddr, num::NonZeroU32, ops::RangeInclusive,
    path::PathBuf, str::FromStr, time::Duration,
};

use serde::{Deserialize, Deserializer, de::Error};
use url::Url;

use super::{Database, LogFormat, Secret};
use crate::vault::MasterKey;

/// A scalar, whichever TOML type it was written as; read as text.
#[derive(Deserialize)]
#[serde(untagged, expecting = "text, a number or a boolean")]
enum Scalar {
    Text(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
}

/// A list: a TOML array, or text separated by commas or spaces.
#[derive(Deserialize)]
#[serde(untagged, expecting = "a list, or text separated by commas or spaces")]
enum TextOrList {
    List(Vec<String>),
    Text(String),
}

/// A map: a TOML table, or `key=value` pairs separated by commas or spaces.
#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "a table, or key=value pairs separated by commas or spaces"
)]
enum TextOrMap {
    Map(BTreeMap<String, String>),
    Text(String),
}

/// Declares `deserialize_with` functions that read a [`Scalar`] as text and parse it.
macro_rules! readers {
    ($($(#[$doc:meta])* $name:ident($parse:expr) -> $type:ty;)*) => {$(
        $(#[$doc])*
        pub fn $name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<$type, D::Error> {
            let text = match Scalar::deserialize(deserializer)? {
                Scalar::Text(text) => text,
                Scalar::Integer(n) => n.to_string(),
                Scalar::Float(n) => n.to_string(),
                Scalar::Bool(b) => b.to_string(),
            };
            ($parse)(text.as_str()).map_err(D::Error::custom)
        }
    )*};
}

readers! {
    /// A socket address such as `127.0.0.1:8080`.
    address(parse_address) -> SocketAddr;
    /// An optional [`address`].
    some_address(|text| parse_address(text).map(Some)) -> Option<SocketAddr>;
    /// A duration longer than zero: `15s`, `5m`, `2h`, `5d`.
    duration(parse_duration) -> Duration;
    /// A duration that may be zero: `0s`, `15m`, `3d`.
    duration_or_zero(|text: &str| match text.trim() {
        "0" => Ok(Duration::ZERO),
        other => humantime::parse_duration(other).map_err(|e| format!("{other:?} is not a duration like 3d or 0s ({e})")),
    }) -> Duration;
    /// A webhook request's timeout: at most 2 minutes, since it holds a slot that long.
    webhook_timeout(|text| match parse_duration(text)? {
        timeout if timeout > Duration::from_secs(120) => Err("must be at most 2 minutes".to_owned()),
        timeout => Ok(timeout),
    }) -> Duration;
    /// A size in bytes from 1 KiB to 1 GiB: `65536`, `512KiB`, `10MiB` (also kB, MB).
    byte_size(|text: &str| {
        let size = text.trim().parse::<bytesize::ByteSize>().map_err(|e| format!("{text:?} is not a size like 10MiB ({e})"))?;
        match usize::try_from(size.as_u64()) {
            Ok(bytes) if (1024..=1 << 30).contains(&bytes) => Ok(bytes),
            _ => Err(format!("{text:?} must be from 1KiB to 1GiB")),
        }
    }) -> usize;
    /// A number of requests in flight, from 1 to 10,000.
    count(|text| number(text, 1..=10_000)) -> u32;
    /// A number of connections, from 1 to 1,000,000.
    connections(|text| number(text, 1..=1_000_000).map(Some)) -> Option<usize>;
    /// A rate per minute from 1 to 1,000,000, or `off` (`None`).
    rate(parse_rate) -> Option<NonZeroU32>;
    /// Yes or no: a TOML boolean, or `true`/`false`, `1`/`0`, `yes`/`no` in any case.
    flag(parse_flag) -> bool;
    /// An OpenID Connect issuer URL, kept exactly as written (discovery compares it with the
    /// provider's `issuer` to the letter, trailing slash included): https, or http on loopback.
    issuer(|text| parse_issuer(text).map(Some)) -> Option<String>;
    /// Text without surrounding spaces.
    trimmed(|text: &str| Ok::<_, String>(Some(text.trim().to_owned()))) -> Option<String>;
    /// A `tracing` filter such as `info,plugboard=debug`.
    log_filter(|text: &str| match tracing_subscriber::EnvFilter::try_new(text) {
        Ok(_) => Ok(text.to_owned()),
        Err(e) => Err(e.to_string()),
    }) -> String;
    /// `text` or `json`.
    log_format(|text| match text {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("{other:?} is neither text nor json")),
    }) -> LogFormat;
    /// A CSP `frame-ancestors` source list.
    frame_ancestors(parse_frame_ancestors) -> String;
    /// A database URL, never echoed, as it may hold a password.
    database(|text| parse_database(text).map(Some)) -> Option<Database>;
    /// The public URL: absolute http(s) with a host, no query or fragment.
    public_url(|text| parse_public_url(text).map(Some)) -> Option<Url>;
    /// A master key (see [`decode_master_key`]).
    master_key(|text| decode_master_key(text).map(Some)) -> Option<MasterKey>;
    /// A bearer token of at least 16 characters.
    token(parse_token) -> Option<Secret>;
}

/// The waits before each webhook retry: at most 50 [`duration`]s.
pub fn retry_schedule<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
    let schedule = list(d, parse_duration)?;
    if schedule.len() > 50 {
        return Err(D::Error::custom("has more than 50 retries"));
    }
    Ok(schedule)
}

/// Networks (`10.0.0.0/8`) or single addresses.
pub fn networks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
    list(d, |item| {
        item.parse::<ipnet::IpNet>()
            .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map_err(|_| format!("{item:?} is not a network such as 10.0.0.0/8"))
    })
}

/// Earlier master keys, a list of [`master_key`]s.
pub fn master_keys<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<MasterKey>, D::Error> {
    list(d, decode_master_key)
}

/// Reads a list and parses each item with `parse`.
fn list<'de, D: Deserializer<'de>, T>(
    deserializer: D,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, D::Error> {
    let items = match TextOrList::deserialize(deserializer)? {
        TextOrList::List(items) => items,
        TextOrList::Text(text) => split(&text).map(str::to_owned).collect(),
    };
    let parsed: Result<_, _> = items.iter().map(|item| parse(item)).collect();
    parsed.map_err(D::Error::custom)
}

fn split(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|item| !item.is_empty())
}

/// Per-tool API base URLs: `tool=url` pairs or a table; each an absolute http(s) URL, which
/// may hold `{placeholders}`.
pub fn tool_base_urls<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let pairs = match TextOrMap::deserialize(deserializer)? {
        TextOrMap::Map(map) => map,
        TextOrMap::Text(text) => split(&text)
            .map(|pair| match pair.split_once('=') {
                Some((tool, url)) => Ok((tool.to_owned(), url.to_owned())),
                None => Err(D::Error::custom(format!("{pair:?} is not tool=url"))),
            })
            .collect::<Result<_, _>>()?,
    };
    for (tool, url) in &pairs {
        let parsed = Url::parse(&url.replace(['{', '}'], "")).map_err(|e| {
            D::Error::custom(format!("{tool}: {url:?} is not an absolute URL ({e})"))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(D::Error::custom(format!("{tool}: {url:?} must be http(s)")));
        }
    }
    Ok(pairs)
}

fn parse_address(text: &str) -> Result<SocketAddr, String> {
    (text.trim().parse()).map_err(|_| format!("{text:?} is not an address like 127.0.0.1:8080"))
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?} is not a duration such as 15s, 5m or 2h ({e})"))?;
    if duration.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    Ok(duration)
}

fn number<T: FromStr + PartialOrd + Display>(
    text: &str,
    range: RangeInclusive<T>,
) -> Result<T, String> {
    (text.trim().parse().ok())
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            let (start, end) = range.into_inner();
            format!("{text:?} is not a number from {start} to {end}")
        })
}

fn parse_rate(text: &str) -> Result<Option<NonZeroU32>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    (text.parse::<u32>().ok())
        .filter(|n| (1..=1_000_000).contains(n))
        .and_then(NonZeroU32::new)
        .map(Some)
        .ok_or_else(|| {
            format!(
                "{text:?} is neither `off` nor a number of requests per minute from 1 to 1000000"
            )
        })
}

fn parse_flag(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(format!("{text:?} is not true or false")),
    }
}

/// An issuer: an absolute https URL (http only on loopback, for a provider on this machine)
/// without query or fragment, kept as written.
fn parse_issuer(text: &str) -> Result<String, String> {
    let text = text.trim();
    let url = parse_public_url(text)?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    };
    if url.scheme() != "https" && !loopback {
        return Err(format!(
            "{text:?} must be an https URL (http only on loopback)"
        ));
    }
    Ok(text.to_owned())
}

/// Origins, `*`, `'self'`, `'none'` or schemes, with nothing that could end the directive.
pub(crate) fn parse_frame_ancestors(text: &str) -> Result<String, String> {
    for source in text.split_whitespace() {
        if !source.chars().all(|c| c.is_ascii_graphic()) {
            return Err(format!(
                "{:?} holds a character an origin cannot have",
                source.escape_debug().to_string()
            ));
        }
        let ok = matches!(source, "*" | "'self'" | "'none'")
            || Url::parse(&source.replace("*.", "wildcard."))
                .is_ok_and(|url| url.path() == "/" && url.query().is_none())
            || source.ends_with(':');
        if !ok || source.contains([';', ',', '"']) {
            return Err(format!(
                "{source:?} is not an origin such as https://app.example.com"
            ));
        }
    }
    Ok(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// `postgres://…`, `postgresql://…` or `sqlite://<file>`.
fn parse_database(url: &str) -> Result<Database, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Database::Postgres(url.to_owned()));
    }
    let path = (url.strip_prefix("sqlite://"))
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or("must start with postgres://, postgresql:// or sqlite:// (credentials not shown)")?;
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return Err("needs a SQLite file path, e.g. sqlite://./plugboard.db".to_owned());
    }
    Ok(Database::Sqlite(PathBuf::from(path)))
}

/// Parses a public URL (see [`public_url`]).
pub(super) fn parse_public_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{text:?} is not an absolute URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{text:?} must be an http(s) URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".to_owned());
    }
    Ok(url)
}

/// Decodes a base64 master key (standard or URL-safe alphabet, padding optional). The message
/// never shows the value.
pub(super) fn decode_master_key(text: &str) -> Result<MasterKey, String> {
    use base64::{
        Engine,
        engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD},
    };
    let trimmed = text.trim().trim_end_matches('=');
    let bytes = (STANDARD_NO_PAD.decode(trimmed))
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed))
        .map_err(|_| "is not base64 (value not shown)".to_owned())?;
    let key: [u8; 32] = bytes
        .try_into()
        .map_err(|bytes: Vec<u8>| format!("must decode to 32 bytes, not {}", bytes.len()))?;
    Ok(MasterKey::new(key))
}

fn parse_token(token: &str) -> Result<Option<Secret>, String> {
    if token.len() < 16 {
        return Err(
            "must be at least 16 characters; generate one with `openssl rand -hex 32`".to_owned(),
        );
    }
    Ok(Some(Secret(token.to_owned())))
}
