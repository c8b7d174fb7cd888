//! The [`Store`](plugboard_store::Store) on PostgreSQL: for production, and for several
//! Plugboard processes sharing one database. Every guarantee of the trait holds across
//! processes: single-use links and activation tokens rest on a primary key and on a conditional
//! `UPDATE`, which PostgreSQL serialises per row.
//!
//! One file per area, as in `plugboard-store` and `plugboard-store-sqlite`: `links.rs` holds
//! `impl Links for PostgresStore`, and so on. Statements that read the same on SQLite come from
//! [`plugboard_store::sql`]; this crate writes only PostgreSQL's own: the fan-out of events to
//! deliveries and its `NOTIFY` (`webhooks/mod.rs`), the `SKIP LOCKED` claim
//! (`webhooks/deliveries.rs`), the one-statement redemption (`integrations.rs`) and the OAuth
//! locks (`oauth.rs`).

use std::{str::FromStr, sync::Arc, time::Duration};

use plugboard_store::{Result, driver::from_sqlx};
use sqlx::{
    PgPool, Postgres, Transaction,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio::sync::{Notify, OnceCell};

mod api_keys;
mod audit;
mod events;
mod integrations;
mod links;
mod oauth;
mod operators;
mod request_log;
mod sealing;
mod setup;
#[cfg(feature = "testing")]
pub mod testing;
mod webhooks;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// One connection of its own for [`Setup::probe`](plugboard_store::Setup::probe), so the
    /// health check never waits behind a saturated `pool`.
    probe: PgPool,
    /// Signalled by the `LISTEN` task when any process commits new deliveries.
    wake: Arc<Notify>,
    /// The `LISTEN` task, started by the first worker that waits.
    listener: Arc<OnceCell<()>>,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host/db`).
    pub async fn connect(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url).map_err(from_sqlx)?;
        Self::connect_with(options).await
    }

    /// Connects with explicit options (tests use this to pin a schema).
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            // A burst of requests queues for a connection for up to this long. An outage is
            // not waited out here: the server's health watch (`Setup::probe`) notices it and
            // answers 503 at once.
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(options.clone())
            .await
            .map_err(from_sqlx)?;
        let probe = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .acquire_timeout(Duration::from_millis(500))
            .connect_lazy_with(options);
        Ok(Self {
            pool,
            probe,
            wake: Arc::default(),
            listener: Arc::default(),
        })
    }

    /// The connection pool, for backend-specific work such as `LISTEN`.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Starts a transaction on the pool.
    async fn begin(&self) -> Result<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(from_sqlx)
    }

    /// Commits a transaction; the `NOTIFY` of any deliveries it queued goes out with it and
    /// wakes every process's workers.
    async fn commit(&self, tx: Transaction<'static, Postgres>) -> Result<()> {
        tx.commit().await.map_err(from_sqlx)
    }
}
