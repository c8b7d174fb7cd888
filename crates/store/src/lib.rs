//! Plugboard's storage contract.
//!
//! [`Store`] speaks in domain operations ("create this integration with its credentials, its
//! activation token and its event, atomically") rather than tables, so that each backend owns its
//! SQL and the guarantees the product relies on are stated in one place. The two
//! implementations, `plugboard-store-sqlite` and `plugboard-store-postgres`, pass the same
//! `contract` suite (behind the `contract` feature).

use async_trait::async_trait;
use audit::{AuditEvent, AuditFilter, SealedRecord, SealedSlot};
use chrono::{DateTime, TimeZone, Utc};
use webhooks::{
    AttemptOutcome, Claim, ClaimedDelivery, Delivery, DeliveryCursor, DeliveryDetail,
    DeliveryFilter, EndpointChanges, WebhookEndpoint,
};

pub mod audit;
pub mod ids;
#[macro_use]
mod model;
pub mod webhooks;

#[cfg(feature = "contract")]
pub mod contract;

pub use model::*;

/// What can go wrong in storage, in terms callers act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The link already completed a flow: a link creates at most one integration.
    #[error("the link has already been used")]
    LinkAlreadyUsed,
    /// The database cannot be reached or is overloaded; the request may be retried.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else: a bug or a corrupt row. Logged, reported as an opaque 500.
    #[error("database error: {0}")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Wraps an unexpected error (a corrupt row, an impossible state).
    pub fn other(message: impl Into<String>) -> Self {
        Self::Other(message.into().into())
    }
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Storage for everything Plugboard keeps. All methods are safe to call concurrently from many
/// tasks and, for PostgreSQL, from many processes.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies pending migrations and creates the two environments if they do not exist.
    async fn migrate(&self) -> Result<()>;

    /// Succeeds when the database answers a trivial query (for `/readyz`).
    async fn ping(&self) -> Result<()>;

    /// Like [`Store::ping`], but never queues behind busy requests, so a slow answer means the
    /// database is unreachable rather than the pool saturated. The server's health watch
    /// calls it several times a second.
    async fn probe(&self) -> Result<()> {
        self.ping().await
    }

    /// Both environments. Call [`Store::migrate`] first.
    async fn environments(&self) -> Result<Vec<Environment>>;

    /// Stores a new API key (its hash, never the key).
    async fn insert_api_key(&self, key: &ApiKey) -> Result<()>;

    /// The unrevoked API key with this SHA-256 hash.
    async fn active_api_key_by_hash(&self, hash: &[u8]) -> Result<Option<ApiKey>>;

    /// All API keys, newest first, optionally of one environment only.
    async fn list_api_keys(&self, environment_id: Option<&str>) -> Result<Vec<ApiKey>>;

    /// Revokes a key; `false` if no unrevoked key has this id.
    async fn revoke_api_key(&self, id: &str, now: DateTime<Utc>) -> Result<bool>;

    /// Records a magic link so that it can be listed and revoked.
    async fn insert_magic_link(&self, link: &MagicLink) -> Result<()>;

    /// The magic link with this id.
    async fn magic_link(&self, id: &str) -> Result<Option<MagicLink>>;

    /// Up to `limit` magic links of the environment, newest first, created before `before`
    /// (a `(created_at, id)` position) when given.
    async fn list_magic_links(
        &self,
        environment_id: &str,
        before: Option<(DateTime<Utc>, &str)>,
        limit: u32,
    ) -> Result<Vec<MagicLink>>;

    /// Revokes a magic link; `false` if the environment has no unrevoked link with this id.
    async fn revoke_magic_link(
        &self,
        environment_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool>;

    /// Creates an integration with its sealed credentials, consumes its link, stores the
    /// activation token's hash and writes the `integration-created` event, all in one
    /// transaction. Fails with [`StoreError::LinkAlreadyUsed`] if the link already completed.
    async fn create_integration(&self, new: &NewIntegration) -> Result<()>;

    /// Replaces an integration's credentials after a relink flow, sets it `ACTIVE`, consumes
    /// the link, stores the activation token and writes the event, in one transaction.
    /// Returns the updated integration, or `None` if it no longer exists or its status is no
    /// longer `expected_status` (the caller re-reads and tries again).
    async fn relink_integration(&self, relink: &Relink) -> Result<Option<Integration>>;

    /// Marks an unexpired, unredeemed activation token of this environment as redeemed and
    /// returns its integration. Atomic: of many concurrent redemptions exactly one succeeds.
    async fn redeem_activation_token(
        &self,
        environment_id: &str,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<Integration>>;

    /// The integration with this id in this environment.
    async fn integration(
        &self,
        environment_id: &str,
        id: &ids::IntegrationId,
    ) -> Result<Option<Integration>>;

    /// Up to `limit` integrations of the environment matching `filter`, ordered by creation
    /// time, starting after `after`.
    async fn list_integrations(
        &self,
        environment_id: &str,
        filter: &IntegrationFilter,
        after: Option<&IntegrationCursor>,
        limit: u32,
    ) -> Result<Vec<Integration>>;

    /// Deletes an integration with its credentials and tokens, and writes `event`, in one
    /// transaction. `false` if there was no such integration.
    async fn delete_integration(
        &self,
        environment_id: &str,
        id: &ids::IntegrationId,
        event: &Event,
    ) -> Result<bool>;

    /// Changes the status from `from` to `to` and writes `event`, in one transaction. `false`
    /// if the integration does not exist or no longer has status `from`.
    async fn update_integration_status(
        &self,
        environment_id: &str,
        id: &ids::IntegrationId,
        from: IntegrationStatus,
        to: IntegrationStatus,
        event: &Event,
        now: DateTime<Utc>,
    ) -> Result<bool>;

    /// The sealed credentials of an integration.
    async fn integration_credentials(&self, id: &ids::IntegrationId) -> Result<Option<Sealed>>;

    /// The ids of every key that sealed a stored record, so start-up can refuse a master key
    /// that cannot open existing data.
    async fn sealing_key_ids(&self) -> Result<Vec<String>>;

    /// How many sealed values each key id sealed, for `plugboard keys status`.
    async fn sealing_key_counts(&self) -> Result<Vec<(String, u64)>>;

    /// Up to `limit` values of `slot` sealed with a key other than `current_key_id`, with
    /// record ids after `after`, in record-id order: one batch of a re-sealing pass.
    async fn sealed_records(
        &self,
        slot: SealedSlot,
        current_key_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<SealedRecord>>;

    /// Replaces `record.sealed` with `resealed` if the stored value is still `record.sealed`
    /// (compared by nonce, unique per sealing). `false` when it changed meanwhile — a relink
    /// or a secret rotation wrote a new value, already under the current key — or is gone.
    async fn reseal(&self, record: &SealedRecord, resealed: &Sealed) -> Result<bool>;

    // --- Audit trail -------------------------------------------------------------------------

    /// Appends an entry to the audit trail.
    async fn record_audit_event(&self, event: &AuditEvent) -> Result<()>;

    /// An environment's audit trail, newest first, from before `before` (a `(created_at, id)`
    /// position), at most `limit` entries.
    async fn list_audit_events(
        &self,
        environment_id: &str,
        filter: &AuditFilter,
        before: Option<(DateTime<Utc>, &str)>,
        limit: u32,
    ) -> Result<Vec<AuditEvent>>;

    /// Whether a link has completed a flow.
    async fn link_consumed(&self, link_id: &str) -> Result<bool>;

    /// Writes an event that accompanies no other change (a failed connection flow).
    async fn record_event(&self, event: &Event) -> Result<()>;

    /// The event with this id in this environment.
    async fn event(&self, environment_id: &str, id: &str) -> Result<Option<Event>>;

    /// The newest events of an environment, newest first.
    async fn recent_events(&self, environment_id: &str, limit: u32) -> Result<Vec<Event>>;

    // --- Webhook endpoints -----------------------------------------------------------------

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

    /// Applies an operator's changes; `None` if there is no such endpoint.
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

    // --- Delivery --------------------------------------------------------------------------

    /// Writes `event` with one delivery, to this endpoint only (a test event). Returns the
    /// delivery's id, or `None` if the endpoint does not exist.
    async fn queue_event_for_endpoint(
        &self,
        event: &Event,
        endpoint_id: &str,
    ) -> Result<Option<String>>;

    /// Reserves up to `claim.limit` due deliveries of enabled endpoints until
    /// `claim.lease_until`, counting each as an attempt. Safe against other workers in this
    /// and, on PostgreSQL, other processes: a due delivery is claimed by one worker.
    async fn claim_deliveries(&self, claim: &Claim<'_>) -> Result<Vec<ClaimedDelivery>>;

    /// Gives back the deliveries claimed under `lease_id` that are still pending under it:
    /// due at `now`, their attempt not counted. A worker calls this when a claim failed
    /// without an answer (the commit may have happened as the connection dropped), so those
    /// deliveries need not wait out the lease. Returns how many were given back.
    async fn release_lease(&self, lease_id: &str, now: DateTime<Utc>) -> Result<u64>;

    /// Records attempts, reschedules or closes their deliveries (only under the lease they
    /// were claimed with; a success always counts) and updates endpoint health, in one
    /// transaction.
    async fn finish_attempts(&self, outcomes: &[AttemptOutcome], now: DateTime<Utc>) -> Result<()>;

    /// When the earliest pending delivery of an enabled endpoint is due, if any.
    async fn next_delivery_due(&self) -> Result<Option<DateTime<Utc>>>;

    /// Returns when deliveries may have been queued since the last call (in this process, or
    /// anywhere on PostgreSQL), or after `timeout`, whichever is first.
    async fn wait_for_new_deliveries(&self, timeout: std::time::Duration);

    /// Up to `limit` deliveries of an endpoint, newest first, after `after`.
    async fn list_deliveries(
        &self,
        environment_id: &str,
        endpoint_id: &str,
        filter: &DeliveryFilter,
        after: Option<&DeliveryCursor>,
        limit: u32,
    ) -> Result<Vec<Delivery>>;

    /// A delivery with its payload and attempts.
    async fn delivery(&self, environment_id: &str, id: &str) -> Result<Option<DeliveryDetail>>;

    /// Makes a delivery pending and due now, whatever its status. `None` if there is none.
    async fn retry_delivery(
        &self,
        environment_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Delivery>>;
}

/// Milliseconds since the Unix epoch: how both backends store timestamps, so that the two
/// schemas and their comparisons behave identically.
pub fn to_millis(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// The inverse of [`to_millis`]; out-of-range values (a corrupt row) are an error.
pub fn from_millis(millis: i64) -> Result<DateTime<Utc>> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .ok_or_else(|| StoreError::other(format!("timestamp out of range: {millis}")))
}

pub mod rows;
