//! Shared statements of [`crate::WebhookEndpoints`] and [`crate::Deliveries`]. The fan-out of
//! events to deliveries, the claim and the wake-up of workers differ between the dialects and
//! live in each backend's `webhooks` folder.

use chrono::{DateTime, Utc};

use crate::{
    Sealed,
    rows::{
        AttemptRow, DELIVERY_COLUMNS, DeliveryCountRow, DeliveryRow, WEBHOOK_ENDPOINT_COLUMNS,
        WebhookEndpointRow, join_event_types,
    },
    to_millis,
    webhooks::{
        AttemptOutcome, DeliveryCursor, DeliveryFilter, DeliveryStatus, DisabledReason,
        EndpointChanges, EndpointHealth, WebhookEndpoint,
    },
};

statements! {
    /// Stores a new endpoint.
    fn insert_endpoint<'q>(endpoint: &'q WebhookEndpoint) -> Query {
        let previous = endpoint.previous_secret.as_ref();
        sqlx::query(text!(
            "INSERT INTO webhook_endpoints ({WEBHOOK_ENDPOINT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .bind(endpoint.id.as_str())
        .bind(endpoint.environment_id.as_str())
        .bind(endpoint.url.as_str())
        .bind(join_event_types(&endpoint.event_types))
        .bind(endpoint.enabled)
        .bind(endpoint.disabled_reason.map(DisabledReason::as_str))
        .bind(endpoint.secret.key_id.as_str())
        .bind(endpoint.secret.nonce.as_slice())
        .bind(endpoint.secret.ciphertext.as_slice())
        .bind(previous.map(|p| p.secret.key_id.as_str()))
        .bind(previous.map(|p| p.secret.nonce.as_slice()))
        .bind(previous.map(|p| p.secret.ciphertext.as_slice()))
        .bind(previous.map(|p| to_millis(p.expires_at)))
        .bind(endpoint.failing_since.map(to_millis))
        .bind(to_millis(endpoint.created_at))
        .bind(to_millis(endpoint.updated_at))
    }

    /// The endpoint with this id in this environment.
    fn endpoint<'q>(environment_id: &'q str, id: &'q str) -> QueryAs<WebhookEndpointRow> {
        sqlx::query_as(text!(
            "SELECT {WEBHOOK_ENDPOINT_COLUMNS} FROM webhook_endpoints \
             WHERE environment_id = $1 AND id = $2"
        ))
        .bind(environment_id)
        .bind(id)
    }

    /// Every endpoint, oldest first, of one environment when given.
    fn endpoints<'q>(environment_id: Option<&'q str>) -> QueryAs<WebhookEndpointRow> {
        sqlx::query_as(text!(
            "SELECT {WEBHOOK_ENDPOINT_COLUMNS} FROM webhook_endpoints \
             WHERE ($1 IS NULL OR environment_id = $1) ORDER BY created_at, id"
        ))
        .bind(environment_id)
    }

    /// Applies an operator's changes. Enabling clears the failure record; disabling by hand
    /// records why.
    fn update_endpoint<'q>(
        environment_id: &'q str,
        id: &'q str,
        changes: &'q EndpointChanges,
        now: DateTime<Utc>,
    ) -> QueryAs<WebhookEndpointRow> {
        sqlx::query_as(text!(
            "UPDATE webhook_endpoints SET url = coalesce($1, url), \
             event_types = coalesce($2, event_types), \
             enabled = coalesce($3, enabled), \
             disabled_reason = CASE WHEN $3 IS NULL THEN disabled_reason \
                 WHEN $3 THEN NULL ELSE coalesce(disabled_reason, 'MANUAL') END, \
             failing_since = CASE WHEN $3 THEN NULL ELSE failing_since END, \
             updated_at = $4 \
             WHERE environment_id = $5 AND id = $6 RETURNING {WEBHOOK_ENDPOINT_COLUMNS}"
        ))
        .bind(changes.url.as_deref())
        .bind(changes.event_types.as_deref().map(join_event_types))
        .bind(changes.enabled)
        .bind(to_millis(now))
        .bind(environment_id)
        .bind(id)
    }

    /// Makes the current secret the previous one and stores `secret`.
    fn rotate_secret<'q>(
        environment_id: &'q str,
        id: &'q str,
        secret: &'q Sealed,
        previous_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> QueryAs<WebhookEndpointRow> {
        sqlx::query_as(text!(
            "UPDATE webhook_endpoints SET previous_key_id = secret_key_id, \
             previous_nonce = secret_nonce, previous_ciphertext = secret_ciphertext, \
             previous_expires_at = $1, secret_key_id = $2, secret_nonce = $3, \
             secret_ciphertext = $4, updated_at = $5 \
             WHERE environment_id = $6 AND id = $7 RETURNING {WEBHOOK_ENDPOINT_COLUMNS}"
        ))
        .bind(to_millis(previous_expires_at))
        .bind(secret.key_id.as_str())
        .bind(secret.nonce.as_slice())
        .bind(secret.ciphertext.as_slice())
        .bind(to_millis(now))
        .bind(environment_id)
        .bind(id)
    }

    /// Deletes an endpoint (its deliveries and attempts go with it by cascade).
    fn delete_endpoint<'q>(environment_id: &'q str, id: &'q str) -> Query {
        sqlx::query("DELETE FROM webhook_endpoints WHERE environment_id = $1 AND id = $2")
            .bind(environment_id)
            .bind(id)
    }

    /// The id of the endpoint, if it exists in this environment.
    fn endpoint_exists<'q>(environment_id: &'q str, id: &'q str) -> QueryAs<(String,)> {
        sqlx::query_as("SELECT id FROM webhook_endpoints WHERE environment_id = $1 AND id = $2")
            .bind(environment_id)
            .bind(id)
    }

    /// The id of the delivery of an event to an endpoint.
    fn delivery_id<'q>(event_id: &'q str, endpoint_id: &'q str) -> QueryAs<(String,)> {
        sqlx::query_as("SELECT id FROM webhook_deliveries WHERE event_id = $1 AND endpoint_id = $2")
            .bind(event_id)
            .bind(endpoint_id)
    }

    /// Gives back a lease's pending deliveries, due now, their attempt not counted. No index
    /// on lease_id: this runs only after a failed claim, and only pending rows can match.
    fn release<'q>(lease_id: &'q str, now: DateTime<Utc>) -> Query {
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts - 1, next_attempt_at = $1, \
             lease_id = NULL, updated_at = $1 WHERE lease_id = $2 AND status = 'PENDING'",
        )
        .bind(to_millis(now))
        .bind(lease_id)
    }

    /// Logs an attempt, unless its delivery is gone (its endpoint was deleted meanwhile).
    fn insert_attempt<'q>(outcome: &'q AttemptOutcome) -> Query {
        let attempt = &outcome.attempt;
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, number, started_at, duration_ms, \
             http_status, error, response_excerpt) \
             SELECT $1, $2, $3, $4, $5, $6, $7 \
             WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = $1) \
             ON CONFLICT DO NOTHING",
        )
        .bind(outcome.delivery_id.as_str())
        .bind(i64::from(attempt.number))
        .bind(to_millis(attempt.started_at))
        .bind(i64::from(attempt.duration_ms))
        .bind(attempt.http_status.map(i64::from))
        .bind(attempt.error.as_deref())
        .bind(attempt.response_excerpt.as_deref())
    }

    /// Reschedules or closes a delivery after an attempt. Only the lease holder reschedules;
    /// a success counts whoever reports it.
    fn reschedule<'q>(
        outcome: &'q AttemptOutcome,
        status: DeliveryStatus,
        next_at: i64,
        now: i64,
    ) -> Query {
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, lease_id = NULL, \
             last_http_status = $3, updated_at = $4 \
             WHERE id = $5 AND status = 'PENDING' AND (lease_id = $6 OR $1 = 'SUCCEEDED')",
        )
        .bind(status.as_str())
        .bind(next_at)
        .bind(outcome.attempt.http_status.map(i64::from))
        .bind(now)
        .bind(outcome.delivery_id.as_str())
        .bind(outcome.lease_id.as_str())
    }

    /// Records what an attempt says about its endpoint's health.
    fn update_health<'q>(endpoint_id: &'q str, health: EndpointHealth, now: i64) -> Query {
        match health {
            EndpointHealth::Healthy => sqlx::query(
                "UPDATE webhook_endpoints SET failing_since = NULL \
                 WHERE id = $1 AND failing_since IS NOT NULL",
            )
            .bind(endpoint_id),
            EndpointHealth::Failing {
                disable_if_failing_since,
            } => sqlx::query(
                "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2), \
                 enabled = CASE WHEN coalesce(failing_since, $2) < $3 THEN FALSE \
                     ELSE enabled END, \
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
                "UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = 'GONE', \
                 updated_at = $2 WHERE id = $1 AND enabled",
            )
            .bind(endpoint_id)
            .bind(now),
        }
    }

    /// When the earliest pending delivery of an enabled endpoint is due. Per endpoint, so
    /// each minimum is one step into the index.
    fn next_due<'q>() -> QueryAs<(Option<i64>,)> {
        sqlx::query_as(
            "SELECT min((SELECT min(d.next_attempt_at) FROM webhook_deliveries d \
             WHERE d.endpoint_id = e.id AND d.status = 'PENDING')) \
             FROM webhook_endpoints e WHERE e.enabled",
        )
    }

    /// A page of an endpoint's deliveries, newest first, after a `(created_at, id)` position.
    fn deliveries<'q>(
        environment_id: &'q str,
        endpoint_id: &'q str,
        filter: &'q DeliveryFilter,
        after: Option<&'q DeliveryCursor>,
        limit: u32,
    ) -> QueryAs<DeliveryRow> {
        sqlx::query_as(text!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
             WHERE environment_id = $1 AND endpoint_id = $2 \
             AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR event_type = $4) \
             AND ($5 IS NULL OR created_at < $5 OR (created_at = $5 AND id < $6)) \
             ORDER BY created_at DESC, id DESC LIMIT $7"
        ))
        .bind(environment_id)
        .bind(endpoint_id)
        .bind(filter.status.map(DeliveryStatus::as_str))
        .bind(filter.event_type.as_deref())
        .bind(after.map(|c| to_millis(c.created_at)))
        .bind(after.map(|c| c.id.as_str()))
        .bind(i64::from(limit))
    }

    /// The delivery with this id in this environment.
    fn delivery<'q>(environment_id: &'q str, id: &'q str) -> QueryAs<DeliveryRow> {
        sqlx::query_as(text!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
             WHERE environment_id = $1 AND id = $2"
        ))
        .bind(environment_id)
        .bind(id)
    }

    /// A delivery's attempts, oldest first.
    fn attempts<'q>(delivery_id: &'q str) -> QueryAs<AttemptRow> {
        sqlx::query_as(
            "SELECT number, started_at, duration_ms, http_status, error, response_excerpt \
             FROM webhook_attempts WHERE delivery_id = $1 ORDER BY number",
        )
        .bind(delivery_id)
    }

    /// Makes a delivery pending and due now.
    fn retry<'q>(environment_id: &'q str, id: &'q str, now: DateTime<Utc>) -> QueryAs<DeliveryRow> {
        sqlx::query_as(text!(
            "UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = $1, \
             lease_id = NULL, updated_at = $1 WHERE environment_id = $2 AND id = $3 \
             RETURNING {DELIVERY_COLUMNS}"
        ))
        .bind(to_millis(now))
        .bind(environment_id)
        .bind(id)
    }

    /// An environment's deliveries since a time, counted by status and whether tried.
    fn delivery_counts<'q>(environment_id: &'q str, since: DateTime<Utc>) -> QueryAs<DeliveryCountRow> {
        sqlx::query_as(
            "SELECT status, CAST(CASE WHEN attempts > 0 THEN 1 ELSE 0 END AS BIGINT) AS tried, \
             COUNT(*) AS count FROM webhook_deliveries \
             WHERE environment_id = $1 AND created_at >= $2 \
             GROUP BY status, CASE WHEN attempts > 0 THEN 1 ELSE 0 END",
        )
        .bind(environment_id)
        .bind(to_millis(since))
    }

    /// The deliveries of an integration's newest events. Found by event (the delivery's
    /// `(event_id, endpoint_id)` key): the events are already the environment's, and a
    /// condition on the delivery's own environment led SQLite to read all the environment's
    /// deliveries instead (seconds at 1,000,000, `bench/run dashboard`).
    fn integration_deliveries<'q>(
        environment_id: &'q str,
        integration_id: &'q str,
        events: u32,
    ) -> QueryAs<DeliveryRow> {
        sqlx::query_as(text!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
             WHERE event_id IN \
             (SELECT id FROM events WHERE environment_id = $1 AND integration_id = $2 \
              ORDER BY created_at DESC, id DESC LIMIT $3) \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(environment_id)
        .bind(integration_id)
        .bind(i64::from(events))
    }
}
