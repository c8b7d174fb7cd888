//! Test isolation on a shared PostgreSQL server: every test gets a schema of its own, so tests
//! run in parallel without seeing each other's rows.

use std::{str::FromStr, time::SystemTime};

use plugboard_store::{Result, driver::from_sqlx, ids};
use sqlx::{Connection, PgConnection, postgres::PgConnectOptions};

use crate::PostgresStore;

/// Schemas older than this are left-overs of aborted runs and are dropped.
const STALE_AFTER_SECS: u64 = 3600;

/// The server to test against, from `PLUGBOARD_TEST_POSTGRES_URL`. Panics with instructions
/// when it is missing: PostgreSQL tests must run, never silently skip.
pub fn test_url() -> String {
    std::env::var("PLUGBOARD_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "PLUGBOARD_TEST_POSTGRES_URL is not set. Run the tests with ./scripts/test, or set it \
             to a PostgreSQL database the tests may create schemas in, e.g. \
             postgres://postgres@127.0.0.1:5432/test"
        )
    })
}

/// Creates a fresh schema on the test server and returns its name and connect options that
/// pin the `search_path` to it, so migrations and queries stay inside it.
pub async fn isolated_options() -> Result<(String, PgConnectOptions)> {
    let url = test_url();
    let base = PgConnectOptions::from_str(&url).map_err(from_sqlx)?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let schema = format!("pbtest_{now}_{}", ids::new_id().to_lowercase());
    let mut admin = PgConnection::connect_with(&base).await.map_err(from_sqlx)?;
    drop_stale_schemas(&mut admin, now).await?;
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&mut admin)
        .await
        .map_err(from_sqlx)?;
    let options = base.options([("search_path", schema.as_str())]);
    Ok((schema, options))
}

/// Connect options for an existing schema of the test server (a second process or worker on
/// the same data).
pub fn schema_options(schema: &str) -> Result<PgConnectOptions> {
    let base = PgConnectOptions::from_str(&test_url()).map_err(from_sqlx)?;
    Ok(base.options([("search_path", schema)]))
}

/// A migrated store in a fresh schema of the test server.
pub async fn isolated_store() -> Result<PostgresStore> {
    let (_, options) = isolated_options().await?;
    let store = PostgresStore::connect_with(options).await?;
    plugboard_store::Setup::migrate(&store).await?;
    Ok(store)
}

async fn drop_stale_schemas(admin: &mut PgConnection, now: u64) -> Result<()> {
    let schemas: Vec<(String,)> =
        sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'pbtest\\_%'")
            .fetch_all(&mut *admin)
            .await
            .map_err(from_sqlx)?;
    for (schema,) in schemas {
        let created = schema
            .split('_')
            .nth(1)
            .and_then(|secs| secs.parse::<u64>().ok())
            .unwrap_or(now);
        if now.saturating_sub(created) > STALE_AFTER_SECS {
            // Another test process may drop it at the same moment; that is fine.
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .execute(&mut *admin)
                .await;
        }
    }
    Ok(())
}
