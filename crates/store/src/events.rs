//! The events an environment emits, for its webhook endpoints and its log. Writing an event
//! also queues its deliveries (see [`crate::webhooks`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

/// An event for the webhook outbox. `payload` is the exact compact JSON (`{id, type, data}`)
/// that will be signed and sent, so it is serialised once, when the change happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// 24 base58 characters; also the payload's `id` and the Standard Webhooks `webhook-id`,
    /// so a receiver can drop a repeated delivery.
    pub id: String,
    /// The environment whose webhook endpoints receive it.
    pub environment_id: String,
    /// Kombo's event type, e.g. `integration-created`.
    pub event_type: String,
    /// The exact body to deliver.
    pub payload: String,
    /// When the change happened.
    pub created_at: DateTime<Utc>,
    /// What the event's log page explains beyond the payload (e.g. why a flow failed).
    pub detail: Option<String>,
    /// The integration the event is about, for the dashboard's page of that integration;
    /// `None` for events about no integration (a failed flow, a test).
    pub integration_id: Option<String>,
}

/// Events that accompany no other change, and reading events back.
#[async_trait]
pub trait Events: Send + Sync {
    /// Writes an event that accompanies no other change (a failed connection flow), with its
    /// deliveries.
    async fn record_event(&self, event: &Event) -> Result<()>;

    /// The event with this id in this environment.
    async fn event(&self, environment_id: &str, id: &str) -> Result<Option<Event>>;

    /// The newest events of an environment, newest first.
    async fn recent_events(&self, environment_id: &str, limit: u32) -> Result<Vec<Event>>;

    /// The newest events about one integration, newest first.
    async fn integration_events(
        &self,
        environment_id: &str,
        integration_id: &str,
        limit: u32,
    ) -> Result<Vec<Event>>;
}
