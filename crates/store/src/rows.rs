//! Row types shared by both backends. Both schemas use the same portable column types (TEXT,
//! 64-bit integers, bytes), so one set of `FromRow` structs and one set of conversions into
//! domain types serves SQLite and PostgreSQL alike.

use plugboard_catalog::Category;

use crate::{
    ApiKey, EndUser, Environment, EnvironmentName, Event, Integration, IntegrationStatus,
    MagicLink, Result, Sealed, SetupStatus, StoreError, from_millis,
    ids::IntegrationId,
    webhooks::{
        Attempt, ClaimedDelivery, Delivery, DeliveryStatus, DisabledReason, PreviousSecret,
        WebhookEndpoint,
    },
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

/// Columns of `webhook_endpoints`, in [`WebhookEndpointRow`]'s order.
pub const WEBHOOK_ENDPOINT_COLUMNS: &str = "id, environment_id, url, event_types, enabled, \
    disabled_reason, secret_key_id, secret_nonce, secret_ciphertext, previous_key_id, \
    previous_nonce, previous_ciphertext, previous_expires_at, failing_since, created_at, \
    updated_at";

/// `webhook_endpoints` row.
#[derive(Debug, sqlx::FromRow)]
pub struct WebhookEndpointRow {
    /// Bare id.
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// Target URL.
    pub url: String,
    /// Comma-separated event types.
    pub event_types: String,
    /// Whether deliveries are attempted.
    pub enabled: bool,
    /// Why not, when disabled.
    pub disabled_reason: Option<String>,
    /// Sealing key id of the secret.
    pub secret_key_id: String,
    /// AEAD nonce of the secret.
    pub secret_nonce: Vec<u8>,
    /// Sealed secret.
    pub secret_ciphertext: Vec<u8>,
    /// Sealing key id of the previous secret.
    pub previous_key_id: Option<String>,
    /// AEAD nonce of the previous secret.
    pub previous_nonce: Option<Vec<u8>>,
    /// Sealed previous secret.
    pub previous_ciphertext: Option<Vec<u8>>,
    /// When the previous secret stops signing, in milliseconds.
    pub previous_expires_at: Option<i64>,
    /// Start of the current failure run, in milliseconds.
    pub failing_since: Option<i64>,
    /// Creation time in milliseconds.
    pub created_at: i64,
    /// Last update in milliseconds.
    pub updated_at: i64,
}

/// Joins event types for the `event_types` column.
pub fn join_event_types(types: &[String]) -> String {
    types.join(",")
}

fn previous_secret(
    key_id: Option<String>,
    nonce: Option<Vec<u8>>,
    ciphertext: Option<Vec<u8>>,
    expires_at: Option<i64>,
) -> Result<Option<PreviousSecret>> {
    Ok(match (key_id, nonce, ciphertext, expires_at) {
        (Some(key_id), Some(nonce), Some(ciphertext), Some(expires_at)) => Some(PreviousSecret {
            secret: Sealed {
                key_id,
                nonce,
                ciphertext,
            },
            expires_at: from_millis(expires_at)?,
        }),
        _ => None,
    })
}

impl TryFrom<WebhookEndpointRow> for WebhookEndpoint {
    type Error = StoreError;

    fn try_from(row: WebhookEndpointRow) -> Result<Self> {
        Ok(Self {
            disabled_reason: row
                .disabled_reason
                .map(|r| DisabledReason::parse(&r).ok_or_else(|| corrupt("disabled reason", &r)))
                .transpose()?,
            event_types: row
                .event_types
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            previous_secret: previous_secret(
                row.previous_key_id,
                row.previous_nonce,
                row.previous_ciphertext,
                row.previous_expires_at,
            )?,
            secret: Sealed {
                key_id: row.secret_key_id,
                nonce: row.secret_nonce,
                ciphertext: row.secret_ciphertext,
            },
            id: row.id,
            environment_id: row.environment_id,
            url: row.url,
            enabled: row.enabled,
            failing_since: optional_millis(row.failing_since)?,
            created_at: from_millis(row.created_at)?,
            updated_at: from_millis(row.updated_at)?,
        })
    }
}

/// Columns of `webhook_deliveries`, in [`DeliveryRow`]'s order.
pub const DELIVERY_COLUMNS: &str = "id, event_id, endpoint_id, environment_id, event_type, \
    status, attempts, next_attempt_at, last_http_status, created_at, updated_at";

/// `webhook_deliveries` row.
#[derive(Debug, sqlx::FromRow)]
pub struct DeliveryRow {
    /// Delivery id.
    pub id: String,
    /// Event id.
    pub event_id: String,
    /// Endpoint id.
    pub endpoint_id: String,
    /// Environment id.
    pub environment_id: String,
    /// Event type.
    pub event_type: String,
    /// Status wire name.
    pub status: String,
    /// Attempts started.
    pub attempts: i64,
    /// Next attempt (or lease end), in milliseconds.
    pub next_attempt_at: i64,
    /// Last HTTP status.
    pub last_http_status: Option<i64>,
    /// Creation time in milliseconds.
    pub created_at: i64,
    /// Last update in milliseconds.
    pub updated_at: i64,
}

fn http_status(value: i64) -> Result<u16> {
    u16::try_from(value).map_err(|_| corrupt("HTTP status", &value.to_string()))
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;

    fn try_from(row: DeliveryRow) -> Result<Self> {
        Ok(Self {
            status: DeliveryStatus::parse(&row.status)
                .ok_or_else(|| corrupt("delivery status", &row.status))?,
            attempts: u32::try_from(row.attempts)
                .map_err(|_| corrupt("attempts", &row.attempts.to_string()))?,
            next_attempt_at: from_millis(row.next_attempt_at)?,
            last_http_status: row.last_http_status.map(http_status).transpose()?,
            created_at: from_millis(row.created_at)?,
            updated_at: from_millis(row.updated_at)?,
            id: row.id,
            event_id: row.event_id,
            endpoint_id: row.endpoint_id,
            environment_id: row.environment_id,
            event_type: row.event_type,
        })
    }
}

/// `webhook_attempts` row (without its delivery id).
#[derive(Debug, sqlx::FromRow)]
pub struct AttemptRow {
    /// Attempt number.
    pub number: i64,
    /// Start, in milliseconds.
    pub started_at: i64,
    /// Duration in milliseconds.
    pub duration_ms: i64,
    /// Response status.
    pub http_status: Option<i64>,
    /// Failure without a response.
    pub error: Option<String>,
    /// First bytes of the response.
    pub response_excerpt: Option<String>,
}

impl TryFrom<AttemptRow> for Attempt {
    type Error = StoreError;

    fn try_from(row: AttemptRow) -> Result<Self> {
        Ok(Self {
            number: u32::try_from(row.number)
                .map_err(|_| corrupt("attempt number", &row.number.to_string()))?,
            started_at: from_millis(row.started_at)?,
            duration_ms: u32::try_from(row.duration_ms).unwrap_or(u32::MAX),
            http_status: row.http_status.map(http_status).transpose()?,
            error: row.error,
            response_excerpt: row.response_excerpt,
        })
    }
}

/// What a claim query returns per delivery: the delivery, its event's body and its endpoint.
#[derive(Debug, sqlx::FromRow)]
pub struct ClaimedRow {
    /// Delivery id.
    pub id: String,
    /// Attempt number of this claim.
    pub attempts: i64,
    /// Event id.
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// Event body.
    pub payload: String,
    /// Endpoint id.
    pub endpoint_id: String,
    /// Environment id.
    pub environment_id: String,
    /// Endpoint URL.
    pub url: String,
    /// Sealing key id of the secret.
    pub secret_key_id: String,
    /// AEAD nonce of the secret.
    pub secret_nonce: Vec<u8>,
    /// Sealed secret.
    pub secret_ciphertext: Vec<u8>,
    /// Sealing key id of the previous secret.
    pub previous_key_id: Option<String>,
    /// AEAD nonce of the previous secret.
    pub previous_nonce: Option<Vec<u8>>,
    /// Sealed previous secret.
    pub previous_ciphertext: Option<Vec<u8>>,
    /// When the previous secret stops signing, in milliseconds.
    pub previous_expires_at: Option<i64>,
}

impl ClaimedRow {
    /// The claimed delivery under `lease_id`; an expired previous secret is dropped.
    pub fn into_claimed(self, lease_id: &str, now: i64) -> Result<ClaimedDelivery> {
        let previous = previous_secret(
            self.previous_key_id,
            self.previous_nonce,
            self.previous_ciphertext,
            self.previous_expires_at.filter(|&expires| expires > now),
        )?;
        Ok(ClaimedDelivery {
            attempt: u32::try_from(self.attempts)
                .map_err(|_| corrupt("attempts", &self.attempts.to_string()))?,
            lease_id: lease_id.to_owned(),
            secret: Sealed {
                key_id: self.secret_key_id,
                nonce: self.secret_nonce,
                ciphertext: self.secret_ciphertext,
            },
            previous_secret: previous,
            id: self.id,
            event_id: self.event_id,
            event_type: self.event_type,
            payload: self.payload,
            endpoint_id: self.endpoint_id,
            environment_id: self.environment_id,
            url: self.url,
        })
    }
}
