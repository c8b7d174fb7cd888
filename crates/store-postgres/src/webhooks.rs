//! Webhook endpoints and the delivery queue on PostgreSQL.
//!
//! Several processes may claim at once: a claim locks the rows it takes with
//! `FOR UPDATE SKIP LOCKED`, so concurrent claims take disjoint rows without waiting for each
//! other, and moves them out of the due set (their `next_attempt_at` becomes the lease's end)
//! before it commits. Writing an event sends a `NOTIFY` on commit, which wakes every worker.

use chrono::{DateTime, Utc};
use plugboard_store::{
    Event, Result, Sealed, StoreError,
    rows::{
        AttemptRow, ClaimedRow, DELIVERY_COLUMNS, DeliveryRow, EventRow, WEBHOOK_ENDPOINT_COLUMNS,
        WebhookEndpointRow, convert_all, from_sqlx, join_event_types,
    },
    to_millis,
    webhooks::{
        AttemptOutcome, Claim, ClaimedDelivery, Delivery, DeliveryCursor, DeliveryDetail,
        DeliveryFilter, DeliveryStatus, DisabledReason, EndpointChanges, EndpointHealth, NextStep,
        WebhookEndpoint,
    },
};
use sqlx::PgConnection;

use crate::PostgresStore;

/// Fans an event out to the subscribed, enabled endpoints of its environment (or to
/// `only_endpoint`). Runs in the transaction that writes the event.
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
    // events it writes. The channel is per schema so that schemas sharing a database (tests,
    // several installations) do not wake each other.
    if done.rows_affected() > 0 {
        sqlx::query("SELECT pg_notify('plugboard_deliveries_' || current_schema(), '')")
            .execute(conn)
            .await
            .map_err(from_sqlx)?;
    }
    Ok(done.rows_affected())
}

fn endpoint_query(filter: &str) -> String {
    format!("SELECT {WEBHOOK_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE {filter}")
}

