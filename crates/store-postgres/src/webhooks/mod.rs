//! Webhook endpoints and the delivery queue on PostgreSQL.
//!
//! Several processes may claim at once: a claim locks the rows it takes with
//! `FOR UPDATE SKIP LOCKED`, so concurrent claims take disjoint rows without waiting for each
//! other, and moves them out of the due set (their `next_attempt_at` becomes the lease's end)
//! before it commits. Writing an event sends a `NOTIFY` on commit, which wakes every worker
//! through the `LISTEN` task started here.

use std::{sync::Arc, time::Duration};

use plugboard_store::{Event, Result, driver::from_sqlx, to_millis};
use sqlx::{PgConnection, PgExecutor, PgPool, postgres::PgListener};
use tokio::sync::Notify;

use crate::PostgresStore;

mod deliveries;
mod endpoints;

/// Fans an event out to the subscribed, enabled endpoints of its environment (or to
/// `only_endpoint`). Runs in the transaction that writes the event.
///
/// PostgreSQL's own: the delivery id comes from `gen_random_uuid` and the subscription test
/// uses `strpos` (SQLite's uses `randomblob` and `instr`), and it sends a `NOTIFY`.
pub(crate) async fn queue_deliveries(
    conn: &mut PgConnection,
    event: &Event,
    only_endpoint: Option<&str>,
) -> Result<u64> {
    let now = to_millis(event.created_at);
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, environment_id, event_type, \
         status, attempts, next_attempt_at, created_at, updated_at) \
         SELECT substr(replace(gen_random_uuid()::text, '-', ''), 1, 24), $1, e.id, \
             e.environment_id, $2, 'PENDING', 0, $3, $3, $3 \
         FROM webhook_endpoints e WHERE e.environment_id = $4 \
         AND CASE WHEN $5::text IS NULL \
             THEN e.enabled AND strpos(',' || e.event_types || ',', ',' || $2 || ',') > 0 \
             ELSE e.id = $5 END",
    )
    .bind(&event.id)
    .bind(&event.event_type)
    .bind(now)
    .bind(&event.environment_id)
    .bind(only_endpoint)
    .execute(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    // Delivered to listeners when the transaction commits; one per transaction however many
    // events it writes.
    if done.rows_affected() > 0 {
        notify(conn).await?;
    }
    Ok(done.rows_affected())
}

/// Wakes every process's workers (on commit, inside a transaction). The channel is per schema
/// so that schemas sharing a database (tests, several installations) do not wake each other.
pub(crate) async fn notify(executor: impl PgExecutor<'_>) -> Result<()> {
    sqlx::query("SELECT pg_notify('plugboard_deliveries_' || current_schema(), '')")
        .execute(executor)
        .await
        .map_err(from_sqlx)?;
    Ok(())
}

impl PostgresStore {
    /// Starts (once) a task that listens on this schema's delivery channel and signals `wake`.
    /// While the listening connection is down, workers still poll.
    pub(crate) async fn start_listener(&self) {
        let pool = self.pool.clone();
        let wake = Arc::clone(&self.wake);
        self.listener
            .get_or_init(|| async move {
                tokio::spawn(async move {
                    loop {
                        if let Err(error) = listen(&pool, &wake).await {
                            tracing::warn!(%error, "LISTEN for webhook deliveries failed; retrying");
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                });
            })
            .await;
    }
}

/// Listens until the connection fails for good; `PgListener` reconnects by itself and the
/// wake after a reconnect covers notifications missed meanwhile.
async fn listen(pool: &PgPool, wake: &Notify) -> Result<()> {
    let mut listener = PgListener::connect_with(pool).await.map_err(from_sqlx)?;
    let (schema,): (String,) = sqlx::query_as("SELECT current_schema()")
        .fetch_one(pool)
        .await
        .map_err(from_sqlx)?;
    listener
        .listen(&format!("plugboard_deliveries_{schema}"))
        .await
        .map_err(from_sqlx)?;
    wake.notify_one();
    loop {
        listener.recv().await.map_err(from_sqlx)?;
        wake.notify_one();
    }
}
