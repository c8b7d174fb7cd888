//! The audit trail and the re-sealing of secrets under a new master key, in domain words.

use chrono::{DateTime, Utc};

use crate::Sealed;

/// One entry of the audit trail: who did what to what, when and from where. Never holds a
/// secret: actors and targets are named by id, and details are chosen fields (a tool, an
/// outcome), not request bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Bare id (24 base58 characters).
    pub id: String,
    /// The environment it happened in.
    pub environment_id: String,
    /// What happened, as `noun.verb`: `api_key.created`, `link.opened`, ….
    pub action: String,
    /// Who did it: `api_key:<id>`, `cli`, `end_user` or `system`.
    pub actor: String,
    /// What it was done to, as `kind:<id>`: `integration:personio:…`, `webhook_endpoint:…`.
    pub target: Option<String>,
    /// The connection link involved, for the end user's steps.
    pub link_id: Option<String>,
    /// The client's IP address, when the action came over HTTP.
    pub ip: Option<String>,
    /// The client's `User-Agent`, cut to 512 characters.
    pub user_agent: Option<String>,
    /// Further facts as a JSON object (`{"tool":"personio"}`), `{}` when none.
    pub detail: String,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

/// What [`crate::Store::list_audit_events`] keeps; every `Some` must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Exactly this action.
    pub action: Option<String>,
    /// Exactly this actor.
    pub actor: Option<String>,
    /// Exactly this target.
    pub target: Option<String>,
    /// Steps of this link.
    pub link_id: Option<String>,
    /// At or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Before this time.
    pub until: Option<DateTime<Utc>>,
}

/// Where a sealed value lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SealedSlot {
    /// An integration's credentials; the record id is the integration id.
    Credentials,
    /// A webhook endpoint's signing secret; the record id is the endpoint id.
    WebhookSecret,
    /// A webhook endpoint's rotated-out secret, while it still signs.
    PreviousWebhookSecret,
}

impl SealedSlot {
    /// Every slot, in the order re-sealing visits them.
    pub const ALL: [Self; 3] = [
        Self::Credentials,
        Self::WebhookSecret,
        Self::PreviousWebhookSecret,
    ];
}

/// A sealed value and where it lives, for re-sealing under another key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRecord {
    /// Which column.
    pub slot: SealedSlot,
    /// The integration or endpoint it belongs to (also its associated data).
    pub record_id: String,
    /// The value as stored.
    pub sealed: Sealed,
}