impl PostgresStore {
    pub(crate) async fn insert_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO webhook_endpoints ({WEBHOOK_ENDPOINT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .bind(&endpoint.id)
        .bind(&endpoint.environment_id)
        .bind(&endpoint.url)
        .bind(join_event_types(&endpoint.event_types))
        .bind(endpoint.enabled)
        .bind(endpoint.disabled_reason.map(DisabledReason::as_str))
        .bind(&endpoint.secret.key_id)
        .bind(&endpoint.secret.nonce)
        .bind(&endpoint.secret.ciphertext)
        .bind(endpoint.previous_secret.as_ref().map(|p| &p.secret.key_id))
        .bind(endpoint.previous_secret.as_ref().map(|p| &p.secret.nonce))
        .bind(
            endpoint
                .previous_secret
                .as_ref()
                .map(|p| &p.secret.ciphertext),
        )
        .bind(
            endpoint
                .previous_secret
                .as_ref()
                .map(|p| to_millis(p.expires_at)),
        )
        .bind(endpoint.failing_since.map(to_millis))
        .bind(to_millis(endpoint.created_at))
        .bind(to_millis(endpoint.updated_at))
        .execute(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(())
    }

    pub(crate) async fn endpoint(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>> {
        let row: Option<WebhookEndpointRow> =
            sqlx::query_as(&endpoint_query("environment_id = $1 AND id = $2"))
                .bind(environment_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(from_sqlx)?;
        row.map(WebhookEndpoint::try_from).transpose()
    }

    pub(crate) async fn endpoints(
        &self,
        environment_id: Option<&str>,
    ) -> Result<Vec<WebhookEndpoint>> {
        let rows: Vec<WebhookEndpointRow> = sqlx::query_as(&endpoint_query(
            "($1::text IS NULL OR environment_id = $1) ORDER BY created_at, id",
        ))
        .bind(environment_id)
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        convert_all(rows)
    }

    pub(crate) async fn update_endpoint(
        &self,
        environment_id: &str,
        id: &str,
        changes: &EndpointChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookEndpoint>> {
        // Enabling clears the failure record; disabling by hand records why.
        let row: Option<WebhookEndpointRow> = sqlx::query_as(&format!(
            "UPDATE webhook_endpoints SET url = coalesce($1, url), \
             event_types = coalesce($2, event_types), \
             enabled = coalesce($3, enabled), \
             disabled_reason = CASE WHEN $3::boolean IS NULL THEN disabled_reason \
                 WHEN $3 THEN NULL ELSE coalesce(disabled_reason, 'MANUAL') END, \
             failing_since = CASE WHEN $3 THEN NULL ELSE failing_since END, \
             updated_at = $4 \
             WHERE environment_id = $5 AND id = $6 RETURNING {WEBHOOK_ENDPOINT_COLUMNS}"
        ))
        .bind(&changes.url)
        .bind(changes.event_types.as_deref().map(join_event_types))
        .bind(changes.enabled)
        .bind(to_millis(now))
        .bind(environment_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        if changes.enabled == Some(true) && row.is_some() {
            // Deliveries that waited for the endpoint are due now.
            sqlx::query("SELECT pg_notify('plugboard_deliveries_' || current_schema(), '')")
                .execute(&self.pool)
                .await
                .map_err(from_sqlx)?;
        }
        row.map(WebhookEndpoint::try_from).transpose()
    }

    pub(crate) async fn rotate_secret(
        &self,
        environment_id: &str,
        id: &str,
        secret: &Sealed,
        previous_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookEndpoint>> {
        let row: Option<WebhookEndpointRow> = sqlx::query_as(&format!(
            "UPDATE webhook_endpoints SET previous_key_id = secret_key_id, \
             previous_nonce = secret_nonce, previous_ciphertext = secret_ciphertext, \
             previous_expires_at = $1, secret_key_id = $2, secret_nonce = $3, \
             secret_ciphertext = $4, updated_at = $5 \
             WHERE environment_id = $6 AND id = $7 RETURNING {WEBHOOK_ENDPOINT_COLUMNS}"
        ))
        .bind(to_millis(previous_expires_at))
        .bind(&secret.key_id)
        .bind(&secret.nonce)
        .bind(&secret.ciphertext)
        .bind(to_millis(now))
        .bind(environment_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        row.map(WebhookEndpoint::try_from).transpose()
    }

    pub(crate) async fn delete_endpoint(&self, environment_id: &str, id: &str) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM webhook_endpoints WHERE environment_id = $1 AND id = $2")
                .bind(environment_id)
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    pub(crate) async fn queue_for_endpoint(
        &self,
        event: &Event,
        endpoint_id: &str,
    ) -> Result<Option<String>> {
        let mut tx = self.pool.begin().await.map_err(from_sqlx)?;
        let exists: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM webhook_endpoints WHERE environment_id = $1 AND id = $2",
        )
        .bind(&event.environment_id)
        .bind(endpoint_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        if exists.is_none() {
            return Ok(None);
        }
        crate::insert_event_row(&mut tx, event).await?;
        queue_deliveries(&mut tx, event, Some(endpoint_id)).await?;
        let (id,): (String,) = sqlx::query_as(
            "SELECT id FROM webhook_deliveries WHERE event_id = $1 AND endpoint_id = $2",
        )
        .bind(&event.id)
        .bind(endpoint_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        tx.commit().await.map_err(from_sqlx)?;
        Ok(Some(id))
    }

    pub(crate) async fn claim(&self, claim: &Claim<'_>) -> Result<Vec<ClaimedDelivery>> {
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

    pub(crate) async fn release(&self, lease_id: &str, now: DateTime<Utc>) -> Result<u64> {
        // No index on lease_id: this runs only after a failed claim, and only pending rows
        // (a small set) can match.
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts - 1, next_attempt_at = $1, \
             lease_id = NULL, updated_at = $1 WHERE lease_id = $2 AND status = 'PENDING'",
        )
        .bind(to_millis(now))
        .bind(lease_id)
        .execute(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(done.rows_affected())
    }

    pub(crate) async fn finish(
        &self,
        outcomes: &[AttemptOutcome],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let now = to_millis(now);
        let mut tx = self.pool.begin().await.map_err(from_sqlx)?;
        for outcome in outcomes {
            let attempt = &outcome.attempt;
            // The delivery is gone if its endpoint was deleted meanwhile.
            sqlx::query(
                "INSERT INTO webhook_attempts (delivery_id, number, started_at, duration_ms, \
                 http_status, error, response_excerpt) \
                 SELECT $1, $2, $3, $4, $5, $6, $7 \
                 WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = $1) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&outcome.delivery_id)
            .bind(i64::from(attempt.number))
            .bind(to_millis(attempt.started_at))
            .bind(i64::from(attempt.duration_ms))
            .bind(attempt.http_status.map(i64::from))
            .bind(&attempt.error)
            .bind(&attempt.response_excerpt)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
            let (status, next_at) = match outcome.next {
                NextStep::Succeeded => (DeliveryStatus::Succeeded, now),
                NextStep::RetryAt(at) => (DeliveryStatus::Pending, to_millis(at)),
                NextStep::GiveUp => (DeliveryStatus::Failed, now),
            };
            // Only the lease holder reschedules; a success counts whoever reports it.
            sqlx::query(
                "UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, lease_id = NULL, \
                 last_http_status = $3, updated_at = $4 \
                 WHERE id = $5 AND status = 'PENDING' AND (lease_id = $6 OR $1 = 'SUCCEEDED')",
            )
            .bind(status.as_str())
            .bind(next_at)
            .bind(attempt.http_status.map(i64::from))
            .bind(now)
            .bind(&outcome.delivery_id)
            .bind(&outcome.lease_id)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
            update_health(&mut tx, &outcome.endpoint_id, outcome.health, now).await?;
        }
        tx.commit().await.map_err(from_sqlx)
    }

    pub(crate) async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        let (due,): (Option<i64>,) = sqlx::query_as(
            // Per endpoint, so each minimum is one step into the index.
            "SELECT min((SELECT min(d.next_attempt_at) FROM webhook_deliveries d \
             WHERE d.endpoint_id = e.id AND d.status = 'PENDING')) \
             FROM webhook_endpoints e WHERE e.enabled",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(from_sqlx)?;
        due.map(plugboard_store::from_millis).transpose()
    }

    pub(crate) async fn deliveries(
        &self,
        environment_id: &str,
        endpoint_id: &str,
        filter: &DeliveryFilter,
        after: Option<&DeliveryCursor>,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
             WHERE environment_id = $1 AND endpoint_id = $2 \
             AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR event_type = $4) \
             AND ($5::bigint IS NULL OR created_at < $5 OR (created_at = $5 AND id < $6)) \
             ORDER BY created_at DESC, id DESC LIMIT $7"
        ))
        .bind(environment_id)
        .bind(endpoint_id)
        .bind(filter.status.map(DeliveryStatus::as_str))
        .bind(&filter.event_type)
        .bind(after.map(|c| to_millis(c.created_at)))
        .bind(after.map(|c| c.id.as_str()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        convert_all(rows)
    }

    pub(crate) async fn delivery_detail(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<DeliveryDetail>> {
        let mut conn = self.pool.acquire().await.map_err(from_sqlx)?;
        let row: Option<DeliveryRow> = sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE environment_id = $1 AND id = $2"
        ))
        .bind(environment_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(from_sqlx)?;
        let Some(row) = row else { return Ok(None) };
        let delivery = Delivery::try_from(row)?;
        let event: EventRow = sqlx::query_as(
            "SELECT id, environment_id, event_type, payload, created_at, detail FROM events WHERE id = $1",
        )
        .bind(&delivery.event_id)
        .fetch_one(&mut *conn)
        .await
        .map_err(from_sqlx)?;
        let attempts: Vec<AttemptRow> = sqlx::query_as(
            "SELECT number, started_at, duration_ms, http_status, error, response_excerpt \
             FROM webhook_attempts WHERE delivery_id = $1 ORDER BY number",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .map_err(from_sqlx)?;
        Ok(Some(DeliveryDetail {
            delivery,
            payload: event.payload,
            attempts: convert_all(attempts)?,
        }))
    }

    pub(crate) async fn retry(
        &self,
        environment_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Delivery>> {
        let row: Option<DeliveryRow> = sqlx::query_as(&format!(
            "UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = $1, \
             lease_id = NULL, updated_at = $1 WHERE environment_id = $2 AND id = $3 \
             RETURNING {DELIVERY_COLUMNS}"
        ))
        .bind(to_millis(now))
        .bind(environment_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        if row.is_some() {
            sqlx::query("SELECT pg_notify('plugboard_deliveries_' || current_schema(), '')")
                .execute(&self.pool)
                .await
                .map_err(from_sqlx)?;
        }
        row.map(Delivery::try_from).transpose()
    }
}

async fn update_health(
    conn: &mut PgConnection,
    endpoint_id: &str,
    health: EndpointHealth,
    now: i64,
) -> Result<()> {
    let query = match health {
        EndpointHealth::Healthy => sqlx::query(
            "UPDATE webhook_endpoints SET failing_since = NULL \
             WHERE id = $1 AND failing_since IS NOT NULL",
        )
        .bind(endpoint_id),
        EndpointHealth::Failing {
            disable_if_failing_since,
        } => sqlx::query(
            "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2), \
             enabled = CASE WHEN coalesce(failing_since, $2) < $3 THEN false ELSE enabled END, \
             disabled_reason = CASE WHEN enabled AND coalesce(failing_since, $2) < $3 \
                 THEN 'FAILING' ELSE disabled_reason END, \
             updated_at = CASE WHEN enabled AND coalesce(failing_since, $2) < $3 \
                 THEN $2 ELSE updated_at END \
             WHERE id = $1",
        )
        .bind(endpoint_id)
        .bind(now)
        .bind(to_millis(disable_if_failing_since)),
        EndpointHealth::Gone => sqlx::query(
            "UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'GONE', \
             updated_at = $2 WHERE id = $1 AND enabled",
        )
        .bind(endpoint_id)
        .bind(now),
    };
    query.execute(conn).await.map_err(from_sqlx)?;
    Ok(())
}
