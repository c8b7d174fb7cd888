//! Row types shared by both backends, with their conversions into domain types. Both schemas
//! use the same portable column types (TEXT, 64-bit integers, bytes, booleans), so one set of
//! `FromRow` structs serves SQLite and PostgreSQL alike. Each `*_COLUMNS` list names a table's
//! columns in its row type's order, for statements in [`crate::sql`] and in the backends.

use plugboard_catalog::Category;

use crate::{
    ApiKey, EndUser, Environment, EnvironmentName, Event, Integration, IntegrationStatus,
    MagicLink, Result, Sealed, SetupStatus, StoreError, from_millis,
    ids::IntegrationId,
    sealing::{SealedRecord, SealedSlot},
};

mod oauth;
mod operators;
mod webhooks;

pub use oauth::*;
pub use operators::*;
pub use webhooks::*;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::other(format!("stored {what} is invalid: {value:?}"))
}

fn optional_millis(value: Option<i64>) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    value.map(from_millis).transpose()
}

/// Columns of `environments`, in [`EnvironmentRow`]'s order.
pub const ENVIRONMENT_COLUMNS: &str = "id, name, scope_config_id, created_at";

/// `environments` row.
#[derive(Debug, sqlx::FromRow)]
pub struct EnvironmentRow {
    /// [`Environment::id`](crate::Environment::id).
    pub id: String,
    /// [`Environment::name`](crate::Environment::name), as its wire name.
    pub name: String,
    /// [`Environment::scope_config_id`](crate::Environment::scope_config_id).
    pub scope_config_id: String,
    /// [`Environment::created_at`](crate::Environment::created_at), in milliseconds since the
    /// epoch.
    pub created_at: i64,
}

impl TryFrom<EnvironmentRow> for Environment {
    type Error = StoreError;

    fn try_from(row: EnvironmentRow) -> Result<Self> {
        Ok(Self {
            name: EnvironmentName::parse(&row.name)
                .ok_or_else(|| corrupt("environment", &row.name))?,
            id: row.id,
            scope_config_id: row.scope_config_id,
            created_at: from_millis(row.created_at)?,
        })
    }
}

/// Columns of `api_keys`, in [`ApiKeyRow`]'s order.
pub const API_KEY_COLUMNS: &str =
    "id, environment_id, name, key_hash, prefix, created_at, revoked_at, last_used_at";

/// `api_keys` row.
#[derive(Debug, sqlx::FromRow)]
pub struct ApiKeyRow {
    /// [`ApiKey::id`](crate::ApiKey::id).
    pub id: String,
    /// [`ApiKey::environment_id`](crate::ApiKey::environment_id).
    pub environment_id: String,
    /// [`ApiKey::name`](crate::ApiKey::name), as its wire name.
    pub name: String,
    /// [`ApiKey::key_hash`](crate::ApiKey::key_hash).
    pub key_hash: Vec<u8>,
    /// [`ApiKey::prefix`](crate::ApiKey::prefix).
    pub prefix: String,
    /// [`ApiKey::created_at`](crate::ApiKey::created_at), in milliseconds since the epoch.
    pub created_at: i64,
    /// [`ApiKey::revoked_at`](crate::ApiKey::revoked_at), in milliseconds since the epoch.
    pub revoked_at: Option<i64>,
    /// [`ApiKey::last_used_at`](crate::ApiKey::last_used_at), in milliseconds since the epoch.
    pub last_used_at: Option<i64>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;

    fn try_from(row: ApiKeyRow) -> Result<Self> {
        Ok(Self {
            id: row.id,
            environment_id: row.environment_id,
            name: row.name,
            key_hash: row.key_hash,
            prefix: row.prefix,
            created_at: from_millis(row.created_at)?,
            revoked_at: optional_millis(row.revoked_at)?,
            last_used_at: optional_millis(row.last_used_at)?,
        })
    }
}

