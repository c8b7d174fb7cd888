//! The real `plugboard` binary: configuration errors, `migrate`, `api-keys`, and `serve`.

use std::{
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use crate::binary::Binary;

fn plugboard(data_dir: &std::path::Path, args: &[&str]) -> Output {
    plugboard_with(data_dir, &[], args)
}

fn plugboard_with(data_dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plugboard"))
        .args(args)
        .env_clear()
        .env("PLUGBOARD_DATA_DIR", data_dir)
        // The tests' webhook URLs are on loopback.
        .env("PLUGBOARD_WEBHOOK_ALLOW_LOOPBACK", "true")
        .envs(env.iter().copied())
        .output()
        .expect("run plugboard")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `plugboard api-keys create --environment <environment> --name <name>`.
fn api_keys_create(data_dir: &std::path::Path, environment: &str, name: &str) -> Output {
    let args = [
        "api-keys",
        "create",
        "--environment",
        environment,
        "--name",
        name,
    ];
    plugboard(data_dir, &args)
}

/// `plugboard webhooks add --environment <environment> --url <url>`, then `more` arguments.
fn webhooks_add(data_dir: &std::path::Path, environment: &str, url: &str, more: &[&str]) -> Output {
    let mut args = vec![
        "webhooks",
        "add",
        "--environment",
        environment,
        "--url",
        url,
    ];
    args.extend_from_slice(more);
    plugboard(data_dir, &args)
}

#[test]
fn keys_generate_then_rotate_moves_every_secret_to_the_new_key() {
    use base64::Engine;
    let dir = tempfile::tempdir().expect("tempdir");
    let generated = plugboard(dir.path(), &["keys", "generate"]);
    assert!(generated.status.success(), "{}", stderr(&generated));
    let new_key = stdout(&generated).trim().to_owned();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&new_key)
        .expect("base64");
    assert_eq!(bytes.len(), 32);
    assert_ne!(
        stdout(&plugboard(dir.path(), &["keys", "generate"])).trim(),
        new_key
    );

    // A secret sealed with the generated data-directory key.
    let added = webhooks_add(dir.path(), "development", "http://127.0.0.1:9/hook", &[]);
    assert!(added.status.success(), "{}", stderr(&added));
    let old_key = std::fs::read_to_string(dir.path().join("master.key")).expect("key file");
    let status = plugboard(dir.path(), &["keys", "status"]);
    assert!(stdout(&status).contains("current"), "{}", stdout(&status));

    // The new key alone cannot open it, and says what to do.
    let new_only = [("PLUGBOARD_MASTER_KEY", new_key.as_str())];
    let refused = plugboard_with(dir.path(), &new_only, &["webhooks", "list"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("PLUGBOARD_PREVIOUS_MASTER_KEYS"),
        "{}",
        stderr(&refused)
    );

    let both = [
        ("PLUGBOARD_MASTER_KEY", new_key.as_str()),
        ("PLUGBOARD_PREVIOUS_MASTER_KEYS", old_key.trim()),
    ];
    let before = plugboard_with(dir.path(), &both, &["keys", "status"]);
    assert!(
        stdout(&before).contains("previous (can be opened)"),
        "{}",
        stdout(&before)
    );
    let rotated = plugboard_with(dir.path(), &both, &["keys", "rotate", "--batch-size", "1"]);
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    assert!(
        stderr(&rotated).contains("Re-sealed 1 secret(s)"),
        "{}",
        stderr(&rotated)
    );
    assert!(
        stdout(&rotated).contains("previous keys can be removed"),
        "{}",
        stdout(&rotated)
    );
    for output in [&generated, &status, &before, &rotated] {
        assert!(
            !stdout(output).contains(old_key.trim()) && !stderr(output).contains(old_key.trim())
        );
    }
    let listed = plugboard_with(dir.path(), &new_only, &["webhooks", "list"]);
    assert!(
        listed.status.success(),
        "the new key alone now opens everything: {}",
        stderr(&listed)
    );
}

#[test]
fn api_keys_create_prints_only_the_key_and_list_never_shows_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = api_keys_create(dir.path(), "development", "ci");
    assert!(created.status.success(), "{}", stderr(&created));
    let key = stdout(&created);
    assert!(
        key.starts_with("pb_dev_") && key.ends_with('\n') && key.lines().count() == 1,
        "{key:?}"
    );
    assert!(
        stderr(&created).contains("Generated a new master key"),
        "first start warns: {}",
        stderr(&created)
    );
    assert!(dir.path().join("master.key").exists() && dir.path().join("plugboard.db").exists());

    let prod = api_keys_create(dir.path(), "production", "deploy");
    assert!(stdout(&prod).starts_with("pb_prod_"));
    assert!(
        !stderr(&prod).contains("Generated a new master key"),
        "the key file is reused"
    );

    let list = plugboard(dir.path(), &["api-keys", "list"]);
    let listing = stdout(&list);
    assert!(
        listing.contains("development") && listing.contains("production") && listing.contains("ci"),
        "{listing}"
    );
    assert!(
        !listing.contains(key.trim()),
        "the key itself is never shown again"
    );
    assert!(
        !stderr(&list).contains(key.trim()) && !stderr(&created).contains(key.trim()),
        "nor logged"
    );
    let dev_only = stdout(&plugboard(
        dir.path(),
        &["api-keys", "list", "--environment", "development"],
    ));
    assert!(!dev_only.contains("deploy"), "{dev_only}");

    let id = listing
        .lines()
        .find(|line| line.ends_with("  ci"))
        .and_then(|line| line.split_whitespace().next())
        .expect("id");
    let revoked = plugboard(dir.path(), &["api-keys", "revoke", id]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    let again = plugboard(dir.path(), &["api-keys", "revoke", id]);
    assert!(
        !again.status.success() && stderr(&again).contains("no active API key"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn bad_arguments_and_configuration_fail_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad_env = plugboard(
        dir.path(),
        &[
            "api-keys",
            "create",
            "--environment",
            "staging",
            "--name",
            "x",
        ],
    );
    assert!(!bad_env.status.success() && stderr(&bad_env).contains("staging"));
    let empty_name = plugboard(
        dir.path(),
        &[
            "api-keys",
            "create",
            "--environment",
            "production",
            "--name",
            " ",
        ],
    );
    assert!(
        !empty_name.status.success() && stderr(&empty_name).contains("name"),
        "{}",
        stderr(&empty_name)
    );
    let output = Command::new(env!("CARGO_BIN_EXE_plugboard"))
        .args(["migrate"])
        .env_clear()
        .env("PLUGBOARD_DATA_DIR", dir.path())
        .env("PLUGBOARD_LISTEN", "not-an-address")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("PLUGBOARD_LISTEN"),
        "{}",
        stderr(&output)
    );
    // Every documented variable is read from the environment: a bad value stops start-up.
    for (variable, value) in [
        ("PLUGBOARD_TOOL_BASE_URLS", "bamboohr=ftp://files.example"),
        (
            "PLUGBOARD_FRAME_ANCESTORS_PRODUCTION",
            "https://a.example; script-src *",
        ),
        ("PLUGBOARD_FRAME_ANCESTORS_DEVELOPMENT", "not an origin"),
        ("PLUGBOARD_LOG_FORMAT", "xml"),
        ("PLUGBOARD_WEBHOOK_RETRY_SCHEDULE", "5s,soon"),
        ("PLUGBOARD_WEBHOOK_TIMEOUT", "0s"),
        ("PLUGBOARD_WEBHOOK_CONCURRENCY", "lots"),
        ("PLUGBOARD_WEBHOOK_ENDPOINT_CONCURRENCY", "0"),
        ("PLUGBOARD_WEBHOOK_DISABLE_AFTER", "forever"),
        ("PLUGBOARD_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/33"),
        // A misspelt variable is not ignored.
        ("PLUGBOARD_WEBHOOK_TIMOUT", "5s"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_plugboard"))
            .args(["migrate"])
            .env_clear()
            .env("PLUGBOARD_DATA_DIR", dir.path())
            .env(variable, value)
            .output()
            .expect("run");
        assert_eq!(
            output.status.code(),
            Some(2),
            "{variable}: {}",
            stderr(&output)
        );
        assert!(stderr(&output).contains(variable), "{}", stderr(&output));
    }
    let file = dir.path().join("plugboard.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:1\"\nlisten_port = 3\n").expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_plugboard"))
        .args(["--config", file.to_str().expect("utf-8"), "migrate"])
        .env_clear()
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("listen_port"),
        "unknown keys are named: {}",
        stderr(&output)
    );
}

/// A log file for a background process: its `Stdio`, and the file to read afterwards.
fn log_file() -> (Stdio, tempfile::NamedTempFile) {
    let file = tempfile::NamedTempFile::new().expect("log file");
    (file.reopen().expect("open the log").into(), file)
}

fn read(file: &tempfile::NamedTempFile) -> String {
    std::fs::read_to_string(file.path()).expect("log")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_then_serve_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let migrated = plugboard(dir.path(), &["migrate"]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    let binary = Binary::new(
        dir.path(),
        &[("PLUGBOARD_LOG", "info"), ("PLUGBOARD_LOG_FORMAT", "json")],
    );
    let (to_log, log) = log_file();
    // Returns once `/readyz` answers 200.
    let mut server = binary.serve(to_log).await;
    assert!(
        server.terminate().success(),
        "graceful exit: {}",
        read(&log)
    );
    let logs = read(&log);
    assert!(
        logs.lines().all(|line| line.starts_with('{')),
        "JSON logs: {logs}"
    );
    assert!(logs.contains("shutting down"), "{logs}");
}

#[test]
fn webhooks_add_prints_only_the_secret_then_list_and_remove() {
    let dir = tempfile::tempdir().expect("tempdir");
    let added = webhooks_add(
        dir.path(),
        "development",
        "http://127.0.0.1:9/hook",
        &["--events", "integration-created,integration-deleted"],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let secret = stdout(&added);
    assert!(
        secret.starts_with("whsec_") && secret.lines().count() == 1,
        "only the secret on stdout: {secret:?}"
    );
    let listed = plugboard(dir.path(), &["webhooks", "list"]);
    let listing = stdout(&listed);
    assert!(
        listing.contains("http://127.0.0.1:9/hook")
            && listing.contains("integration-created,integration-deleted")
            && listing.contains("development"),
        "{listing}"
    );
    assert!(
        !listing.contains(secret.trim()),
        "the secret is never shown again"
    );
    let id = listing
        .lines()
        .nth(1)
        .and_then(|line| line.split_whitespace().next())
        .expect("an endpoint row")
        .to_owned();

    // Production endpoints may not point at loopback; unknown event types are named.
    let refused = webhooks_add(dir.path(), "production", "http://127.0.0.1:9/", &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("--url"), "{}", stderr(&refused));
    let unknown = webhooks_add(
        dir.path(),
        "development",
        "https://hooks.example.com/",
        &["--events", "sync-finished"],
    );
    assert!(
        stderr(&unknown).contains("--events"),
        "{}",
        stderr(&unknown)
    );

    let removed = plugboard(dir.path(), &["webhooks", "remove", &id]);
    assert!(removed.status.success(), "{}", stderr(&removed));
    let again = plugboard(dir.path(), &["webhooks", "remove", &id]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("no webhook endpoint"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn worker_runs_alone_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (to_log, log) = log_file();
    let mut worker =
        Binary::new(dir.path(), &[("PLUGBOARD_LOG", "info")]).spawn(&["worker"], to_log);
    // The worker installs its SIGTERM handler when it first waits, a moment after it logs that
    // it started; a SIGTERM before that would end it the default way.
    let started = Instant::now();
    while !read(&log).contains("webhook worker started") {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the worker did not start: {}",
            read(&log)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        worker.terminate().success(),
        "graceful exit: {}",
        read(&log)
    );
    let logs = read(&log);
    assert!(
        logs.contains("webhook worker started") && logs.contains("webhook worker stopped"),
        "{logs}"
    );
}

#[test]
fn the_env_sample_is_a_valid_configuration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sample = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.env.sample"))
        .expect(".env.sample");
    let mut command = Command::new(env!("CARGO_BIN_EXE_plugboard"));
    command.arg("migrate").env_clear();
    let mut variables = 0;
    for line in sample
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains('='))
    {
        let (name, value) = line.split_once('=').expect("name=value");
        command.env(name, value);
        variables += 1;
    }
    // Its data dir is relative; run where it may be created.
    let output = command.current_dir(dir.path()).output().expect("run");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(variables >= 17, "every key is listed: {variables}");
}

/// The permission bits of `path`.
#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// `plugboard serve` on `data` until its SQLite files (WAL included) exist, logging at `info`
/// to `log`; killed when the returned value is dropped (leaving `-wal` and `-shm` behind).
#[cfg(unix)]
async fn serve_until_files_exist(
    data: &std::path::Path,
    log: &std::path::Path,
) -> crate::binary::Running {
    let binary = Binary::new(data, &[("PLUGBOARD_LOG", "info")]);
    let running = binary
        .serve(Stdio::from(std::fs::File::create(log).expect("log file")))
        .await;
    let started = Instant::now();
    while !["plugboard.db-wal", "plugboard.db-shm"]
        .iter()
        .all(|file| data.join(file).exists())
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no WAL files in {}",
            data.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_and_database_files_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().expect("tempdir");
    let data = root.path().join("data");
    let files = [
        "plugboard.db",
        "plugboard.db-wal",
        "plugboard.db-shm",
        "master.key",
    ];

    // A fresh data directory.
    let running = serve_until_files_exist(&data, &root.path().join("first.log")).await;
    assert_eq!(mode(&data), 0o700, "the data directory");
    for file in files {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    drop(running);

    // One that an older version (or a person) left open to other users.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    for file in files {
        std::fs::set_permissions(data.join(file), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
    }
    let log = root.path().join("second.log");
    let running = serve_until_files_exist(&data, &log).await;
    assert_eq!(mode(&data), 0o700, "the data directory");
    for file in files {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    drop(running);
    let logs = std::fs::read_to_string(&log).expect("log");
    assert!(
        logs.contains("was readable by other users") && logs.contains("plugboard.db-shm"),
        "{logs}"
    );
}

#[test]
fn every_command_says_which_database_it_uses_without_colour_codes() {
    let root = tempfile::tempdir().expect("tempdir");
    let data = root.path().join("data");
    let created = api_keys_create(&data, "development", "t");
    assert!(created.status.success(), "{}", stderr(&created));
    let expected = format!(
        "using SQLite database {}",
        data.join("plugboard.db").display()
    );
    for args in [
        &["api-keys", "list"][..],
        &["webhooks", "list"],
        &["keys", "status"],
        &["migrate"],
    ] {
        let output = plugboard(&data, args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        let logs = stderr(&output);
        assert!(logs.contains(&expected), "{args:?}: {logs}");
        assert!(
            !logs.contains('\u{1b}'),
            "{args:?}: colour codes in {logs:?}"
        );
        assert!(
            !stdout(&output).contains("using"),
            "stdout stays scriptable"
        );
    }
    assert!(stderr(&created).contains(&expected), "{}", stderr(&created));

    // A relative data directory is shown resolved, with how to pin it.
    let relative = Command::new(env!("CARGO_BIN_EXE_plugboard"))
        .args(["api-keys", "list"])
        .current_dir(root.path())
        .env_clear()
        .env("PLUGBOARD_DATA_DIR", "data")
        .output()
        .expect("run plugboard");
    assert!(relative.status.success(), "{}", stderr(&relative));
    assert!(
        stderr(&relative).contains(&expected) && stderr(&relative).contains("PLUGBOARD_DATA_DIR"),
        "{}",
        stderr(&relative)
    );

    // PostgreSQL: host, port and database, never the password (the server need not answer).
    let postgres = plugboard_with(
        &data,
        &[
            (
                "PLUGBOARD_DATABASE_URL",
                "postgres://plugboard:hunter2-secret@127.0.0.1:1/customers",
            ),
            (
                "PLUGBOARD_MASTER_KEY",
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            ),
        ],
        &["api-keys", "list"],
    );
    let logs = stderr(&postgres);
    assert!(
        logs.contains("using PostgreSQL database customers on 127.0.0.1:1"),
        "{logs}"
    );
    assert!(!logs.contains("hunter2"), "{logs}");
}
