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
