use base64::Engine;

use super::*;

/// `Config::load` with exactly these `PLUGBOARD_*` variables (names without the prefix).
fn parse(vars: &[(&str, &str)]) -> Result<Config, String> {
    load(None, vars)
}

/// `Config::load` with `toml` as the `--config` file, under `vars`.
fn parse_toml(toml: &str, vars: &[(&str, &str)]) -> Result<Config, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("plugboard.toml");
    std::fs::write(&file, toml).expect("write");
    load(Some(&file), vars)
}

fn load(file: Option<&Path>, vars: &[(&str, &str)]) -> Result<Config, String> {
    let env = vars.iter().map(|(name, value)| {
        (
            OsString::from(format!("PLUGBOARD_{name}")),
            OsString::from(value),
        )
    });
    Config::load_from(file, env).map_err(|e| e.to_string())
}

/// The keys `config.default.toml` names, set or commented out (`# key = …`).
fn keys_in_defaults_file() -> BTreeSet<&'static str> {
    DEFAULTS
        .lines()
        .map(|line| line.strip_prefix("# ").unwrap_or(line))
        .filter_map(|line| line.split_once(" = "))
        .map(|(key, _)| key)
        .filter(|key| key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        .collect()
}

#[test]
fn the_defaults_file_names_every_key_and_no_other() {
    assert_eq!(keys_in_defaults_file(), keys());
    // What `plugboard default-config` prints is a valid `--config` file.
    parse_toml(DEFAULTS, &[]).expect("the defaults file as --config");
    assert!(keys().len() >= 42, "{:?}", keys());
}

