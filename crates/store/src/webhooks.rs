//! Webhook endpoints and the durable delivery queue, in domain words.
//!
//! Every event row fans out, in the transaction that writes it, to one [`Delivery`] per enabled
//! endpoint of its environment subscribed to its type. A worker claims due deliveries with a
//! lease ([`Claim`]); an expired lease makes a delivery due again, so a crash loses nothing and
//! at worst repeats a request (with the same `webhook-id`). Each attempt is logged.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::Sealed;

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
    /// Bare id (24 base58 characters).
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
    /// Bare id.
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