/// Columns of `integrations`, in [`IntegrationRow`]'s order.
pub const INTEGRATION_COLUMNS: &str = "id, environment_id, tool, category, status, \
    setup_status, end_user_email, end_user_organization_name, end_user_origin_id, \
    scope_config_id, remote_environment, created_at, updated_at";

/// `integrations` row. Also `Deserialize`, for backends that return a row as a JSON object.
#[derive(Debug, sqlx::FromRow, serde::Deserialize)]
pub struct IntegrationRow {
    /// [`Integration::id`](crate::Integration::id).
    pub id: String,
    /// [`Integration::environment_id`](crate::Integration::environment_id).
    pub environment_id: String,
    /// [`Integration::tool`](crate::Integration::tool).
    pub tool: String,
    /// [`Integration::category`](crate::Integration::category), as its wire name.
    pub category: String,
    /// [`Integration::status`](crate::Integration::status), as its wire name.
    pub status: String,
    /// [`Integration::setup_status`](crate::Integration::setup_status), as its wire name.
    pub setup_status: String,
    /// End user's email.
    pub end_user_email: Option<String>,
    /// End user's organisation.
    pub end_user_organization_name: String,
    /// Operator's id of the end user.
    pub end_user_origin_id: Option<String>,
    /// [`Integration::scope_config_id`](crate::Integration::scope_config_id).
    pub scope_config_id: String,
    /// [`Integration::remote_environment`](crate::Integration::remote_environment).
    pub remote_environment: Option<String>,
    /// [`Integration::created_at`](crate::Integration::created_at), in milliseconds since the
    /// epoch.
    pub created_at: i64,
    /// [`Integration::updated_at`](crate::Integration::updated_at), in milliseconds since the
    /// epoch.
    pub updated_at: i64,
}

/// An `integrations` row with its connection-check state, as a claim returns it.
#[derive(Debug, sqlx::FromRow)]
pub struct DueCheckRow {
    /// The integration.
    #[sqlx(flatten)]
    pub integration: IntegrationRow,
    /// [`DueCheck::failing_since`](crate::DueCheck::failing_since), in milliseconds.
    pub failing_since: Option<i64>,
}

impl TryFrom<DueCheckRow> for crate::DueCheck {
    type Error = StoreError;

    fn try_from(row: DueCheckRow) -> Result<Self> {
        Ok(Self {
            integration: row.integration.try_into()?,
            failing_since: optional_millis(row.failing_since)?,
        })
    }
}

/// One group of [`count_audit_actions`](crate::Audit::count_audit_actions).
#[derive(Debug, sqlx::FromRow)]
pub struct ActionCountRow {
    /// The action.
    pub action: String,
    /// Hours since the epoch.
    pub hour: i64,
    /// How many entries.
    pub count: i64,
}

impl TryFrom<ActionCountRow> for crate::audit::ActionCount {
    type Error = StoreError;

    fn try_from(row: ActionCountRow) -> Result<Self> {
        Ok(Self {
            action: row.action,
            hour: from_millis(row.hour.saturating_mul(3_600_000))?,
            count: u64::try_from(row.count).unwrap_or(0),
        })
    }
}

/// An integration row with what the checks know of it (the dashboard's list).
#[derive(Debug, sqlx::FromRow)]
pub struct ListedIntegrationRow {
    /// The integration.
    #[sqlx(flatten)]
    pub integration: IntegrationRow,
    /// [`IntegrationHealth`](crate::IntegrationHealth), in milliseconds.
    #[sqlx(flatten)]
    pub health: IntegrationHealthRow,
}

impl TryFrom<ListedIntegrationRow> for crate::ListedIntegration {
    type Error = StoreError;

    fn try_from(row: ListedIntegrationRow) -> Result<Self> {
        Ok(Self {
            integration: row.integration.try_into()?,
            health: row.health.try_into()?,
        })
    }
}

