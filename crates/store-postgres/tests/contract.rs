//! The store contract on PostgreSQL: every test in a schema of its own.

use std::sync::Arc;

use plugboard_store::{Store, contract_tests};

async fn fresh_store() -> Arc<dyn Store> {
    Arc::new(
        plugboard_store_postgres::testing::isolated_store()
            .await
            .expect("isolated PostgreSQL schema"),
    )
}

contract_tests!(fresh_store());

/// Two stores on one schema, as two processes: a refresh through the second waits for the
/// first's row lock and reads what it stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_locks_hold_across_processes() {
    use plugboard_store::Setup;
    use plugboard_store_postgres::{PostgresStore, testing};

    let (schema, options) = testing::isolated_options().await.expect("schema");
    let first = PostgresStore::connect_with(options).await.expect("connect");
    first.migrate().await.expect("migrate");
    let second = PostgresStore::connect_with(testing::schema_options(&schema).expect("options"))
        .await
        .expect("connect");
    plugboard_store::contract::credentials_locks_hold_across_processes(
        Arc::new(first),
        Arc::new(second),
    )
    .await;
}
