//! Secrets never rest in plaintext: a canary credential, the activation token, the API keys and
//! a webhook secret (before and after a rotation) are searched for in the SQLite files and in a
//! `pg_dump` of the PostgreSQL schema.

use crate::helpers::{Backend, TestApp, spawn_app};

fn count(haystack: &[u8], needle: &str) -> usize {
    haystack
        .windows(needle.len())
        .filter(|window| *window == needle.as_bytes())
        .count()
}

/// Stores a canary credential through a completed flow and a webhook endpoint whose secret is
/// then rotated; returns the secrets to search for.
async fn store_canaries(backend: Backend) -> (TestApp, Vec<String>) {
    let app = spawn_app(backend).await;
    let canary = format!("CANARY-{}", plugboard_store::ids::new_id());
    let link = app.create_link(serde_json::json!({})).await;
    let token = app.complete(&link, "personio", &canary).await;
    app.get(&format!("/v1/connect/integration-by-token/{token}"))
        .await
        .data();
    let created = app
        .json(
            reqwest::Method::POST,
            "/v1/webhooks",
            serde_json::json!({ "url": "https://hooks.example.com/plugboard" }),
        )
        .await;
    let id = created.data()["id"].as_str().expect("id").to_owned();
    let first_secret = created.data()["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let rotated = app
        .send(
            reqwest::Method::POST,
            &format!("/v1/webhooks/{id}/rotate-secret"),
            Some(&app.dev_key),
            None,
        )
        .await;
    let second_secret = rotated.data()["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let secrets = vec![
        canary,
        token,
        app.dev_key.clone(),
        app.prod_key.clone(),
        first_secret,
        second_secret,
    ];
    (app, secrets)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_hold_no_plaintext_secret() {
    let (app, secrets) = store_canaries(Backend::Sqlite).await;
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
    for secret in &secrets {
        assert_eq!(
            count(&bytes, secret),
            0,
            "{secret} found in the database files"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_dump_holds_no_plaintext_secret() {
    let (app, secrets) = store_canaries(Backend::Postgres).await;
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
    for secret in &secrets {
        assert_eq!(count(&dump, secret), 0, "{secret} found in pg_dump");
    }
}
