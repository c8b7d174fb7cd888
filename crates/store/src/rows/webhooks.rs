//! Rows of the webhook tables: endpoints, deliveries, attempts, and what a claim returns.

use super::{corrupt, optional_millis};
use crate::{
    Result, Sealed, StoreError, from_millis,
    webhooks::{
        Attempt, ClaimedDelivery, Delivery, DeliveryCounts, DeliveryStatus, DisabledReason,
        PreviousSecret, WebhookEndpoint,
    },
};

/// Columns of `webhook_endpoints`, in [`WebhookEndpointRow`]'s order.
pub const WEBHOOK_ENDPOINT_COLUMNS: &str = "id, environment_id, url, event_types, enabled, \
    disabled_reason, secret_key_id, secret_nonce, secret_ciphertext, previous_key_id, \
    previous_nonce, previous_ciphertext, previous_expires_at, failing_since, created_at, \
    updated_at";

/// One group of [`delivery_counts`](crate::Deliveries::delivery_counts): a status, whether
/// an attempt was made, how many.
#[derive(Debug, sqlx::FromRow)]
pub struct DeliveryCountRow {
    /// The status's wire name.
    pub status: String,
    /// 1 when at least one attempt was made.
    pub tried: i64,
    /// How many.
    pub count: i64,
}

/// Folds the groups of `delivery_counts` into its counts.
pub fn delivery_counts(rows: Vec<DeliveryCountRow>) -> Result<DeliveryCounts> {
    let mut counts = DeliveryCounts::default();
    for row in rows {
        let count = u64::try_from(row.count).unwrap_or(0);
        match (DeliveryStatus::parse(&row.status), row.tried != 0) {
            (Some(DeliveryStatus::Succeeded), _) => counts.succeeded += count,
            (Some(DeliveryStatus::Failed), _) => counts.failed += count,
            (Some(DeliveryStatus::Pending), true) => counts.retrying += count,
            (Some(DeliveryStatus::Pending), false) => counts.waiting += count,
            (None, _) => return Err(corrupt("delivery status", &row.status)),
        }
    }
    Ok(counts)
}

/// `webhook_endpoints` row.
#[derive(Debug, sqlx::FromRow)]
pub struct WebhookEndpointRow {
    /// [`WebhookEndpoint::id`](crate::webhooks::WebhookEndpoint::id).
    pub id: String,
    /// [`WebhookEndpoint::environment_id`](crate::webhooks::WebhookEndpoint::environment_id).
    pub environment_id: String,
    /// [`WebhookEndpoint::url`](crate::webhooks::WebhookEndpoint::url).
    pub url: String,
    /// Comma-separated event types.
    pub event_types: String,
    /// [`WebhookEndpoint::enabled`](crate::webhooks::WebhookEndpoint::enabled).
    pub enabled: bool,
    /// Why not, when disabled.
    pub disabled_reason: Option<String>,
    /// Sealing key id of the secret.
    pub secret_key_id: String,
    /// AEAD nonce of the secret.
    pub secret_nonce: Vec<u8>,
    /// Sealed secret.
    pub secret_ciphertext: Vec<u8>,
    /// Sealing key id of the previous secret.
    pub previous_key_id: Option<String>,
    /// AEAD nonce of the previous secret.
    pub previous_nonce: Option<Vec<u8>>,
    /// Sealed previous secret.
    pub previous_ciphertext: Option<Vec<u8>>,
    /// When the previous secret stops signing, in milliseconds.
    pub previous_expires_at: Option<i64>,
    /// [`WebhookEndpoint::failing_since`](crate::webhooks::WebhookEndpoint::failing_since), in
    /// milliseconds since the epoch.
    pub failing_since: Option<i64>,
    /// [`WebhookEndpoint::created_at`](crate::webhooks::WebhookEndpoint::created_at), in
    /// milliseconds since the epoch.
    pub created_at: i64,
    /// [`WebhookEndpoint::updated_at`](crate::webhooks::WebhookEndpoint::updated_at), in
    /// milliseconds since the epoch.
    pub updated_at: i64,
}

/// Joins event types for the `event_types` column.
pub fn join_event_types(types: &[String]) -> String {
    types.join(",")
}

