//! The audit trail: who did what to what, when and from where.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

/// One entry of the audit trail: who did what to what, when and from where. Never holds a
/// secret: actors and targets are named by id, and details are chosen fields (a tool, an
/// outcome), not request bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// 24 base58 characters; the tie-breaker of the trail's `(created_at, id)` order.
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

/// What [`Audit::list_audit_events`] keeps; every `Some` must match.
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

/// How many entries of one action an hour held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionCount {
    /// The action.
    pub action: String,
    /// The start of the hour (UTC).
    pub hour: DateTime<Utc>,
    /// How many entries.
    pub count: u64,
}

/// The audit trail.
#[async_trait]
pub trait Audit: Send + Sync {
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

    /// An environment's entries at or after `since`, counted by action and hour: the
    /// dashboard's charts of connection flows.
    async fn count_audit_actions(
        &self,
        environment_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<ActionCount>>;
}
