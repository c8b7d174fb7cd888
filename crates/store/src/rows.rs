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
        sqlx::Error::Database(ref db) if db.code().is_some_and(|code| is_transient(&code)) => {
            StoreError::Unavailable(Box::new(error))
        }
        other => StoreError::Other(Box::new(other)),
    }
}

/// Whether a database error code means "try again shortly" rather than a bug: PostgreSQL's
/// connection exceptions (class 08), insufficient resources (53: too many connections, disk
/// full), operator intervention (57: shutting down, starting up, restarting — what a restart
/// answers) and serialization failures and deadlocks (40001, 40P01); SQLite's BUSY and LOCKED
/// with their extended codes.
fn is_transient(code: &str) -> bool {
    // PostgreSQL's SQLSTATEs are always five characters; SQLite's (extended) result codes are
    // numbers of at most four digits, whose low byte is the primary code. Telling them apart by
    // length keeps a SQLSTATE such as 22021 (whose low byte as a number is 5) from passing for
    // SQLite's BUSY.
    if code.len() == 5 {
        code.starts_with("08")
            || code.starts_with("53")
            || code.starts_with("57")
            || code == "40001"
            || code == "40P01"
    } else {
        code.parse::<u32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
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

/// Columns of `audit_events`, in [`AuditEventRow`]'s order.
pub const AUDIT_EVENT_COLUMNS: &str =
    "id, environment_id, action, actor, target, link_id, ip, user_agent, detail, created_at";

/// `audit_events` row.
#[derive(Debug, sqlx::FromRow)]
pub struct AuditEventRow {
    /// Bare id.
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
    pub fn into_record(self, slot: crate::audit::SealedSlot) -> crate::audit::SealedRecord {
        crate::audit::SealedRecord {
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

/// The table, id column and sealed columns of a slot: `(table, id, key_id, nonce, ciphertext)`.
/// Both backends build the same statements from these, with their own placeholders.
pub fn sealed_slot_columns(
    slot: crate::audit::SealedSlot,
) -> (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
) {
    use crate::audit::SealedSlot;
    match slot {
        SealedSlot::Credentials => (
            "credentials",
            "integration_id",
            "key_id",
            "nonce",
            "ciphertext",
        ),
        SealedSlot::WebhookSecret => (
            "webhook_endpoints",
            "id",
            "secret_key_id",
            "secret_nonce",
            "secret_ciphertext",
        ),
        SealedSlot::PreviousWebhookSecret => (
            "webhook_endpoints",
            "id",
            "previous_key_id",
            "previous_nonce",
            "previous_ciphertext",
        ),
    }
}

/// `SELECT` of one re-sealing batch of `slot`; binds: current key id, after (or NULL), limit,
/// as `$1..$3` (SQLite spells them `?1..?3`).
pub fn sealed_records_sql(slot: crate::audit::SealedSlot) -> String {
    let (table, id, key, nonce, ciphertext) = sealed_slot_columns(slot);
    format!(
        "SELECT {id} AS record_id, {key} AS key_id, {nonce} AS nonce, {ciphertext} AS ciphertext \
         FROM {table} WHERE {key} IS NOT NULL AND {key} <> $1 \
         AND ($2 IS NULL OR {id} > $2) ORDER BY {id} LIMIT $3"
    )
}

/// Compare-and-set `UPDATE` of one re-sealed value; binds: new key id, new nonce, new
/// ciphertext, record id, old nonce, as `$1..$5`.
pub fn reseal_sql(slot: crate::audit::SealedSlot) -> String {
    let (table, id, key, nonce, ciphertext) = sealed_slot_columns(slot);
    format!(
        "UPDATE {table} SET {key} = $1, {nonce} = $2, {ciphertext} = $3 \
         WHERE {id} = $4 AND {nonce} = $5"
    )
}

/// Counts of sealed values per key id, over every slot.
pub const SEALING_KEY_COUNTS_SQL: &str = "SELECT key_id, COUNT(*) AS n FROM ( \
     SELECT key_id FROM credentials \
     UNION ALL SELECT secret_key_id FROM webhook_endpoints \
     UNION ALL SELECT previous_key_id FROM webhook_endpoints WHERE previous_key_id IS NOT NULL \
     ) AS sealed GROUP BY key_id ORDER BY key_id";

/// `INSERT` of one audit event; binds [`AUDIT_EVENT_COLUMNS`] in order as `$1..$10`.
pub const INSERT_AUDIT_EVENT_SQL: &str = "INSERT INTO audit_events \
     (id, environment_id, action, actor, target, link_id, ip, user_agent, detail, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// One page of an environment's audit trail, newest first. Binds: environment id, action,
/// actor, target, link id, since (ms), until (ms), cursor time (ms), cursor id, limit, as
/// `$1..$10`; a NULL filter matches everything.
pub fn list_audit_events_sql() -> String {
    format!(
        "SELECT {AUDIT_EVENT_COLUMNS} FROM audit_events WHERE environment_id = $1 \
         AND ($2 IS NULL OR action = $2) AND ($3 IS NULL OR actor = $3) \
         AND ($4 IS NULL OR target = $4) AND ($5 IS NULL OR link_id = $5) \
         AND ($6 IS NULL OR created_at >= $6) AND ($7 IS NULL OR created_at < $7) \
         AND ($8 IS NULL OR created_at < $8 OR (created_at = $8 AND id < $9)) \
         ORDER BY created_at DESC, id DESC LIMIT $10"
    )
}

#[cfg(test)]
mod tests {
    use super::is_transient;

    #[test]
    fn restarts_and_busy_databases_are_transient_and_bugs_are_not() {
        for code in [
            "57P01", "57P03", "08006", "53300", "40001", "40P01", "5", "517", "6",
        ] {
            assert!(is_transient(code), "{code}");
        }
        for code in ["23505", "42P01", "22P02", "22021", "19", "2067", "1"] {
            assert!(!is_transient(code), "{code}");
        }
    }
}