fn previous_secret(
    key_id: Option<String>,
    nonce: Option<Vec<u8>>,
    ciphertext: Option<Vec<u8>>,
    expires_at: Option<i64>,
) -> Result<Option<PreviousSecret>> {
    Ok(match (key_id, nonce, ciphertext, expires_at) {
        (Some(key_id), Some(nonce), Some(ciphertext), Some(expires_at)) => Some(PreviousSecret {
            secret: Sealed {
                key_id,
                nonce,
                ciphertext,
            },
            expires_at: from_millis(expires_at)?,
        }),
        _ => None,
    })
}

impl TryFrom<WebhookEndpointRow> for WebhookEndpoint {
    type Error = StoreError;

    fn try_from(row: WebhookEndpointRow) -> Result<Self> {
        Ok(Self {
            disabled_reason: row
                .disabled_reason
                .map(|r| DisabledReason::parse(&r).ok_or_else(|| corrupt("disabled reason", &r)))
                .transpose()?,
            event_types: row
                .event_types
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            previous_secret: previous_secret(
                row.previous_key_id,
                row.previous_nonce,
                row.previous_ciphertext,
                row.previous_expires_at,
            )?,
            secret: Sealed {
                key_id: row.secret_key_id,
                nonce: row.secret_nonce,
                ciphertext: row.secret_ciphertext,
            },
            id: row.id,
            environment_id: row.environment_id,
            url: row.url,
            enabled: row.enabled,
            failing_since: optional_millis(row.failing_since)?,
            created_at: from_millis(row.created_at)?,
            updated_at: from_millis(row.updated_at)?,
        })
    }
}

/// Columns of `webhook_deliveries`, in [`DeliveryRow`]'s order.
pub const DELIVERY_COLUMNS: &str = "id, event_id, endpoint_id, environment_id, event_type, \
    status, attempts, next_attempt_at, last_http_status, created_at, updated_at";

/// `webhook_deliveries` row.
#[derive(Debug, sqlx::FromRow)]
pub struct DeliveryRow {
    /// [`Delivery::id`](crate::webhooks::Delivery::id).
    pub id: String,
    /// [`Delivery::event_id`](crate::webhooks::Delivery::event_id).
    pub event_id: String,
    /// [`Delivery::endpoint_id`](crate::webhooks::Delivery::endpoint_id).
    pub endpoint_id: String,
    /// [`Delivery::environment_id`](crate::webhooks::Delivery::environment_id).
    pub environment_id: String,
    /// [`Delivery::event_type`](crate::webhooks::Delivery::event_type).
    pub event_type: String,
    /// [`Delivery::status`](crate::webhooks::Delivery::status), as its wire name.
    pub status: String,
    /// [`Delivery::attempts`](crate::webhooks::Delivery::attempts).
    pub attempts: i64,
    /// [`Delivery::next_attempt_at`](crate::webhooks::Delivery::next_attempt_at), in milliseconds
    /// since the epoch.
    pub next_attempt_at: i64,
    /// [`Delivery::last_http_status`](crate::webhooks::Delivery::last_http_status).
    pub last_http_status: Option<i64>,
    /// [`Delivery::created_at`](crate::webhooks::Delivery::created_at), in milliseconds since the
    /// epoch.
    pub created_at: i64,
    /// [`Delivery::updated_at`](crate::webhooks::Delivery::updated_at), in milliseconds since the
    /// epoch.
    pub updated_at: i64,
}

fn http_status(value: i64) -> Result<u16> {
    u16::try_from(value).map_err(|_| corrupt("HTTP status", &value.to_string()))
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;

    fn try_from(row: DeliveryRow) -> Result<Self> {
        Ok(Self {
            status: DeliveryStatus::parse(&row.status)
                .ok_or_else(|| corrupt("delivery status", &row.status))?,
            attempts: u32::try_from(row.attempts)
                .map_err(|_| corrupt("attempts", &row.attempts.to_string()))?,
            next_attempt_at: from_millis(row.next_attempt_at)?,
            last_http_status: row.last_http_status.map(http_status).transpose()?,
            created_at: from_millis(row.created_at)?,
            updated_at: from_millis(row.updated_at)?,
            id: row.id,
            event_id: row.event_id,
            endpoint_id: row.endpoint_id,
            environment_id: row.environment_id,
            event_type: row.event_type,
        })
    }
}

