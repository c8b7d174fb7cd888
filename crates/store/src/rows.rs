//! Row types shared by both backends. Both schemas use the same portable column types (TEXT,
//! 64-bit integers, bytes), so one set of `FromRow` structs and one set of conversions into
//! domain types serves SQLite and PostgreSQL alike.

use plugboard_catalog::Category;

use crate::{
    ApiKey, EndUser, Environment, EnvironmentName, Event, Integration, IntegrationStatus,
    MagicLink, Result, Sealed, SetupStatus, StoreError, from_millis, ids::IntegrationId,
};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::other(format!("stored {what} is invalid: {value:?}"))
}

fn optional_millis(value: Option<i64>) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    value.map(from_millis).transpose()
}

/// `environments` row.
#[derive(Debug, sqlx::FromRow)]
pub struct EnvironmentRow {
    /// Bare id.
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

/// `api_keys` row.
#[derive(Debug, sqlx::FromRow)]
pub struct ApiKeyRow {
    /// Bare id.
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

/// `events` row.
#[derive(Debug, sqlx::FromRow)]
pub struct EventRow {
    /// Bare id.
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

/// Maps a driver error to a [`StoreError`]: connection trouble is `Unavailable` (retryable, a
/// 503 at the edge), everything else `Other`.
pub fn from_sqlx(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(Box::new(error)),
        other => StoreError::Other(Box::new(other)),
    }
}

/// Whether `error` is a unique-constraint violation (e.g. a link consumed twice).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|db| db.is_unique_violation())
}
