//! [`Deliveries`] on PostgreSQL. The claim is PostgreSQL's own: one statement that locks what
//! it takes with `SKIP LOCKED`, so claims of several processes never wait for each other.

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

use crate::PostgresStore;

#[async_trait]
impl Deliveries for PostgresStore {
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
        let now = to_millis(claim.now);
        let in_flight =
            serde_json::to_string(claim.in_flight).map_err(|e| StoreError::Other(e.into()))?;
        // Per enabled endpoint, its earliest due rows up to its free slots (LATERAL), locked
        // without waiting for other claims (SKIP LOCKED); endpoints in random order so a
        // small `limit` does not always favour the same ones.
        let rows: Vec<ClaimedRow> = sqlx::query_as(
            "WITH picked AS ( \
                 SELECT d.id FROM webhook_endpoints e CROSS JOIN LATERAL ( \
                     SELECT id FROM webhook_deliveries d \
                     WHERE d.endpoint_id = e.id AND d.status = 'PENDING' \
                       AND d.next_attempt_at <= $1 \
                     ORDER BY d.next_attempt_at \
                     LIMIT greatest(0, $2 - coalesce(($3::jsonb ->> e.id)::bigint, 0)) \
                     FOR UPDATE SKIP LOCKED) d \
                 WHERE e.enabled ORDER BY random() LIMIT $4), \
             claimed AS ( \
                 UPDATE webhook_deliveries w SET attempts = w.attempts + 1, \
                     next_attempt_at = $5, lease_id = $6, updated_at = $1 \
                 FROM picked WHERE w.id = picked.id \
                 RETURNING w.id, w.attempts, w.event_id, w.event_type, w.endpoint_id, \
                     w.environment_id) \
             SELECT c.id, c.attempts, c.event_id, c.event_type, ev.payload, c.endpoint_id, \
                 c.environment_id, e.url, e.secret_key_id, e.secret_nonce, e.secret_ciphertext, \
                 e.previous_key_id, e.previous_nonce, e.previous_ciphertext, e.previous_expires_at \
             FROM claimed c JOIN events ev ON ev.id = c.event_id \
             JOIN webhook_endpoints e ON e.id = c.endpoint_id",
        )
        .bind(now)
        .bind(i64::from(claim.per_endpoint))
        .bind(&in_flight)
        .bind(i64::from(claim.limit))
        .bind(to_millis(claim.lease_until))
        .bind(claim.lease_id)
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        rows.into_iter()
            .map(|row| row.into_claimed(claim.lease_id, now))
            .collect()
    }

    async fn release_lease(&self, lease_id: &str, now: DateTime<Utc>) -> Result<u64> {
        let done = sql::webhooks::release(lease_id, now)
            .execute(&self.pool)
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
            .fetch_one(&self.pool)
            .await
            .map_err(from_sqlx)?;
        due.map(from_millis).transpose()
    }

    async fn wait_for_new_deliveries(&self, timeout: Duration) {
        self.start_listener().await;
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
            .fetch_all(&self.pool)
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
            .fetch_all(&self.pool)
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
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?;
        rows::delivery_counts(rows)
    }

    async fn delivery(&self, environment_id: &str, id: &str) -> Result<Option<DeliveryDetail>> {
        let mut conn = self.pool.acquire().await.map_err(from_sqlx)?;
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
            .fetch_optional(&self.pool)
            .await
            .map_err(from_sqlx)?;
        if row.is_some() {
            super::notify(&self.pool).await?;
        }
        row.map(Delivery::try_from).transpose()
    }
}