/// `webhook_attempts` row (without its delivery id).
#[derive(Debug, sqlx::FromRow)]
pub struct AttemptRow {
    /// [`Attempt::number`](crate::webhooks::Attempt::number).
    pub number: i64,
    /// [`Attempt::started_at`](crate::webhooks::Attempt::started_at), in milliseconds since the
    /// epoch.
    pub started_at: i64,
    /// [`Attempt::duration_ms`](crate::webhooks::Attempt::duration_ms).
    pub duration_ms: i64,
    /// [`Attempt::http_status`](crate::webhooks::Attempt::http_status).
    pub http_status: Option<i64>,
    /// [`Attempt::error`](crate::webhooks::Attempt::error).
    pub error: Option<String>,
    /// [`Attempt::response_excerpt`](crate::webhooks::Attempt::response_excerpt).
    pub response_excerpt: Option<String>,
}

impl TryFrom<AttemptRow> for Attempt {
    type Error = StoreError;

    fn try_from(row: AttemptRow) -> Result<Self> {
        Ok(Self {
            number: u32::try_from(row.number)
                .map_err(|_| corrupt("attempt number", &row.number.to_string()))?,
            started_at: from_millis(row.started_at)?,
            duration_ms: u32::try_from(row.duration_ms).unwrap_or(u32::MAX),
            http_status: row.http_status.map(http_status).transpose()?,
            error: row.error,
            response_excerpt: row.response_excerpt,
        })
    }
}

/// What a claim query returns per delivery: the delivery, its event's body and its endpoint.
#[derive(Debug, sqlx::FromRow)]
pub struct ClaimedRow {
    /// [`ClaimedDelivery::id`](crate::webhooks::ClaimedDelivery::id).
    pub id: String,
    /// Attempt number of this claim.
    pub attempts: i64,
    /// [`ClaimedDelivery::event_id`](crate::webhooks::ClaimedDelivery::event_id).
    pub event_id: String,
    /// [`ClaimedDelivery::event_type`](crate::webhooks::ClaimedDelivery::event_type).
    pub event_type: String,
    /// [`ClaimedDelivery::payload`](crate::webhooks::ClaimedDelivery::payload).
    pub payload: String,
    /// [`ClaimedDelivery::endpoint_id`](crate::webhooks::ClaimedDelivery::endpoint_id).
    pub endpoint_id: String,
    /// [`ClaimedDelivery::environment_id`](crate::webhooks::ClaimedDelivery::environment_id).
    pub environment_id: String,
    /// [`ClaimedDelivery::url`](crate::webhooks::ClaimedDelivery::url).
    pub url: String,
    /// Sealing key id of the secret.
    pub secret_key_id: String,
    /// AEAD nonce of the secret.
    pub secret_nonce: Vec<u8>,
    /// Sealed secret.
    pub secret_ciphertext: Vec<u8>,
    /// Sealing key id of the previous secret.
    pub previous_key_id: Option<String>,
    /// AEAD nonce of the previous secret.
    pub previous_nonce: Option<Vec<u8>>,
    /// Sealed previous secret.
    pub previous_ciphertext: Option<Vec<u8>>,
    /// When the previous secret stops signing, in milliseconds.
    pub previous_expires_at: Option<i64>,
}

impl ClaimedRow {
    /// The claimed delivery under `lease_id`; an expired previous secret is dropped.
    pub fn into_claimed(self, lease_id: &str, now: i64) -> Result<ClaimedDelivery> {
        let previous = previous_secret(
            self.previous_key_id,
            self.previous_nonce,
            self.previous_ciphertext,
            self.previous_expires_at.filter(|&expires| expires > now),
        )?;
        Ok(ClaimedDelivery {
            attempt: u32::try_from(self.attempts)
                .map_err(|_| corrupt("attempts", &self.attempts.to_string()))?,
            lease_id: lease_id.to_owned(),
            secret: Sealed {
                key_id: self.secret_key_id,
                nonce: self.secret_nonce,
                ciphertext: self.secret_ciphertext,
            },
            previous_secret: previous,
            id: self.id,
            event_id: self.event_id,
            event_type: self.event_type,
            payload: self.payload,
            endpoint_id: self.endpoint_id,
            environment_id: self.environment_id,
            url: self.url,
        })
    }
}
