//! The passthrough request log: what was asked of which tool and how it went.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{Result, ids::IntegrationId};

/// One passthrough call: what was asked of which tool and how it went. Never holds a body, a
/// header or a credential, so the log can be shown to any operator of the environment and kept
/// without sealing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLogEntry {
    /// 24 base58 characters; the tie-breaker of the log's `(created_at, id)` order.
    pub id: String,
    /// The environment of the integration.
    pub environment_id: String,
    /// The integration whose credentials the call used.
    pub integration_id: IntegrationId,
    /// The catalog id of the tool called.
    pub tool: String,
    /// The tool's passthrough API id (`personnel`, `v1`).
    pub api: String,
    /// The HTTP method: `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: String,
    /// The path as sent, with the names of query parameters but not their values, which may
    /// carry personal data (`/company/employees?limit&offset`).
    pub path: String,
    /// The tool's HTTP status; `None` when it never answered.
    pub remote_status: Option<u16>,
    /// Plugboard's error class when the call failed on our side (`timeout`, `unreachable`,
    /// `blocked`, `response_too_large`, `concurrency_limit`, `input_invalid`, …); `None` on an
    /// answered call.
    pub error: Option<String>,
    /// How long the call took, retries included.
    pub duration_ms: u32,
    /// Body bytes sent to the tool.
    pub request_bytes: u64,
    /// Body bytes received from the tool.
    pub response_bytes: u64,
    /// One plus the number of retries.
    pub attempts: u32,
    /// When the call started.
    pub created_at: DateTime<Utc>,
}

/// Which kind of outcome [`RequestFilter::status_class`] keeps, as an operator asks for it
/// ("the failed calls", "the 4xx").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    /// The tool answered 2xx.
    Success,
    /// The tool answered 3xx.
    Redirect,
    /// The tool answered 4xx.
    ClientError,
    /// The tool answered 5xx.
    ServerError,
    /// The tool never answered: the call failed on our side or on the way.
    Failed,
}

wire_enum!(StatusClass {
    Success => "success",
    Redirect => "redirect",
    ClientError => "client_error",
    ServerError => "server_error",
    Failed => "failed",
});

impl StatusClass {
    /// The lowest status of the class (200 for [`Self::Success`]), `None` for [`Self::Failed`]:
    /// how the statements in [`crate::sql::request_log`] select a class with one comparison.
    pub fn lowest_status(self) -> Option<u16> {
        match self {
            Self::Success => Some(200),
            Self::Redirect => Some(300),
            Self::ClientError => Some(400),
            Self::ServerError => Some(500),
            Self::Failed => None,
        }
    }
}

/// What [`RequestLog::list_requests`] keeps; every `Some` must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFilter {
    /// Calls to exactly this passthrough API.
    pub api: Option<String>,
    /// Calls with exactly this method.
    pub method: Option<String>,
    /// Calls with this kind of outcome.
    pub status_class: Option<StatusClass>,
    /// At or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Before this time.
    pub until: Option<DateTime<Utc>>,
}

/// The passthrough request log.
#[async_trait]
pub trait RequestLog: Send + Sync {
    /// Appends entries, all in one transaction, so a batch is written whole or not at all (the
    /// server batches writes; an empty slice is a no-op).
    async fn record_requests(&self, entries: &[RequestLogEntry]) -> Result<()>;

    /// One integration's log, newest first, from before `before` (a `(created_at, id)`
    /// position), at most `limit` entries.
    async fn list_requests(
        &self,
        environment_id: &str,
        integration_id: &IntegrationId,
        filter: &RequestFilter,
        before: Option<(DateTime<Utc>, &str)>,
        limit: u32,
    ) -> Result<Vec<RequestLogEntry>>;

    /// One entry of an environment, by id.
    async fn request_entry(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<RequestLogEntry>>;

    /// Deletes up to `limit` of the oldest entries made before `before`, in every
    /// environment; returns how many. Small batches keep each write short next to the API's.
    async fn prune_requests(&self, before: DateTime<Utc>, limit: u32) -> Result<u64>;
}
