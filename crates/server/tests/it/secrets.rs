//! Secrets never rest in plaintext: a canary credential and a canary API key are searched for
//! in the SQLite files and in a `pg_dump` of the PostgreSQL schema.

use crate::helpers::{Backend, TestApp, spawn_app};

fn count(haystack: &[u8], needle: &str) -> usize {
    haystack
        .windows(needle.len())
        .filter(|window| *window == needle.as_bytes())
        .count()
}

/// Stores a canary credential through a completed flow; returns it and the activation token.
async fn store_canaries(backend: Backend) -> (TestApp, String, String) {
    let app = spawn_app(backend).await;
    let canary = format!("CANARY-{}", plugboard_store::ids::new_id());
    let link = app.create_link(serde_json::json!({})).await;
    let token = app.complete(&link, "personio", &canary).await;
    app.get(&format!("/v1/connect/integration-by-token/{token}"))
        .await
        .data();
    (app, canary, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_hold_no_plaintext_secret() {
    let (app, canary, token) = store_canaries(Backend::Sqlite).await;
    let files = app.sqlite_files();
    assert!(!files.is_empty());
    let mut bytes = Vec::new();
    for file in files {
        bytes.extend(std::fs::read(file).expect("read database file"));
    }
    assert!(
        count(&bytes, "personio:") > 0,
        "the search itself works: ids are stored in clear"
    );
    for secret in [
        canary.as_str(),
        token.as_str(),
        app.dev_key.as_str(),
        app.prod_key.as_str(),
    ] {
        assert_eq!(
            count(&bytes, secret),
            0,
            "{secret} found in the database files"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_dump_holds_no_plaintext_secret() {
    let (app, canary, token) = store_canaries(Backend::Postgres).await;
    let schema = app.pg_schema.clone().expect("schema");
    let output = std::process::Command::new("pg_dump")
        .arg("--dbname")
        .arg(plugboard_store_postgres::testing::test_url())
        .arg("--schema")
        .arg(&schema)
        .arg("--data-only")
        .output()
        .expect("pg_dump is installed (postgresql-client)");
    assert!(
        output.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dump = output.stdout;
    assert!(count(&dump, "personio:") > 0, "the dump contains the data");
    for secret in [
        canary.as_str(),
        token.as_str(),
        app.dev_key.as_str(),
        app.prod_key.as_str(),
    ] {
        assert_eq!(count(&dump, secret), 0, "{secret} found in pg_dump");
    }
}