#[test]
fn every_key_is_documented_in_the_readme_and_the_env_sample() {
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"));
    let sample = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.env.sample"));
    for key in keys() {
        let variable = format!("PLUGBOARD_{}", key.to_uppercase());
        assert!(
            readme.contains(&format!("| `{variable}` | `{key}`")),
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

#[test]
fn an_unknown_variable_or_key_stops_start_up_naming_the_closest() {
    let message = parse(&[("WEBHOOK_TIMOUT", "3s")]).expect_err("typo");
    assert!(message.starts_with("PLUGBOARD_WEBHOOK_TIMOUT"), "{message}");
    assert!(message.contains("PLUGBOARD_WEBHOOK_TIMEOUT?"), "{message}");
    let message = parse(&[("LISTEN_PORT", "3")]).expect_err("unknown");
    assert!(message.contains("PLUGBOARD_LISTEN?"), "{message}");
    let message = parse_toml("listen = \"127.0.0.1:1\"\nlisten_port = 3\n", &[]).expect_err("key");
    assert!(
        message.contains("`listen_port`; did you mean `listen`?"),
        "{message}"
    );
    // Other tools' variables, and variables of other programs, pass.
    let env = [
        ("PLUGBOARD_TEST_POSTGRES_URL", "postgres://db/test"),
        ("PLUGBOARD_CONFIG", "plugboard.toml"),
        ("PLUGBOARD_API_KEY", "pb_dev_x"),
        ("PLUGBOARD_SCHEMATHESIS_ISOLATED", "1"),
        ("HOME", "/root"),
    ]
    .map(|(name, value)| (OsString::from(name), OsString::from(value)));
    Config::load_from(None, env).expect("not configuration keys");
}

#[test]
fn empty_values_mean_the_default() {
    let names: Vec<String> = keys().iter().map(|key| key.to_uppercase()).collect();
    let vars: Vec<(&str, &str)> = names.iter().map(|name| (name.as_str(), " ")).collect();
    let config = parse(&vars).expect("all empty");
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    let config = parse_toml("listen = \"\"\nwebhook_timeout = \"\"\n", &[]).expect("empty");
    assert_eq!(config.webhooks.timeout, Duration::from_secs(15));
}

#[test]
fn every_bad_value_is_named_after_its_variable() {
    for key in keys() {
        let variable = key.to_uppercase();
        if let Err(message) = parse(&[(&variable, "\u{1}?;not-valid")]) {
            assert!(
                message.starts_with(&format!("PLUGBOARD_{variable}: ")),
                "{message}"
            );
        }
    }
}

#[test]
fn the_defaults_are_the_defaults_file() {
    let defaults = Config::defaults();
    let loaded = parse(&[]).expect("defaults");
    assert_eq!(format!("{defaults:?}"), format!("{loaded:?}"));
    assert_eq!(
        WebhookConfig::default().retry_schedule,
        loaded.webhooks.retry_schedule
    );
    assert_eq!(
        HttpConfig::default().header_timeout,
        Duration::from_secs(65)
    );
    assert_eq!(HttpConfig::default().body_timeout, Duration::from_secs(30));
}

#[test]
fn webhook_settings_take_text_lists_and_numbers() {
    let from_env = parse(&[
        ("WEBHOOK_RETRY_SCHEDULE", "100ms, 2s,1h"),
        ("WEBHOOK_TIMEOUT", "3s"),
        ("WEBHOOK_CONCURRENCY", "12"),
        ("WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/8 192.168.1.7"),
        ("WEBHOOK_ALLOW_LOOPBACK", "TRUE"),
    ])
    .expect("valid");
    let webhooks = &from_env.webhooks;
    assert_eq!(
        webhooks.retry_schedule,
        [
            Duration::from_millis(100),
            Duration::from_secs(2),
            Duration::from_secs(3600)
        ]
    );
    assert_eq!(webhooks.timeout, Duration::from_secs(3));
    assert_eq!(webhooks.concurrency, 12);
    assert_eq!(webhooks.allowed_networks.len(), 2);
    assert!(webhooks.allow_loopback);
    assert!(!WebhookConfig::default().allow_loopback, "opt-in");
    let from_toml = parse_toml(
        "webhook_retry_schedule = [\"5s\", \"5m\"]\nwebhook_endpoint_concurrency = 3\n\
         webhook_allow_loopback = true\n",
        &[],
    )
    .expect("valid");
    assert_eq!(from_toml.webhooks.retry_schedule.len(), 2);
    assert_eq!(from_toml.webhooks.endpoint_concurrency, 3);
    assert!(from_toml.webhooks.allow_loopback);
    let timeout = parse(&[("WEBHOOK_TIMEOUT", "10m")]).expect_err("too long");
    assert!(timeout.contains("PLUGBOARD_WEBHOOK_TIMEOUT"), "{timeout}");
}

#[test]
fn variables_win_over_the_file() {
    let toml = "listen = \"127.0.0.1:1\"\nlog = \"debug\"\n\
                [tool_base_urls]\nbamboohr = \"https://bamboo.internal/{subdomain}\"\n";
    let config = parse_toml(toml, &[("LISTEN", "127.0.0.1:2")]).expect("valid");
    assert_eq!(config.listen.to_string(), "127.0.0.1:2");
    assert_eq!(config.log, "debug");
    assert_eq!(
        config.tool_base_urls["bamboohr"],
        "https://bamboo.internal/{subdomain}"
    );
    let config =
        parse(&[("TOOL_BASE_URLS", "a=http://a.example,b=https://b.example")]).expect("text form");
    assert_eq!(config.tool_base_urls.len(), 2);
}

#[test]
fn rate_limits_take_numbers_or_off() {
    let config = parse_toml(
        "rate_limit_api = \"off\"\nrate_limit_credentials = 3\n",
        &[],
    )
    .expect("valid");
    assert_eq!(config.rate_limit_api, None);
    assert_eq!(config.rate_limit_credentials.map(|n| n.get()), Some(3));
    assert_eq!(
        parse(&[("RATE_LIMIT_API", "OFF")])
            .expect("off")
            .rate_limit_api,
        None
    );
    let defaults = parse(&[]).expect("defaults");
    let get = |limit: Option<NonZeroU32>| limit.map(NonZeroU32::get);
    assert_eq!(get(defaults.rate_limit_api), Some(1000));
    assert_eq!(get(defaults.rate_limit_credentials), Some(10));
    assert_eq!(get(defaults.rate_limit_credentials_per_client), Some(30));
    assert_eq!(
        get(defaults.rate_limit_credentials_per_environment),
        Some(600)
    );
    assert_eq!(get(defaults.rate_limit_pages), Some(120));
    assert_eq!(get(defaults.rate_limit_pages_per_client), Some(600));
    assert_eq!(get(defaults.rate_limit_auth), Some(120));
    for bad in ["0", "-1", "many", "2000000"] {
        let message = parse(&[("RATE_LIMIT_API", bad)]).expect_err(bad);
        assert!(message.starts_with("PLUGBOARD_RATE_LIMIT_API"), "{message}");
    }
}

#[test]
fn previous_master_keys_are_a_list_named_in_errors() {
    let key = |byte| base64::engine::general_purpose::STANDARD.encode([byte; 32]);
    let keys = format!("{},{}", key(1), key(2));
    let config = parse(&[("PREVIOUS_MASTER_KEYS", &keys)]).expect("valid");
    assert_eq!(config.previous_master_keys.len(), 2);
    let message = parse(&[("PREVIOUS_MASTER_KEYS", "s3cr3t!!")]).expect_err("invalid");
    assert!(
        message.starts_with("PLUGBOARD_PREVIOUS_MASTER_KEYS"),
        "{message}"
    );
    assert!(!message.contains("s3cr3t"), "{message}");
}

#[test]
fn defaults_need_nothing() {
    let config = parse(&[]).expect("defaults");
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(
        config.database,
        Database::Sqlite(PathBuf::from("./plugboard-data").join("plugboard.db"))
    );
    assert_eq!(config.public("/connect"), "http://127.0.0.1:8080/connect");
    assert!(matches!(config.master_key, MasterKeySource::DataDir(_)));
    assert_eq!(config.log_format, LogFormat::Text);
    let config = parse(&[("LISTEN", "127.0.0.1:9"), ("DATA_DIR", "/srv/pb")]).expect("valid");
    assert_eq!(config.public("/"), "http://127.0.0.1:9/");
    assert_eq!(
        config.database,
        Database::Sqlite("/srv/pb/plugboard.db".into())
    );
}

#[test]
fn errors_name_the_variable() {
    let cases = [
        ("LISTEN", "localhost"),
        ("DATABASE_URL", "mysql://x"),
        ("DATABASE_URL", "sqlite::memory:"),
        ("PUBLIC_URL", "example.com"),
        ("PUBLIC_URL", "ftp://example.com"),
        ("MASTER_KEY", "not base64!"),
        ("MASTER_KEY", "AAAA"),
        ("LOG_FORMAT", "xml"),
        ("LOG", "info,["),
        ("METRICS_TOKEN", "short"),
        ("METRICS_LISTEN", "internal:metrics"),
        ("HTTP_MAX_CONNECTIONS", "0"),
        ("HTTP_HEADER_TIMEOUT", "soon"),
        ("TRUSTED_PROXIES", "proxy.internal"),
        ("ACCENT_COLOR_DEVELOPMENT", "blue"),
    ];
    for (name, value) in cases {
        let message = parse(&[(name, value)]).expect_err(name);
        assert!(
            message.starts_with(&format!("PLUGBOARD_{name}: ")),
            "{message}"
        );
    }
    let message = parse(&[("DATABASE_URL", "postgres://db/x")]).expect_err("needs a key");
    assert!(message.starts_with("PLUGBOARD_MASTER_KEY: "), "{message}");
}

#[test]
fn secrets_are_not_echoed_in_errors_or_debug_output() {
    let message = parse(&[("MASTER_KEY", "s3cr3t!!")]).expect_err("invalid");
    assert!(!message.contains("s3cr3t"), "{message}");
    let message = parse(&[("DATABASE_URL", "mysql://u:hunter2@db")]).expect_err("invalid");
    assert!(!message.contains("hunter2"), "{message}");
    let token = "metrics-token-0123456789";
    let config = parse(&[("METRICS_TOKEN", token)]).expect("valid");
    assert!(!format!("{config:?}").contains(token));
    assert!(
        config
            .metrics_token
            .is_some_and(|secret| secret.matches(token))
    );
}

#[test]
fn master_keys_accept_both_base64_alphabets() {
    let key = [0xfb_u8; 32];
    let standard = base64::engine::general_purpose::STANDARD.encode(key);
    let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key);
    assert!(standard.contains('+') || standard.contains('/'));
    assert_eq!(parse_master_key(&standard).expect("standard").bytes(), &key);
    assert_eq!(parse_master_key(&url_safe).expect("url-safe").bytes(), &key);
    let config = parse(&[("MASTER_KEY", &url_safe)]).expect("configured");
    assert!(matches!(config.master_key, MasterKeySource::Configured(k) if k.bytes() == &key));
}

#[test]
fn postgres_and_sqlite_urls() {
    let key = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
    let pg =
        parse(&[("DATABASE_URL", "postgres://u@h/db"), ("MASTER_KEY", &key)]).expect("postgres");
    assert_eq!(pg.database, Database::Postgres("postgres://u@h/db".into()));
    let lite = parse(&[("DATABASE_URL", "sqlite:///var/lib/pb.db?mode=rwc")]).expect("sqlite");
    assert_eq!(
        lite.database,
        Database::Sqlite(PathBuf::from("/var/lib/pb.db"))
    );
}
