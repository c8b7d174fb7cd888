//! The store contract on SQLite: every test on a fresh database file.

use std::sync::Arc;

use plugboard_store::{Setup, Store, contract_tests};
use plugboard_store_sqlite::SqliteStore;

async fn fresh_store() -> Arc<dyn Store> {
    // The directory lives as long as the test process; nextest runs one test per process.
    let dir = Box::leak(Box::new(tempfile::tempdir().expect("temp dir")));
    let store = SqliteStore::open(&dir.path().join("plugboard.db"))
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    Arc::new(store)
}

contract_tests!(fresh_store());

/// Two stores on one file are two processes as far as SQLite's locks go: a refresh through
/// the second waits for the first's write lock and reads what it stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_locks_hold_across_processes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plugboard.db");
    let first = SqliteStore::open(&path).await.expect("open");
    first.migrate().await.expect("migrate");
    let second = SqliteStore::open(&path).await.expect("open");
    plugboard_store::contract::credentials_locks_hold_across_processes(
        Arc::new(first),
        Arc::new(second),
    )
    .await;
}
