//! Integrations: a connected tool of one end user, its sealed credentials and its activation
//! tokens. Creating, relinking, deleting and changing the status of an integration each write
//! their event in the same transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use plugboard_catalog::Category;
use serde::{Deserialize, Serialize};

use crate::{ConsumedLink, Event, Result, Sealed, ids::IntegrationId};

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

/// An integration whose connection check is due, as [`Integrations::claim_connection_checks`]
/// hands it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCheck {
    /// The integration.
    pub integration: Integration,
    /// When the tool first refused its credentials in the current run of failed checks;
    /// `None` after a successful check.
    pub failing_since: Option<DateTime<Utc>>,
}

/// What the dashboard's integration list searches for; `None` and `false` mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrationSearch {
    /// An integration id, an origin id or an e-mail address (exactly, the address in any
    /// case), or part of the organisation's name (in any case).
    pub text: Option<String>,
    /// Catalog tool id.
    pub tool: Option<String>,
    /// Category.
    pub category: Option<Category>,
    /// Status.
    pub status: Option<IntegrationStatus>,
    /// Only integrations whose tool refuses their credentials in the current run of checks.
    pub failing: bool,
}

/// What the connection checks know of an integration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrationHealth {
    /// Since when the tool has refused the credentials; `None` while they work.
    pub failing_since: Option<DateTime<Utc>>,
    /// When the next check is due; `None` for an integration that is not checked (disabled).
    pub next_check_at: Option<DateTime<Utc>>,
    /// When a check was last recorded; `None` before the first.
    pub last_checked_at: Option<DateTime<Utc>>,
}

/// An integration found by [`Integrations::search_integrations`], with its health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedIntegration {
    /// The integration.
    pub integration: Integration,
    /// What the checks know of it.
    pub health: IntegrationHealth,
}

/// How many integrations an environment has, by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntegrationCounts {
    /// `ACTIVE`, credentials working.
    pub active: u64,
    /// `ACTIVE`, but the tool refuses the credentials (within the grace period).
    pub failing: u64,
    /// `INVALID`.
    pub invalid: u64,
    /// `INACTIVE`.
    pub inactive: u64,
}

/// Integrations with their credentials and activation tokens.
#[async_trait]
pub trait Integrations: Send + Sync {
    /// Creates an integration with its sealed credentials, consumes its link, stores the
    /// activation token's hash and writes the `integration-created` event, all in one
    /// transaction. Fails with [`crate::StoreError::LinkAlreadyUsed`] if the link already
    /// completed.
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
        id: &IntegrationId,
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

    /// A page of an environment's integrations matching `search`, newest first, from before
    /// a `(created_at, id)` position: the dashboard's list.
    async fn search_integrations(
        &self,
        environment_id: &str,
        search: &IntegrationSearch,
        before: Option<&IntegrationCursor>,
        limit: u32,
    ) -> Result<Vec<ListedIntegration>>;

    /// What the connection checks know of an integration; `None` if there is none.
    async fn integration_health(
        &self,
        environment_id: &str,
        id: &IntegrationId,
    ) -> Result<Option<IntegrationHealth>>;

    /// An environment's integrations counted by status.
    async fn count_integrations(&self, environment_id: &str) -> Result<IntegrationCounts>;

    /// Deletes an integration with its credentials and tokens, and writes `event`, in one
    /// transaction. `false` if there was no such integration.
    async fn delete_integration(
        &self,
        environment_id: &str,
        id: &IntegrationId,
        event: &Event,
    ) -> Result<bool>;

    /// Changes the status from `from` to `to` and writes `event`, in one transaction. `false`
    /// if the integration does not exist or no longer has status `from`.
    async fn update_integration_status(
        &self,
        environment_id: &str,
        id: &IntegrationId,
        from: IntegrationStatus,
        to: IntegrationStatus,
        event: &Event,
        now: DateTime<Utc>,
    ) -> Result<bool>;

    /// The sealed credentials of an integration.
    async fn integration_credentials(&self, id: &IntegrationId) -> Result<Option<Sealed>>;

    /// Claims up to `limit` `ACTIVE` or `INVALID` integrations whose connection check is due
    /// at `now`: at their `check_due_at`, or `interval` after their last change when none is
    /// set. Each claimed integration's next check moves to `lease_until`, so other processes
    /// skip it while this one checks (and it comes back if this one dies); the check's result
    /// then sets the real next time with [`Integrations::record_connection_check`].
    async fn claim_connection_checks(
        &self,
        now: DateTime<Utc>,
        interval: chrono::Duration,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueCheck>>;

    /// Records a check: since when the credentials have been refused (`None` when they
    /// work), and when to check next; only if the integration was not changed since
    /// `updated_at` (a relink meanwhile starts afresh, and this check was of the old
    /// credentials). `false` when it was.
    async fn record_connection_check(
        &self,
        id: &IntegrationId,
        updated_at: DateTime<Utc>,
        failing_since: Option<DateTime<Utc>>,
        next: DateTime<Utc>,
    ) -> Result<bool>;

    /// Brings an integration's next check forward to `at` (the tool just refused a
    /// passthrough call), unless one is due sooner.
    async fn schedule_connection_check(&self, id: &IntegrationId, at: DateTime<Utc>) -> Result<()>;
}
