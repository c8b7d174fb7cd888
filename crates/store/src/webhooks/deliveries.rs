//! The durable delivery queue: one delivery per event and endpoint, claimed by workers under
//! a lease, with every attempt logged.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::PreviousSecret;
use crate::{Event, Result, Sealed};

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt (or for its endpoint to be enabled again).
    Pending,
    /// An attempt got a 2xx answer.
    Succeeded,
    /// Every scheduled attempt failed; a manual retry makes it pending again.
    Failed,
}

wire_enum!(DeliveryStatus {
    Pending => "PENDING",
    Succeeded => "SUCCEEDED",
    Failed => "FAILED",
});

/// One event on its way to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// 24 characters (hex on SQLite, from a UUID on PostgreSQL); names the delivery in its
    /// log and in manual retries.
    pub id: String,
    /// The event (its id is the `webhook-id`).
    pub event_id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// Its environment.
    pub environment_id: String,
    /// The event's type.
    pub event_type: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts started so far (including any cut short by a crash).
    pub attempts: u32,
    /// When the next attempt is due (while pending); during an attempt, when its lease ends.
    pub next_attempt_at: DateTime<Utc>,
    /// HTTP status of the last completed attempt, if it got one.
    pub last_http_status: Option<u16>,
    /// When the event was queued.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// One HTTP attempt of a delivery, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: u32,
    /// When the request started.
    pub started_at: DateTime<Utc>,
    /// How long until the response head arrived or the attempt failed.
    pub duration_ms: u32,
    /// The response status, if a response arrived.
    pub http_status: Option<u16>,
    /// Why the attempt failed without a response (timeout, refused, blocked address…).
    pub error: Option<String>,
    /// The first bytes of the response body.
    pub response_excerpt: Option<String>,
}

/// A delivery with what its log page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryDetail {
    /// The delivery.
    pub delivery: Delivery,
    /// The exact body sent.
    pub payload: String,
    /// Every logged attempt, oldest first.
    pub attempts: Vec<Attempt>,
}

/// How an environment's deliveries created since some time stand (the dashboard's overview).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    /// Delivered.
    pub succeeded: u64,
    /// Every scheduled attempt failed.
    pub failed: u64,
    /// Pending after at least one failed attempt.
    pub retrying: u64,
    /// Pending, not yet attempted.
    pub waiting: u64,
}

/// Filters of the delivery log; `None` means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    /// Only deliveries with this status.
    pub status: Option<DeliveryStatus>,
    /// Only deliveries of this event type.
    pub event_type: Option<String>,
}

/// A position in the delivery log, which is ordered newest first by `(created_at, id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryCursor {
    /// `created_at` of the last delivery seen.
    pub created_at: DateTime<Utc>,
    /// Id of the last delivery seen.
    pub id: String,
}

/// A worker's request for due deliveries.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    /// Random per claim; only the holder of the lease may reschedule the deliveries.
    pub lease_id: &'a str,
    /// The worker's clock.
    pub now: DateTime<Utc>,
    /// Until when the claimed deliveries are reserved; after that they are due again.
    pub lease_until: DateTime<Utc>,
    /// At most this many deliveries.
    pub limit: u32,
    /// At most this many deliveries in flight per endpoint…
    pub per_endpoint: u32,
    /// …counting those this worker already has in flight, by endpoint id.
    pub in_flight: &'a HashMap<String, u32>,
}

/// A delivery reserved for one attempt, with everything the attempt needs.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    /// The delivery id.
    pub id: String,
    /// The lease under which it was claimed.
    pub lease_id: String,
    /// The number of this attempt (1 for the first).
    pub attempt: u32,
    /// The event id, sent as `webhook-id`.
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// The exact body to send.
    pub payload: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// Its environment.
    pub environment_id: String,
    /// Its URL.
    pub url: String,
    /// Its current secret, sealed.
    pub secret: Sealed,
    /// Its previous secret while that still signs.
    pub previous_secret: Option<PreviousSecret>,
}

/// What becomes of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Delivered.
    Succeeded,
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// The schedule is exhausted.
    GiveUp,
}

/// What an attempt says about its endpoint's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointHealth {
    /// It answered 2xx: clear the failure record.
    Healthy,
    /// It failed; disable it if it has been failing since before this time.
    Failing {
        /// The cut-off: failing since earlier than this disables the endpoint.
        disable_if_failing_since: DateTime<Utc>,
    },
    /// It answered `410 Gone`: disable it now.
    Gone,
}

/// The result of one attempt, to record.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    /// The delivery.
    pub delivery_id: String,
    /// The lease it was claimed under.
    pub lease_id: String,
    /// Its endpoint.
    pub endpoint_id: String,
    /// The attempt as logged.
    pub attempt: Attempt,
    /// What happens next.
    pub next: NextStep,
    /// What it means for the endpoint.
    pub health: EndpointHealth,
}

/// The delivery queue, as workers drain it and operators inspect it.
#[async_trait]
pub trait Deliveries: Send + Sync {
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

    /// An environment's deliveries queued at or after `since`, counted by where they stand.
    async fn delivery_counts(
        &self,
        environment_id: &str,
        since: DateTime<Utc>,
    ) -> Result<DeliveryCounts>;

    /// The deliveries of the newest `events` events about an integration, newest first.
    async fn integration_deliveries(
        &self,
        environment_id: &str,
        integration_id: &str,
        events: u32,
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
