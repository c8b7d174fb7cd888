//! [`Deliveries`] on SQLite. The claim is SQLite's own: one write transaction that picks due
//! deliveries endpoint by endpoint and leases them by id.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use plugboard_store::{
    Deliveries, Event, Result, StoreError,
    driver::from_sqlx,
    from_millis,
    rows::{self, ClaimedRow, convert_all},
    sql, to_millis,
    webhooks::{
        AttemptOutcome, Claim, ClaimedDelivery, Delivery, DeliveryCounts, DeliveryCursor,
        DeliveryDetail, DeliveryFilter, DeliveryStatus, NextStep,
    },
};
use sqlx::{Sqlite, Transaction};

use crate::SqliteStore;

/// The ids of up to `claim.limit` due deliveries of enabled endpoints, endpoints in random
/// order, each endpoint's earliest first and within its free slots.
async fn pick_due(tx: &mut Transaction<'static, Sqlite>, claim: &Claim<'_>) -> Result<Vec<String>> {
    let now = to_millis(claim.now);
    let endpoints: Vec<(String,)> = sqlx::query_as(
        "SELECT e.id FROM webhook_endpoints e WHERE e.enabled AND EXISTS \
         (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = e.id \
          AND d.status = 'PENDING' AND d.next_attempt_at <= $1) ORDER BY random()",
    )
    .bind(now)
    .fetch_all(&mut **tx)
    .await
    .map_err(from_sqlx)?;
    let mut ids = Vec::new();
    let mut remaining = claim.limit;
    for (endpoint_id,) in endpoints {
        let busy = claim.in_flight.get(&endpoint_id).copied().unwrap_or(0);
        let room = claim.per_endpoint.saturating_sub(busy).min(remaining);
        if room == 0 {
            continue;
        }
        let picked: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM webhook_deliveries \
             WHERE endpoint_id = $1 AND status = 'PENDING' AND next_attempt_at <= $2 \
             ORDER BY next_attempt_at LIMIT $3",
        )
        .bind(&endpoint_id)
        .bind(now)
        .bind(i64::from(room))
        .fetch_all(&mut **tx)
        .await
        .map_err(from_sqlx)?;
        remaining -= u32::try_from(picked.len()).unwrap_or(room);
        ids.extend(picked.into_iter().map(|(id,)| id));
        if remaining == 0 {
            break;
        }
    }
    Ok(ids)
}

/// Leases the deliveries `ids_json` (a JSON array) and reads what their attempts need.
async fn lease(
    tx: &mut Transaction<'static, Sqlite>,
    claim: &Claim<'_>,
    ids_json: &str,
) -> Result<Vec<ClaimedRow>> {
    sqlx::query(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $1, \
         lease_id = $2, updated_at = $3 WHERE id IN (SELECT value FROM json_each($4))",
    )
    .bind(to_millis(claim.lease_until))
    .bind(claim.lease_id)
    .bind(to_millis(claim.now))
    .bind(ids_json)
    .execute(&mut **tx)
    .await
    .map_err(from_sqlx)?;
    sqlx::query_as(
        "SELECT d.id, d.attempts, d.event_id, d.event_type, ev.payload, d.endpoint_id, \
         d.environment_id, e.url, e.secret_key_id, e.secret_nonce, e.secret_ciphertext, \
         e.previous_key_id, e.previous_nonce, e.previous_ciphertext, e.previous_expires_at \
         FROM webhook_deliveries d JOIN events ev ON ev.id = d.event_id \
         JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         WHERE d.id IN (SELECT value FROM json_each($1))",
    )
    .bind(ids_json)
    .fetch_all(&mut **tx)
    .await
    .map_err(from_sqlx)
}

