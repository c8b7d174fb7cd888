//! Webhook endpoints and the delivery queue on SQLite.
//!
//! SQLite has one writer, so a claim is simply a write transaction: whatever it selects, no
//! other claim can select until it commits. Several processes on one file are serialised the
//! same way by the file lock. Workers of this process are woken through
//! [`SqliteStore::commit`](crate::SqliteStore); other processes' commits are found by polling.

use plugboard_store::{Event, Result, driver::from_sqlx, to_millis};
use sqlx::SqliteConnection;

mod deliveries;
mod endpoints;

/// Fans an event out to the subscribed, enabled endpoints of its environment (or to
/// `only_endpoint`). Runs in the transaction that writes the event.
///
/// SQLite's own: the delivery id comes from `randomblob` and the subscription test uses
/// `instr` (PostgreSQL's uses `gen_random_uuid` and `strpos`, and sends a `NOTIFY`).
pub(crate) async fn queue_deliveries(
    conn: &mut SqliteConnection,
    event: &Event,
    only_endpoint: Option<&str>,
) -> Result<u64> {
    let now = to_millis(event.created_at);
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, environment_id, event_type, \
         status, attempts, next_attempt_at, created_at, updated_at) \
         SELECT lower(hex(randomblob(12))), $1, e.id, e.environment_id, $2, 'PENDING', 0, \
             $3, $3, $3 \
         FROM webhook_endpoints e WHERE e.environment_id = $4 \
         AND CASE WHEN $5 IS NULL \
             THEN e.enabled AND instr(',' || e.event_types || ',', ',' || $2 || ',') > 0 \
             ELSE e.id = $5 END",
    )
    .bind(&event.id)
    .bind(&event.event_type)
    .bind(now)
    .bind(&event.environment_id)
    .bind(only_endpoint)
    .execute(conn)
    .await
    .map_err(from_sqlx)?;
    Ok(done.rows_affected())
}
