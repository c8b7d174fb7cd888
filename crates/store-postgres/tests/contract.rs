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
