//! Rows of the operators' tables: accounts, and sessions read together with their operator.
//! Sign-in tokens are only written and matched by hash, never read back as rows.

use super::{corrupt, count, optional_millis};
use crate::{
    Result, StoreError, from_millis,
    operators::{Operator, OperatorRole, OperatorSession},
};

/// Columns of `operators`, in [`OperatorRow`]'s order.
pub const OPERATOR_COLUMNS: &str = "id, email, role, password_hash, created_at, disabled_at, \
    failed_signins, last_failed_signin_at, last_signed_in_at";

/// `operators` row.
#[derive(Debug, sqlx::FromRow)]
pub struct OperatorRow {
    /// [`Operator::id`].
    pub id: String,
    /// [`Operator::email`].
    pub email: String,
    /// [`Operator::role`], as its wire name.
    pub role: String,
    /// [`Operator::password_hash`].
    pub password_hash: Option<String>,
    /// [`Operator::created_at`], in milliseconds since the epoch.
    pub created_at: i64,
    /// [`Operator::disabled_at`], in milliseconds since the epoch.
    pub disabled_at: Option<i64>,
    /// [`Operator::failed_signins`].
    pub failed_signins: i64,
    /// [`Operator::last_failed_signin_at`], in milliseconds since the epoch.
    pub last_failed_signin_at: Option<i64>,
    /// [`Operator::last_signed_in_at`], in milliseconds since the epoch.
    pub last_signed_in_at: Option<i64>,
}

impl TryFrom<OperatorRow> for Operator {
    type Error = StoreError;

    fn try_from(row: OperatorRow) -> Result<Self> {
        Ok(Self {
            role: OperatorRole::parse(&row.role)
                .ok_or_else(|| corrupt("operator role", &row.role))?,
            created_at: from_millis(row.created_at)?,
            disabled_at: optional_millis(row.disabled_at)?,
            failed_signins: count("failed sign-ins", row.failed_signins)?,
            last_failed_signin_at: optional_millis(row.last_failed_signin_at)?,
            last_signed_in_at: optional_millis(row.last_signed_in_at)?,
            id: row.id,
            email: row.email,
            password_hash: row.password_hash,
        })
    }
}

/// Columns of `operator_sessions` (as `s`) joined with `operators` (as `o`), in
/// [`OperatorSessionRow`]'s order. The session's `created_at` is renamed, since the operator
/// has one too.
pub const OPERATOR_SESSION_COLUMNS: &str = "s.id_hash, s.operator_id, \
    s.created_at AS session_created_at, s.last_seen_at, s.expires_at, s.ip, s.user_agent, \
    o.id, o.email, o.role, o.password_hash, o.created_at, o.disabled_at, o.failed_signins, \
    o.last_failed_signin_at, o.last_signed_in_at";

/// `operator_sessions` row with its operator's row: a session is only ever read to learn who
/// is signed in.
#[derive(Debug, sqlx::FromRow)]
pub struct OperatorSessionRow {
    /// [`OperatorSession::id_hash`].
    pub id_hash: Vec<u8>,
    /// [`OperatorSession::operator_id`].
    pub operator_id: String,
    /// [`OperatorSession::created_at`], in milliseconds since the epoch.
    pub session_created_at: i64,
    /// [`OperatorSession::last_seen_at`], in milliseconds since the epoch.
    pub last_seen_at: i64,
    /// [`OperatorSession::expires_at`], in milliseconds since the epoch.
    pub expires_at: i64,
    /// [`OperatorSession::ip`].
    pub ip: Option<String>,
    /// [`OperatorSession::user_agent`].
    pub user_agent: Option<String>,
    /// The session's operator.
    #[sqlx(flatten)]
    pub operator: OperatorRow,
}

impl TryFrom<OperatorSessionRow> for (OperatorSession, Operator) {
    type Error = StoreError;

    fn try_from(row: OperatorSessionRow) -> Result<Self> {
        let session = OperatorSession {
            id_hash: row.id_hash,
            operator_id: row.operator_id,
            created_at: from_millis(row.session_created_at)?,
            last_seen_at: from_millis(row.last_seen_at)?,
            expires_at: from_millis(row.expires_at)?,
            ip: row.ip,
            user_agent: row.user_agent,
        };
        Ok((session, Operator::try_from(row.operator)?))
    }
}