/// The check columns of an integration.
#[derive(Debug, sqlx::FromRow)]
pub struct IntegrationHealthRow {
    /// [`IntegrationHealth::failing_since`](crate::IntegrationHealth::failing_since).
    pub failing_since: Option<i64>,
    /// [`IntegrationHealth::next_check_at`](crate::IntegrationHealth::next_check_at).
    pub check_due_at: Option<i64>,
    /// [`IntegrationHealth::last_checked_at`](crate::IntegrationHealth::last_checked_at).
    pub checked_at: Option<i64>,
}

impl TryFrom<IntegrationHealthRow> for crate::IntegrationHealth {
    type Error = StoreError;

    fn try_from(row: IntegrationHealthRow) -> Result<Self> {
        Ok(Self {
            failing_since: optional_millis(row.failing_since)?,
            next_check_at: optional_millis(row.check_due_at)?,
            last_checked_at: optional_millis(row.checked_at)?,
        })
    }
}

/// One group of [`count_integrations`](crate::Integrations::count_integrations): a status,
/// whether the checks see failing credentials, and how many.
#[derive(Debug, sqlx::FromRow)]
pub struct StatusCountRow {
    /// The status's wire name.
    pub status: String,
    /// 1 when failing.
    pub failing: i64,
    /// How many.
    pub count: i64,
}

/// Folds the groups of `count_integrations` into its counts.
pub fn integration_counts(rows: Vec<StatusCountRow>) -> Result<crate::IntegrationCounts> {
    let mut counts = crate::IntegrationCounts::default();
    for row in rows {
        let count = u64::try_from(row.count).unwrap_or(0);
        match (IntegrationStatus::parse(&row.status), row.failing != 0) {
            (Some(IntegrationStatus::Active), false) => counts.active += count,
            (Some(IntegrationStatus::Active), true) => counts.failing += count,
            (Some(IntegrationStatus::Invalid), _) => counts.invalid += count,
            (Some(IntegrationStatus::Inactive), _) => counts.inactive += count,
            (None, _) => return Err(corrupt("integration status", &row.status)),
        }
    }
    Ok(counts)
}

impl TryFrom<IntegrationRow> for Integration {
    type Error = StoreError;

    fn try_from(row: IntegrationRow) -> Result<Self> {
        Ok(Self {
            id: IntegrationId::parse(&row.id).ok_or_else(|| corrupt("integration id", &row.id))?,
            category: Category::parse(&row.category)
                .ok_or_else(|| corrupt("category", &row.category))?,
            status: IntegrationStatus::parse(&row.status)
                .ok_or_else(|| corrupt("status", &row.status))?,
            setup_status: SetupStatus::parse(&row.setup_status)
                .ok_or_else(|| corrupt("setup status", &row.setup_status))?,
            environment_id: row.environment_id,
            tool: row.tool,
            end_user: EndUser {
                email: row.end_user_email,
                organization_name: row.end_user_organization_name,
                origin_id: row.end_user_origin_id,
            },
            scope_config_id: row.scope_config_id,
            remote_environment: row.remote_environment,
            created_at: from_millis(row.created_at)?,
            updated_at: from_millis(row.updated_at)?,
        })
    }
}

/// `credentials` row (without its integration id).
#[derive(Debug, sqlx::FromRow)]
pub struct SealedRow {
    /// Sealing key id.
    pub key_id: String,
    /// AEAD nonce.
    pub nonce: Vec<u8>,
    /// AEAD ciphertext.
    pub ciphertext: Vec<u8>,
}

impl From<SealedRow> for Sealed {
    fn from(row: SealedRow) -> Self {
        Self {
            key_id: row.key_id,
            nonce: row.nonce,
            ciphertext: row.ciphertext,
        }
    }
}

/// Columns of `events`, in [`EventRow`]'s order.
pub const EVENT_COLUMNS: &str =
    "id, environment_id, event_type, payload, created_at, detail, integration_id";

