//! Where the keys come from: the embedded defaults, then the `--config` file, then
//! `PLUGBOARD_*` variables, each a flat table of keys. A key that nothing reads stops start-up
//! with the closest known one, and a value's error is named after its variable.

use std::{collections::BTreeSet, ffi::OsString, path::Path};

use figment::{
    Figment,
    error::Kind,
    providers::{Format, Serialized, Toml},
    value::{Dict, Value},
};
use serde::{
    Deserialize, Deserializer,
    de::{Error as _, Visitor, value::Error},
};

use super::{ConfigError, error};

/// Every key with its default and what it is for; merged first, and printed by
/// `plugboard default-config`. Keys without a default are in it too, commented out.
pub const DEFAULTS: &str = include_str!("../../config.default.toml");

/// `PLUGBOARD_*` variables that are not configuration keys but are set where Plugboard runs,
/// so they must not stop start-up (a trailing `*` matches any rest). Any other unknown
/// `PLUGBOARD_*` variable is a typo or a removed key and does.
const NOT_KEYS: &[&str] = &[
    // The `--config` file, which the command line parser reads.
    "CONFIG",
    // The test suite's, benchmarks', browser tests' and API fuzzer's own settings
    // (scripts/test, bench/run, tests/browser, scripts/schemathesis); they stay in the
    // environment of the servers those start.
    "TEST_*",
    "BENCH_*",
    "BROWSER_TESTS_*",
    "SCHEMATHESIS_*",
    // What applications call Plugboard with (the README, examples/express, tests/compat),
    // often exported in the shell that also starts Plugboard.
    "URL",
    "API_KEY",
    "WEBHOOK_SECRET",
    "SERVER_URL",
    "DEV_API_KEY",
    "PROD_API_KEY",
    "DEV_ENVIRONMENT_ID",
    "ACTIVATION_TOKEN",
    "INTEGRATION_ID",
];

/// The sources merged in order, each checked against `keys`.
pub(super) fn figment(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (OsString, OsString)>,
    keys: &BTreeSet<&str>,
) -> Result<Figment, ConfigError> {
    let mut figment = defaults();
    if let Some(file) = file {
        figment = figment.merge(Serialized::defaults(from_file(file, keys)?));
    }
    Ok(figment.merge(Serialized::defaults(from_env(env, keys)?)))
}

/// The defaults alone.
pub(super) fn defaults() -> Figment {
    Figment::from(Toml::string(DEFAULTS))
}

/// The defaults of one section, for its `Default`.
pub(super) fn default_of<T: for<'de> Deserialize<'de>>() -> T {
    defaults()
        .extract()
        .unwrap_or_else(|e| unreachable!("config.default.toml is valid: {e}"))
}

fn from_file(file: &Path, keys: &BTreeSet<&str>) -> Result<Dict, ConfigError> {
    if !file.is_file() {
        return Err(error(
            "--config",
            format!("no such file: {}", file.display()),
        ));
    }
    let table: Dict = Figment::from(Toml::file(file))
        .extract()
        .map_err(|e| error("--config", e))?;
    let mut dict = Dict::new();
    for (key, value) in table {
        if !keys.contains(key.as_str()) {
            let message = format!(
                "unknown key `{key}`; did you mean `{}`?",
                closest(&key, keys)
            );
            return Err(error(&file.display().to_string(), message));
        }
        if !matches!(&value, Value::String(_, text) if text.trim().is_empty()) {
            dict.insert(key, value);
        }
    }
    Ok(dict)
}

fn from_env(
    env: impl IntoIterator<Item = (OsString, OsString)>,
    keys: &BTreeSet<&str>,
) -> Result<Dict, ConfigError> {
    let mut dict = Dict::new();
    for (name, value) in env {
        let Some(key) = name
            .to_str()
            .and_then(|name| name.strip_prefix("PLUGBOARD_"))
        else {
            continue;
        };
        if exempt(key) {
            continue;
        }
        let key = key.to_ascii_lowercase();
        let variable = format!("PLUGBOARD_{}", key.to_ascii_uppercase());
        if !keys.contains(key.as_str()) {
            let closest = closest(&key, keys).to_ascii_uppercase();
            let message = format!(
                "is not a configuration variable; did you mean PLUGBOARD_{closest}? (the \
                 README lists every variable)"
            );
            return Err(error(&variable, message));
        }
        let value = value
            .into_string()
            .map_err(|_| error(&variable, "is not valid UTF-8"))?;
        // An empty value, as in .env.sample, means the default.
        if !value.trim().is_empty() {
            dict.insert(key, Value::from(value));
        }
    }
    Ok(dict)
}

fn exempt(key: &str) -> bool {
    let key = key.to_ascii_uppercase();
    NOT_KEYS.iter().any(|name| match name.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix),
        None => key == *name,
    })
}

/// The known key nearest to `key` by edit distance.
fn closest<'k>(key: &str, keys: &BTreeSet<&'k str>) -> &'k str {
    keys.iter()
        .copied()
        .min_by_key(|known| distance(key, known))
        .unwrap_or_default()
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, a) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, b) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(a != *b);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(diagonal + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
}

/// A value's error, named after the variable of the key it was read from.
pub(super) fn named(error: figment::Error) -> ConfigError {
    let key = match (error.path.first(), &error.kind) {
        (Some(key), _) => key.clone(),
        (None, Kind::MissingField(key)) => key.to_string(),
        (None, _) => return ConfigError(format!("configuration: {error}")),
    };
    ConfigError(format!(
        "PLUGBOARD_{}: {}",
        key.to_ascii_uppercase(),
        error.kind
    ))
}

/// The keys `T` reads: the field names its derived `Deserialize` hands to
/// `deserialize_struct`, so that a key is declared by its field alone.
pub(super) fn fields<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Fields(&mut fields));
    fields
}

/// A deserializer that records a struct's field names and reads nothing.
struct Fields<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for Fields<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
        Err(Error::custom("only the field names are read"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Error> {
        *self.0 = fields;
        Err(Error::custom("only the field names are read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
