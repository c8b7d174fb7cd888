//! Plugboard's storage contract.
//!
//! Storage speaks in domain operations ("create this integration with its credentials, its
//! activation token and its event, atomically") rather than tables, so that the guarantees the
//! product relies on are stated in one place. The two implementations, `plugboard-store-sqlite`
//! and `plugboard-store-postgres`, pass the same `contract` suite (behind the `contract`
//! feature).
//!
//! # One room per area
//!
//! The operations are cut into one trait per area, each in a file of that name, and every store
//! crate has the same files: `crates/store/src/links.rs` holds [`Links`] and the magic-link
//! types, `crates/store-sqlite/src/links.rs` and `crates/store-postgres/src/links.rs` implement
//! it, `crates/store/src/sql/links.rs` holds its shared statements and
//! `crates/store/src/contract/links.rs` its tests. The cut follows what an operator or a worker
//! changes together:
//!
//! | area | trait | what it keeps |
//! | --- | --- | --- |
//! | `setup` | [`Setup`] | migrations, health checks, the two environments |
//! | `api_keys` | [`ApiKeys`] | operators' API keys |
//! | `links` | [`Links`] | magic links and which links completed a flow |
//! | `integrations` | [`Integrations`] | integrations, their credentials and activation tokens |
//! | `oauth` | [`Oauth`] | OAuth apps, sign-in attempts, the credentials lock of a refresh |
//! | `operators` | [`Operators`] | the dashboard's operators, their sign-in tokens and sessions |
//! | `events` | [`Events`] | the webhook events an environment emitted |
//! | `audit` | [`Audit`] | the audit trail |
//! | `request_log` | [`RequestLog`] | the passthrough request log: one row per call to a tool |
//! | `sealing` | [`Sealing`] | which master key sealed what, and re-sealing under a new one |
//! | `webhooks` | [`WebhookEndpoints`], [`Deliveries`] | endpoints, and the delivery queue |
//!
//! Webhook endpoints and deliveries are two traits (an operator edits endpoints; the worker
//! drains deliveries) in one `webhooks` folder, because the fan-out that links them belongs to
//! both. [`Store`] is all of them together; callers hold an `Arc<dyn Store>`.
//!
//! # Where SQL lives
//!
//! A statement that reads the same in both dialects is written once, with its binds, in
//! [`sql`]: a function generic over the database that returns the bound query, which each
//! backend executes on its own pool or transaction. Both backends use `$n` placeholders and
//! `TRUE`/`FALSE`, and PostgreSQL learns each parameter's type from its bound value, so no cast
//! is needed. A statement that differs (the fan-out of events to deliveries, the claim, the
//! activation-token redemption, `pg_notify`) lives in its backend's area file with a comment
//! saying why.

use chrono::{DateTime, TimeZone, Utc};

/// Generates `as_str`/`parse` for a fieldless enum whose variants have fixed wire names.
macro_rules! wire_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// The stored and wire spelling.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Parses the stored and wire spelling.
            pub fn parse(value: &str) -> Option<Self> {
                match value { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

mod api_keys;
pub mod audit;
pub mod driver;
mod events;
pub mod ids;
mod integrations;
mod links;
pub mod oauth;
pub mod operators;
pub mod request_log;
pub mod rows;
pub mod sealing;
mod setup;
pub mod sql;
pub mod webhooks;

#[cfg(feature = "contract")]
pub mod contract;

pub use api_keys::{ApiKey, ApiKeys};
pub use audit::Audit;
pub use events::{Event, Events};
pub use integrations::{
    DueCheck, EndUser, Integration, IntegrationCounts, IntegrationCursor, IntegrationFilter,
    IntegrationHealth, IntegrationSearch, IntegrationStatus, Integrations, ListedIntegration,
    NewActivationToken, NewIntegration, Relink, SetupStatus,
};
pub use links::{ConsumedLink, LinkProgress, Links, MagicLink};
pub use oauth::{NewOauthApp, Oauth, OauthApp, OauthAttempt, OauthResult};
pub use operators::{Operator, OperatorRole, OperatorSession, Operators, SigninToken};
pub use request_log::RequestLog;
pub use sealing::{Sealed, Sealing};
pub use setup::{Environment, EnvironmentName, EnvironmentSettings, Setup};
pub use webhooks::{Deliveries, WebhookEndpoints};

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

/// Storage for everything Plugboard keeps: every area trait at once. All methods are safe to
/// call concurrently from many tasks and, for PostgreSQL, from many processes. Implemented for
/// every type that implements the areas, so a backend never names it.
pub trait Store:
    Setup
    + ApiKeys
    + Links
    + Integrations
    + Oauth
    + Operators
    + Events
    + Audit
    + RequestLog
    + Sealing
    + WebhookEndpoints
    + Deliveries
    + 'static
{
}

impl<T> Store for T where
    T: Setup
        + ApiKeys
        + Links
        + Integrations
        + Oauth
        + Operators
        + Events
        + Audit
        + RequestLog
        + Sealing
        + WebhookEndpoints
        + Deliveries
        + 'static
{
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