/// `events` row.
#[derive(Debug, sqlx::FromRow)]
pub struct EventRow {
    /// [`Event::id`](crate::Event::id).
    pub id: String,
    /// [`Event::environment_id`](crate::Event::environment_id).
    pub environment_id: String,
    /// [`Event::event_type`](crate::Event::event_type).
    pub event_type: String,
    /// [`Event::payload`](crate::Event::payload).
    pub payload: String,
    /// [`Event::created_at`](crate::Event::created_at), in milliseconds since the epoch.
    pub created_at: i64,
    /// [`Event::detail`](crate::Event::detail).
    pub detail: Option<String>,
    /// [`Event::integration_id`](crate::Event::integration_id).
    pub integration_id: Option<String>,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self> {
        Ok(Self {
            id: row.id,
            environment_id: row.environment_id,
            event_type: row.event_type,
            payload: row.payload,
            created_at: from_millis(row.created_at)?,
            detail: row.detail,
            integration_id: row.integration_id,
        })
    }
}

/// Columns of `magic_links`, in [`MagicLinkRow`]'s order.
pub const MAGIC_LINK_COLUMNS: &str = "id, environment_id, integration_id, end_user_email, \
    end_user_organization_name, end_user_origin_id, category, tool, created_at, expires_at, \
    revoked_at";

/// `magic_links` row.
#[derive(Debug, sqlx::FromRow)]
pub struct MagicLinkRow {
    /// [`MagicLink::id`](crate::MagicLink::id).
    pub id: String,
    /// [`MagicLink::environment_id`](crate::MagicLink::environment_id).
    pub environment_id: String,
    /// [`MagicLink::integration_id`](crate::MagicLink::integration_id).
    pub integration_id: Option<String>,
    /// End user's email.
    pub end_user_email: Option<String>,
    /// End user's organisation.
    pub end_user_organization_name: String,
    /// Operator's id of the end user.
    pub end_user_origin_id: Option<String>,
    /// [`MagicLink::category`](crate::MagicLink::category), as its wire name.
    pub category: String,
    /// [`MagicLink::tool`](crate::MagicLink::tool).
    pub tool: Option<String>,
    /// [`MagicLink::created_at`](crate::MagicLink::created_at), in milliseconds since the epoch.
    pub created_at: i64,
    /// [`MagicLink::expires_at`](crate::MagicLink::expires_at), in milliseconds since the epoch.
    pub expires_at: i64,
    /// [`MagicLink::revoked_at`](crate::MagicLink::revoked_at), in milliseconds since the epoch.
    pub revoked_at: Option<i64>,
}

/// `environment_settings` row.
#[derive(Debug, sqlx::FromRow)]
pub struct EnvironmentSettingsRow {
    /// [`EnvironmentSettings::environment_id`](crate::EnvironmentSettings::environment_id).
    pub environment_id: String,
    /// [`EnvironmentSettings::product_name`](crate::EnvironmentSettings::product_name).
    pub product_name: Option<String>,
    /// [`EnvironmentSettings::frame_ancestors`](crate::EnvironmentSettings::frame_ancestors).
    pub frame_ancestors: Option<String>,
    /// [`EnvironmentSettings::updated_at`](crate::EnvironmentSettings::updated_at), in
    /// milliseconds.
    pub updated_at: i64,
}

impl TryFrom<EnvironmentSettingsRow> for crate::EnvironmentSettings {
    type Error = StoreError;

    fn try_from(row: EnvironmentSettingsRow) -> Result<Self> {
        Ok(Self {
            environment_id: row.environment_id,
            product_name: row.product_name,
            frame_ancestors: row.frame_ancestors,
            updated_at: from_millis(row.updated_at)?,
        })
    }
}

/// A magic link row with its progress.
#[derive(Debug, sqlx::FromRow)]
pub struct LinkProgressRow {
    /// The link.
    #[sqlx(flatten)]
    pub link: MagicLinkRow,
    /// How many times it was consumed (0 or 1).
    pub used: i64,
    /// [`LinkProgress::opened_at`](crate::LinkProgress::opened_at), in milliseconds.
    pub opened_at: Option<i64>,
    /// [`LinkProgress::last_step`](crate::LinkProgress::last_step).
    pub last_step: Option<String>,
    /// [`LinkProgress::last_detail`](crate::LinkProgress::last_detail).
    pub last_detail: Option<String>,
    /// [`LinkProgress::last_step_at`](crate::LinkProgress::last_step_at), in milliseconds.
    pub last_step_at: Option<i64>,
}

