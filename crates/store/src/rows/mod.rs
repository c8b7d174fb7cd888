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

mod webhooks;

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
    /// [`Environment::id`].
    pub id: String,
    /// `production` or `development`.
    pub name: String,
    /// Default scope config id.
    pub scope_config_id: String,
    /// Creation time in milliseconds.
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
    "id, environment_id, name, key_hash, prefix, created_at, revoked_at";

/// `api_keys` row.
#[derive(Debug, sqlx::FromRow)]
pub struct ApiKeyRow {
    /// [`ApiKey::id`].
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// Operator's label.
    pub name: String,
    /// SHA-256 of the key.
    pub key_hash: Vec<u8>,
    /// Display prefix.
    pub prefix: String,
    /// Creation time in milliseconds.
    pub created_at: i64,
    /// Revocation time in milliseconds.
    pub revoked_at: Option<i64>,
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
    /// `<tool>:<id>`.
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// Tool id.
    pub tool: String,
    /// Category wire name.
    pub category: String,
    /// Status wire name.
    pub status: String,
    /// Setup status wire name.
    pub setup_status: String,
    /// End user's email.
    pub end_user_email: Option<String>,
    /// End user's organisation.
    pub end_user_organization_name: String,
    /// Operator's id of the end user.
    pub end_user_origin_id: Option<String>,
    /// Scope config in force.
    pub scope_config_id: String,
    /// The tool's own environment.
    pub remote_environment: Option<String>,
    /// Creation time in milliseconds.
    pub created_at: i64,
    /// Last update in milliseconds.
    pub updated_at: i64,
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
pub const EVENT_COLUMNS: &str = "id, environment_id, event_type, payload, created_at, detail";

/// `events` row.
#[derive(Debug, sqlx::FromRow)]
pub struct EventRow {
    /// [`Event::id`].
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// Event type.
    pub event_type: String,
    /// Exact JSON body.
    pub payload: String,
    /// Creation time in milliseconds.
    pub created_at: i64,
    /// Log detail.
    pub detail: Option<String>,
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
    /// Link id.
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// Integration of a relink link.
    pub integration_id: Option<String>,
    /// End user's email.
    pub end_user_email: Option<String>,
    /// End user's organisation.
    pub end_user_organization_name: String,
    /// Operator's id of the end user.
    pub end_user_origin_id: Option<String>,
    /// Category wire name.
    pub category: String,
    /// Pre-selected tool.
    pub tool: Option<String>,
    /// Creation time in milliseconds.
    pub created_at: i64,
    /// Expiry in milliseconds.
    pub expires_at: i64,
    /// Revocation time in milliseconds.
    pub revoked_at: Option<i64>,
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
    /// [`crate::audit::AuditEvent::id`].
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// `noun.verb`.
    pub action: String,
    /// Who.
    pub actor: String,
    /// What.
    pub target: Option<String>,
    /// Link involved.
    pub link_id: Option<String>,
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// JSON object text.
    pub detail: String,
    /// Milliseconds since the epoch.
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
