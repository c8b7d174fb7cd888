//! The records Plugboard keeps, in domain words. These are not wire types: the HTTP layer maps
//! them to the Kombo-shaped responses.

use chrono::{DateTime, Utc};
use plugboard_catalog::Category;
use serde::{Deserialize, Serialize};

use crate::ids::IntegrationId;

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

/// The two environments every Plugboard installation has. Each has its own API keys, webhook
/// endpoints and enabled tools; the `sandbox` tool exists only in development.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvironmentName {
    /// Real customers' integrations.
    Production,
    /// The operator's own testing; offers the sandbox tool.
    Development,
}

wire_enum!(EnvironmentName { Production => "production", Development => "development" });

impl EnvironmentName {
    /// Both environments.
    pub const ALL: [EnvironmentName; 2] = [Self::Production, Self::Development];
}

/// An environment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// Bare id, returned by `GET /check-api-key` as `environment_id`.
    pub id: String,
    /// Which of the two environments this is.
    pub name: EnvironmentName,
    /// Id of the environment's default scope config (Kombo's integrations always have one).
    pub scope_config_id: String,
    /// When the environment was first created.
    pub created_at: DateTime<Utc>,
}

/// An API key as stored: never the key itself, only its SHA-256 hash and a display prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Bare id, used to revoke the key.
    pub id: String,
    /// The environment the key acts in.
    pub environment_id: String,
    /// The operator's label for the key.
    pub name: String,
    /// SHA-256 of the full key.
    pub key_hash: Vec<u8>,
    /// The first characters of the key, enough to recognise it in a list.
    pub prefix: String,
    /// When the key was created.
    pub created_at: DateTime<Utc>,
    /// When the key was revoked; a revoked key authenticates nothing.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The customer organisation an integration belongs to, as the operator described it in
/// `create-link`. Kombo treats these as labels only: they never identify an integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndUser {
    /// Contact email of the person who connected the tool.
    pub email: Option<String>,
    /// The customer's organisation name.
    pub organization_name: String,
    /// The operator's own id for this customer.
    pub origin_id: Option<String>,
}

/// Kombo's integration `status` (webhook `state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntegrationStatus {
    /// Working; the state after the flow completes.
    Active,
    /// Credentials no longer work; a relink restores the integration.
    Invalid,
    /// Disabled by the operator; credentials and configuration are kept.
    Inactive,
}

wire_enum!(IntegrationStatus { Active => "ACTIVE", Invalid => "INVALID", Inactive => "INACTIVE" });

/// Kombo's integration `setup_status`. Plugboard has no setup steps, so integrations are
/// `COMPLETED` as soon as they exist; the other values are kept for wire compatibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetupStatus {
    /// Setup steps remain.
    Incomplete,
    /// Setup is done and the final sync runs.
    FinalSyncPending,
    /// Ready.
    Completed,
}

wire_enum!(SetupStatus {
    Incomplete => "INCOMPLETE",
    FinalSyncPending => "FINAL_SYNC_PENDING",
    Completed => "COMPLETED",
});

/// A connected tool of one end user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    /// `<tool>:<id>`.
    pub id: IntegrationId,
    /// The environment it lives in.
    pub environment_id: String,
    /// Catalog id of the tool.
    pub tool: String,
    /// The category it was connected as.
    pub category: Category,
    /// Lifecycle state.
    pub status: IntegrationStatus,
    /// Setup progress.
    pub setup_status: SetupStatus,
    /// Whose tool it is.
    pub end_user: EndUser,
    /// The scope config in force.
    pub scope_config_id: String,
    /// Which of the tool's own environments was connected, when the operator chose one.
    pub remote_environment: Option<String>,
    /// When the flow completed.
    pub created_at: DateTime<Utc>,
    /// Last change of status, credentials or configuration.
    pub updated_at: DateTime<Utc>,
}

/// Ciphertext produced by the vault, with the id of the key that sealed it so keys can rotate.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Which master-key generation sealed this record.
    pub key_id: String,
    /// The AEAD nonce.
    pub nonce: Vec<u8>,
    /// The AEAD ciphertext including its tag.
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed")
            .field("key_id", &self.key_id)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// An event for the webhook outbox. `payload` is the exact compact JSON (`{id, type, data}`)
/// that will be signed and sent, so it is serialised once, when the change happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Bare id; also the payload's `id` and the Standard Webhooks `webhook-id`.
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
}

/// A link that completed a flow. Links are stateless tokens; this row only exists so that one
/// link can complete at most one integration, and can be pruned once the link has expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedLink {
    /// The link id from the token.
    pub link_id: String,
    /// When the link itself expires.
    pub expires_at: DateTime<Utc>,
}

/// A fresh activation token: only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewActivationToken {
    /// SHA-256 of the token.
    pub hash: Vec<u8>,
    /// When it stops being redeemable.
    pub expires_at: DateTime<Utc>,
}

/// Everything written, atomically, when a connection flow completes.
#[derive(Debug, Clone)]
pub struct NewIntegration {
    /// The integration to create.
    pub integration: Integration,
    /// Its credentials, sealed by the vault.
    pub credentials: Sealed,
    /// The link that completed.
    pub link: ConsumedLink,
    /// The activation token handed to the browser.
    pub activation: NewActivationToken,
    /// The `integration-created` event.
    pub event: Event,
}

/// Everything written, atomically, when a relink flow completes.
#[derive(Debug, Clone)]
pub struct Relink {
    /// The integration whose credentials are replaced.
    pub integration_id: IntegrationId,
    /// The status the integration had when the relink was prepared; the write only happens if
    /// it still has it, so the event describes the real transition.
    pub expected_status: IntegrationStatus,
    /// The new credentials.
    pub credentials: Sealed,
    /// Scope config to switch to, if the relink link named one.
    pub scope_config_id: Option<String>,
    /// The relink link that completed.
    pub link: ConsumedLink,
    /// The activation token handed to the browser.
    pub activation: NewActivationToken,
    /// `integration-state-changed`, when the relink changes the status.
    pub event: Option<Event>,
    /// Time of the change.
    pub now: DateTime<Utc>,
}

/// A magic link as recorded, so it can be listed and revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MagicLink {
    /// The link id inside the token.
    pub id: String,
    /// Its environment.
    pub environment_id: String,
    /// For relink links, the integration they relink.
    pub integration_id: Option<IntegrationId>,
    /// Whom it is for.
    pub end_user: EndUser,
    /// Category of the flow.
    pub category: Category,
    /// Pre-selected tool.
    pub tool: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Filters of the integration list; `None` means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrationFilter {
    /// The operator's customer id.
    pub origin_id: Option<String>,
    /// Catalog tool id.
    pub tool: Option<String>,
    /// Category.
    pub category: Option<Category>,
    /// Status.
    pub status: Option<IntegrationStatus>,
}

/// A position in the integration list: lists are ordered by `(created_at, id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationCursor {
    /// `created_at` of the last integration seen.
    pub created_at: DateTime<Utc>,
    /// Id of the last integration seen.
    pub id: String,
}
