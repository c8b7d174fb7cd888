//! Webhook endpoints: the URLs that receive an environment's events, with their sealed
//! signing secrets and their delivery health.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{Result, Sealed};

/// Why an endpoint stopped receiving deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisabledReason {
    /// The operator disabled it.
    Manual,
    /// It answered `410 Gone`.
    Gone,
    /// It failed every attempt for longer than the configured limit (5 days by default).
    Failing,
}

wire_enum!(DisabledReason {
    Manual => "MANUAL",
    Gone => "GONE",
    Failing => "FAILING",
});

/// A URL that receives an environment's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// 24 base58 characters; names the endpoint in the API and in its deliveries.
    pub id: String,
    /// Its environment.
    pub environment_id: String,
    /// Where events are posted.
    pub url: String,
    /// The event types it receives.
    pub event_types: Vec<String>,
    /// Whether deliveries are attempted; pending ones wait while it is disabled.
    pub enabled: bool,
    /// Why it is disabled; `None` when enabled.
    pub disabled_reason: Option<DisabledReason>,
    /// The signing secret, sealed.
    pub secret: Sealed,
    /// The secret replaced by the last rotation, which keeps signing until it expires.
    pub previous_secret: Option<PreviousSecret>,
    /// Start of the current run of failed attempts; `None` after a success.
    pub failing_since: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change by the operator or by delivery health.
    pub updated_at: DateTime<Utc>,
}

/// A rotated-out secret that still signs alongside the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousSecret {
    /// The old secret, sealed.
    pub secret: Sealed,
    /// When it stops signing.
    pub expires_at: DateTime<Utc>,
}

/// An operator's change to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointChanges {
    /// New URL.
    pub url: Option<String>,
    /// New subscription.
    pub event_types: Option<Vec<String>>,
    /// Enable (clearing the failure record) or disable (reason [`DisabledReason::Manual`]).
    pub enabled: Option<bool>,
}

/// Webhook endpoints, as an operator manages them.
#[async_trait]
pub trait WebhookEndpoints: Send + Sync {
    /// Stores a new endpoint. Events written from now on fan out to it.
    async fn insert_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<()>;

    /// The endpoint with this id in this environment.
    async fn webhook_endpoint(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>>;

    /// All endpoints, oldest first, optionally of one environment only.
    async fn list_webhook_endpoints(
        &self,
        environment_id: Option<&str>,
    ) -> Result<Vec<WebhookEndpoint>>;

    /// Applies an operator's changes; `None` if there is no such endpoint. Enabling an
    /// endpoint wakes the workers, since its waiting deliveries are due.
    async fn update_webhook_endpoint(
        &self,
        environment_id: &str,
        id: &str,
        changes: &EndpointChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookEndpoint>>;

    /// Replaces the secret with `secret`; the current one becomes `previous` (signing until
    /// `previous.expires_at`). `None` if there is no such endpoint.
    async fn rotate_webhook_secret(
        &self,
        environment_id: &str,
        id: &str,
        secret: &Sealed,
        previous_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookEndpoint>>;

    /// Deletes an endpoint with its deliveries and their log. `false` if there was none.
    async fn delete_webhook_endpoint(&self, environment_id: &str, id: &str) -> Result<bool>;
}
