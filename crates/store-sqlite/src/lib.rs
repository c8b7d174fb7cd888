//! The [`Store`](plugboard_store::Store) on SQLite: Plugboard's zero-setup default.
//!
//! SQLite allows one writer at a time. Rather than let many pooled connections fight over the
//! write lock (and surface `SQLITE_BUSY`), writes go through a pool of exactly one connection,
//! which queues them in process; reads use a separate pool and, in WAL mode, never wait for
//! the writer. Other processes on the same file (the CLI while a server runs) are handled by
//! the busy timeout; every write transaction starts with a write so it never has to upgrade a
//! read lock.
//!
//! One file per area, as in `plugboard-store` and `plugboard-store-postgres`: `links.rs` holds
//! `impl Links for SqliteStore`, and so on. Statements that read the same on PostgreSQL come
//! from [`plugboard_store::sql`]; this crate writes only SQLite's own: the fan-out of events to
//! deliveries (`webhooks/mod.rs`), the claim in one write transaction
//! (`webhooks/deliveries.rs`), the batched redemption (`redeem.rs`) and the no-op write that
//! takes the write lock for a token refresh (`oauth.rs`).

use std::{path::Path, str::FromStr, time::Duration};

use plugboard_store::{Result, driver::from_sqlx};
use sqlx::{
    Sqlite, SqlitePool, Transaction,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

mod api_keys;
mod audit;
mod events;
mod integrations;
mod links;
mod oauth;
mod operators;
mod redeem;
mod request_log;
mod sealing;
mod setup;
mod webhooks;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
    redeemer: redeem::Redeemer,
    /// Signalled after a commit that may have queued webhook deliveries, so this process's
    /// worker sends them at once instead of at its next poll.
    wake: std::sync::Arc<tokio::sync::Notify>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://path` or `sqlite::memory:`
    /// is not supported: the reader and writer pools need a shared file).
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(from_sqlx)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable across application crashes in WAL mode; only an OS crash or
            // power loss can lose the last transactions.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(from_sqlx)?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await
            .map_err(from_sqlx)?;
        let redeemer = redeem::Redeemer::spawn(write.clone());
        Ok(Self {
            read,
            write,
            redeemer,
            wake: std::sync::Arc::default(),
        })
    }

    /// Opens the database file at `path`.
    pub async fn open(path: &Path) -> Result<Self> {
        Self::connect(&format!("sqlite://{}", path.display())).await
    }

    /// Starts a write transaction on the single writer connection.
    async fn begin(&self) -> Result<Transaction<'static, Sqlite>> {
        self.write.begin().await.map_err(from_sqlx)
    }

    /// Commits a transaction that may have queued deliveries, and wakes this process's worker
    /// so it sends them at once.
    async fn commit(&self, tx: Transaction<'static, Sqlite>) -> Result<()> {
        tx.commit().await.map_err(from_sqlx)?;
        self.wake.notify_one();
        Ok(())
    }
}
