//! Group commit for activation-token redemptions.
//!
//! SQLite has one writer, so every redemption (a write: tokens are single-use) waits for the
//! previous one, and each costs a round trip to the writer connection. Under load, one task
//! drains every pending redemption and redeems them all with a single statement, so the writer
//! is visited once per batch rather than once per request. Each request keeps its own `now`,
//! and when several requests name the same token, exactly one of them is told it won.
//!
//! It stays a file of its own beside `integrations.rs`: its statement is SQLite's alone (one
//! `UPDATE` over a `VALUES` list per batch), and the batching task is machinery, not an area.

use std::collections::HashMap;

use plugboard_store::{Integration, Result, StoreError, driver::from_sqlx, rows::IntegrationRow};
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

/// Largest batch: three bound values per request stay far below SQLite's variable limit.
const MAX_BATCH: usize = 256;

struct Request {
    hash: Vec<u8>,
    environment_id: String,
    now: i64,
    reply: oneshot::Sender<Result<Option<Integration>>>,
}

/// Queues redemptions for the batching task.
#[derive(Debug, Clone)]
pub(crate) struct Redeemer {
    queue: mpsc::Sender<Request>,
}

impl Redeemer {
    /// Starts the batching task on the current runtime, writing through `pool`.
    pub(crate) fn spawn(pool: SqlitePool) -> Self {
        let (queue, requests) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(pool, requests));
        Self { queue }
    }

    /// Redeems one token; resolves when its batch has committed.
    pub(crate) async fn redeem(
        &self,
        environment_id: &str,
        hash: &[u8],
        now: i64,
    ) -> Result<Option<Integration>> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            hash: hash.to_vec(),
            environment_id: environment_id.to_owned(),
            now,
            reply,
        };
        let stopped = || StoreError::Unavailable("the redemption task has stopped".into());
        self.queue.send(request).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(pool: SqlitePool, mut requests: mpsc::Receiver<Request>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while requests.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match redeem_batch(&pool, &batch).await {
            Ok(redeemed) => dispatch(batch.drain(..), redeemed),
            Err(error) => {
                let message = error.to_string();
                for request in batch.drain(..) {
                    let _ = request
                        .reply
                        .send(Err(StoreError::Unavailable(message.clone().into())));
                }
            }
        }
    }
}

/// The batch statement for `slots` requests. `token_hash IN (…)` lets SQLite find the rows by
/// primary key; the `EXISTS` alone would scan the whole table (a test pins the plan).
fn batch_sql(slots: usize) -> String {
    let values = vec!["(?, ?, ?)"; slots].join(", ");
    format!(
        "WITH request(hash, environment_id, now) AS (VALUES {values}) \
         UPDATE activation_tokens \
         SET redeemed_at = (SELECT max(now) FROM request WHERE request.hash = activation_tokens.token_hash) \
         WHERE token_hash IN (SELECT hash FROM request) AND redeemed_at IS NULL \
           AND EXISTS (SELECT 1 FROM request \
             WHERE request.hash = activation_tokens.token_hash \
             AND request.environment_id = activation_tokens.environment_id \
             AND activation_tokens.expires_at > request.now) \
         RETURNING token_hash, (SELECT json_object('id', i.id, 'environment_id', i.environment_id, \
             'tool', i.tool, 'category', i.category, 'status', i.status, \
             'setup_status', i.setup_status, 'end_user_email', i.end_user_email, \
             'end_user_organization_name', i.end_user_organization_name, \
             'end_user_origin_id', i.end_user_origin_id, 'scope_config_id', i.scope_config_id, \
             'remote_environment', i.remote_environment, 'created_at', i.created_at, \
             'updated_at', i.updated_at) \
           FROM integrations i WHERE i.id = activation_tokens.integration_id)"
    )
}

/// One statement for the whole batch. Its size is rounded up to a power of two (padding rows
/// match nothing) so SQLite prepares at most nine statement shapes.
async fn redeem_batch(
    pool: &SqlitePool,
    batch: &[Request],
) -> Result<Vec<(Vec<u8>, Option<String>)>> {
    let slots = batch.len().next_power_of_two();
    let sql = batch_sql(slots);
    let mut query = sqlx::query_as(&sql);
    for request in batch {
        query = query
            .bind(&request.hash)
            .bind(&request.environment_id)
            .bind(request.now);
    }
    for _ in batch.len()..slots {
        query = query.bind(Vec::<u8>::new()).bind("").bind(0_i64);
    }
    query.fetch_all(pool).await.map_err(from_sqlx)
}

/// Hands each redeemed token to one request that asked for it in its environment; every other
/// request of the batch learns its token was not redeemable.
fn dispatch(batch: impl Iterator<Item = Request>, redeemed: Vec<(Vec<u8>, Option<String>)>) {
    let mut won: HashMap<Vec<u8>, Result<Integration>> = redeemed
        .into_iter()
        .filter_map(|(hash, json)| {
            let integration = json.map(|json| {
                serde_json::from_str::<IntegrationRow>(&json)
                    .map_err(|e| StoreError::other(format!("redeemed integration: {e}")))
                    .and_then(Integration::try_from)
            })?;
            Some((hash, integration))
        })
        .collect();
    for request in batch {
        let matches = won.get(&request.hash).is_some_and(|result| {
            result
                .as_ref()
                .map_or(true, |i| i.environment_id == request.environment_id)
        });
        let answer = if matches {
            won.remove(&request.hash).map(|result| result.map(Some))
        } else {
            None
        };
        let _ = request.reply.send(answer.unwrap_or(Ok(None)));
    }
}

#[cfg(test)]
mod tests {
    use plugboard_store::Setup;

    use super::batch_sql;

    #[tokio::test]
    async fn batches_find_tokens_by_primary_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::SqliteStore::open(&dir.path().join("plan.db"))
            .await
            .expect("open");
        store.migrate().await.expect("migrate");
        let sql = format!("EXPLAIN QUERY PLAN {}", batch_sql(2));
        let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(&sql);
        for _ in 0..2 {
            query = query.bind(vec![1_u8]).bind("env").bind(0_i64);
        }
        let plan = query.fetch_all(&store.write).await.expect("plan");
        let steps: Vec<&str> = plan
            .iter()
            .map(|(_, _, _, detail)| detail.as_str())
            .collect();
        assert!(
            steps
                .iter()
                .any(|s| s.starts_with("SEARCH activation_tokens USING INDEX")),
            "{steps:?}"
        );
        assert!(!steps.contains(&"SCAN activation_tokens"), "{steps:?}");
    }
}