impl TryFrom<LinkProgressRow> for crate::LinkProgress {
    type Error = StoreError;

    fn try_from(row: LinkProgressRow) -> Result<Self> {
        Ok(Self {
            link: row.link.try_into()?,
            used: row.used > 0,
            opened_at: optional_millis(row.opened_at)?,
            last_step: row.last_step,
            last_detail: row.last_detail,
            last_step_at: optional_millis(row.last_step_at)?,
        })
    }
}

impl TryFrom<MagicLinkRow> for MagicLink {
    type Error = StoreError;

    fn try_from(row: MagicLinkRow) -> Result<Self> {
        let integration_id = match row.integration_id {
            Some(id) => {
                Some(IntegrationId::parse(&id).ok_or_else(|| corrupt("integration id", &id))?)
            }
            None => None,
        };
        Ok(Self {
            id: row.id,
            environment_id: row.environment_id,
            integration_id,
            end_user: EndUser {
                email: row.end_user_email,
                organization_name: row.end_user_organization_name,
                origin_id: row.end_user_origin_id,
            },
            category: Category::parse(&row.category)
                .ok_or_else(|| corrupt("category", &row.category))?,
            tool: row.tool,
            created_at: from_millis(row.created_at)?,
            expires_at: from_millis(row.expires_at)?,
            revoked_at: optional_millis(row.revoked_at)?,
        })
    }
}

/// Converts every row, failing on the first corrupt one.
pub fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// Columns of `audit_events`, in [`AuditEventRow`]'s order.
pub const AUDIT_EVENT_COLUMNS: &str =
    "id, environment_id, action, actor, target, link_id, ip, user_agent, detail, created_at";

/// `audit_events` row.
#[derive(Debug, sqlx::FromRow)]
pub struct AuditEventRow {
    /// [`AuditEvent::id`](crate::audit::AuditEvent::id).
    pub id: String,
    /// [`AuditEvent::environment_id`](crate::audit::AuditEvent::environment_id).
    pub environment_id: String,
    /// [`AuditEvent::action`](crate::audit::AuditEvent::action).
    pub action: String,
    /// [`AuditEvent::actor`](crate::audit::AuditEvent::actor).
    pub actor: String,
    /// [`AuditEvent::target`](crate::audit::AuditEvent::target).
    pub target: Option<String>,
    /// [`AuditEvent::link_id`](crate::audit::AuditEvent::link_id).
    pub link_id: Option<String>,
    /// [`AuditEvent::ip`](crate::audit::AuditEvent::ip).
    pub ip: Option<String>,
    /// [`AuditEvent::user_agent`](crate::audit::AuditEvent::user_agent).
    pub user_agent: Option<String>,
    /// [`AuditEvent::detail`](crate::audit::AuditEvent::detail).
    pub detail: String,
    /// [`AuditEvent::created_at`](crate::audit::AuditEvent::created_at), in milliseconds since the
    /// epoch.
    pub created_at: i64,
}

impl TryFrom<AuditEventRow> for crate::audit::AuditEvent {
    type Error = StoreError;

    fn try_from(row: AuditEventRow) -> Result<Self> {
        Ok(Self {
            id: row.id,
            environment_id: row.environment_id,
            action: row.action,
            actor: row.actor,
            target: row.target,
            link_id: row.link_id,
            ip: row.ip,
            user_agent: row.user_agent,
            detail: row.detail,
            created_at: from_millis(row.created_at)?,
        })
    }
}

/// Columns of `request_log`, in [`RequestLogRow`]'s order.
pub const REQUEST_LOG_COLUMNS: &str = "id, environment_id, integration_id, tool, api, method, \
    path, remote_status, error, duration_ms, request_bytes, response_bytes, attempts, created_at";