#[async_trait]
impl Deliveries for SqliteStore {
    async fn queue_event_for_endpoint(
        &self,
        event: &Event,
        endpoint_id: &str,
    ) -> Result<Option<String>> {
        let mut tx = self.begin().await?;
        let exists = sql::webhooks::endpoint_exists(&event.environment_id, endpoint_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        if exists.is_none() {
            return Ok(None);
        }
        sql::events::insert(event)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        super::queue_deliveries(&mut tx, event, Some(endpoint_id)).await?;
        let (id,) = sql::webhooks::delivery_id(&event.id, endpoint_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        self.commit(tx).await?;
        Ok(Some(id))
    }

    async fn claim_deliveries(&self, claim: &Claim<'_>) -> Result<Vec<ClaimedDelivery>> {
        let mut tx = self.begin().await?;
        // A no-op write first, so this transaction holds the write lock from its start and
        // the reads below cannot be overtaken by another process's claim.
        sqlx::query("UPDATE webhook_deliveries SET id = id WHERE 0")
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        let ids = pick_due(&mut tx, claim).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids_json = serde_json::to_string(&ids).map_err(|e| StoreError::Other(e.into()))?;
        let rows = lease(&mut tx, claim, &ids_json).await?;
        tx.commit().await.map_err(from_sqlx)?;
        let now = to_millis(claim.now);
        rows.into_iter()
            .map(|row| row.into_claimed(claim.lease_id, now))
            .collect()
    }

    async fn release_lease(&self, lease_id: &str, now: DateTime<Utc>) -> Result<u64> {
        let done = sql::webhooks::release(lease_id, now)
            .execute(&self.write)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected())
    }

    async fn finish_attempts(&self, outcomes: &[AttemptOutcome], now: DateTime<Utc>) -> Result<()> {
        let now = to_millis(now);
        let mut tx = self.begin().await?;
        for outcome in outcomes {
            sql::webhooks::insert_attempt(outcome)
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
            let (status, next_at) = match outcome.next {
                NextStep::Succeeded => (DeliveryStatus::Succeeded, now),
                NextStep::RetryAt(at) => (DeliveryStatus::Pending, to_millis(at)),
                NextStep::GiveUp => (DeliveryStatus::Failed, now),
            };
            sql::webhooks::reschedule(outcome, status, next_at, now)
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
            sql::webhooks::update_health(&outcome.endpoint_id, outcome.health, now)
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
        }
        tx.commit().await.map_err(from_sqlx)
    }

    async fn next_delivery_due(&self) -> Result<Option<DateTime<Utc>>> {
        let (due,) = sql::webhooks::next_due()
            .fetch_one(&self.read)
            .await
            .map_err(from_sqlx)?;
        due.map(from_millis).transpose()
    }

    async fn wait_for_new_deliveries(&self, timeout: Duration) {
        // Only this process's commits are seen; other processes' are found by the caller's
        // polling (`timeout`).
        let _ = tokio::time::timeout(timeout, self.wake.notified()).await;
    }

    async fn list_deliveries(
        &self,
        environment_id: &str,
        endpoint_id: &str,
        filter: &DeliveryFilter,
        after: Option<&DeliveryCursor>,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        let rows = sql::webhooks::deliveries(environment_id, endpoint_id, filter, after, limit)
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn integration_deliveries(
        &self,
        environment_id: &str,
        integration_id: &str,
        events: u32,
    ) -> Result<Vec<Delivery>> {
        let rows = sql::webhooks::integration_deliveries(environment_id, integration_id, events)
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn delivery_counts(
        &self,
        environment_id: &str,
        since: DateTime<Utc>,
    ) -> Result<DeliveryCounts> {
        let rows = sql::webhooks::delivery_counts(environment_id, since)
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        rows::delivery_counts(rows)
    }

    async fn delivery(&self, environment_id: &str, id: &str) -> Result<Option<DeliveryDetail>> {
        let mut conn = self.read.acquire().await.map_err(from_sqlx)?;
        let row = sql::webhooks::delivery(environment_id, id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(from_sqlx)?;
        let Some(row) = row else { return Ok(None) };
        let delivery = Delivery::try_from(row)?;
        let event = sql::events::by_id(&delivery.event_id)
            .fetch_one(&mut *conn)
            .await
            .map_err(from_sqlx)?;
        let attempts = sql::webhooks::attempts(id)
            .fetch_all(&mut *conn)
            .await
            .map_err(from_sqlx)?;
        Ok(Some(DeliveryDetail {
            delivery,
            payload: event.payload,
            attempts: convert_all(attempts)?,
        }))
    }

    async fn retry_delivery(
        &self,
        environment_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Delivery>> {
        let row = sql::webhooks::retry(environment_id, id, now)
            .fetch_optional(&self.write)
            .await
            .map_err(from_sqlx)?;
        self.wake.notify_one();
        row.map(Delivery::try_from).transpose()
    }
}