/// `request_log` row. Counts are 64-bit integers, as both schemas store them.
#[derive(Debug, sqlx::FromRow)]
pub struct RequestLogRow {
    /// [`RequestLogEntry::id`](crate::request_log::RequestLogEntry::id).
    pub id: String,
    /// [`RequestLogEntry::environment_id`](crate::request_log::RequestLogEntry::environment_id).
    pub environment_id: String,
    /// [`RequestLogEntry::integration_id`](crate::request_log::RequestLogEntry::integration_id).
    pub integration_id: String,
    /// [`RequestLogEntry::tool`](crate::request_log::RequestLogEntry::tool).
    pub tool: String,
    /// [`RequestLogEntry::api`](crate::request_log::RequestLogEntry::api).
    pub api: String,
    /// [`RequestLogEntry::method`](crate::request_log::RequestLogEntry::method).
    pub method: String,
    /// [`RequestLogEntry::path`](crate::request_log::RequestLogEntry::path).
    pub path: String,
    /// [`RequestLogEntry::remote_status`](crate::request_log::RequestLogEntry::remote_status).
    pub remote_status: Option<i64>,
    /// [`RequestLogEntry::error`](crate::request_log::RequestLogEntry::error).
    pub error: Option<String>,
    /// [`RequestLogEntry::duration_ms`](crate::request_log::RequestLogEntry::duration_ms).
    pub duration_ms: i64,
    /// [`RequestLogEntry::request_bytes`](crate::request_log::RequestLogEntry::request_bytes).
    pub request_bytes: i64,
    /// [`RequestLogEntry::response_bytes`](crate::request_log::RequestLogEntry::response_bytes).
    pub response_bytes: i64,
    /// [`RequestLogEntry::attempts`](crate::request_log::RequestLogEntry::attempts).
    pub attempts: i64,
    /// [`RequestLogEntry::created_at`](crate::request_log::RequestLogEntry::created_at), in
    /// milliseconds since the epoch.
    pub created_at: i64,
}

/// A stored count as the unsigned type of its field; out of range (a corrupt row) is an error.
fn count<T: TryFrom<i64>>(what: &str, value: i64) -> Result<T> {
    T::try_from(value).map_err(|_| corrupt(what, &value.to_string()))
}

impl TryFrom<RequestLogRow> for crate::request_log::RequestLogEntry {
    type Error = StoreError;

    fn try_from(row: RequestLogRow) -> Result<Self> {
        Ok(Self {
            integration_id: IntegrationId::parse(&row.integration_id)
                .ok_or_else(|| corrupt("integration id", &row.integration_id))?,
            remote_status: row
                .remote_status
                .map(|status| count("remote status", status))
                .transpose()?,
            duration_ms: count("duration", row.duration_ms)?,
            request_bytes: count("request bytes", row.request_bytes)?,
            response_bytes: count("response bytes", row.response_bytes)?,
            attempts: count("attempts", row.attempts)?,
            created_at: from_millis(row.created_at)?,
            id: row.id,
            environment_id: row.environment_id,
            tool: row.tool,
            api: row.api,
            method: row.method,
            path: row.path,
            error: row.error,
        })
    }
}

/// A sealed value with the id of the row it lives in.
#[derive(Debug, sqlx::FromRow)]
pub struct SealedRecordRow {
    /// Integration or endpoint id.
    pub record_id: String,
    /// Sealing key id.
    pub key_id: String,
    /// AEAD nonce.
    pub nonce: Vec<u8>,
    /// AEAD ciphertext.
    pub ciphertext: Vec<u8>,
}

impl SealedRecordRow {
    /// The record, as found in `slot`.
    pub fn into_record(self, slot: SealedSlot) -> SealedRecord {
        SealedRecord {
            slot,
            record_id: self.record_id,
            sealed: Sealed {
                key_id: self.key_id,
                nonce: self.nonce,
                ciphertext: self.ciphertext,
            },
        }
    }
}
