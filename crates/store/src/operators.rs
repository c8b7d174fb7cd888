//! The dashboard's operators: their accounts (an argon2id password hash, never a password),
//! the one-time sign-in tokens that let them choose a password, and their sessions.
//!
//! Operators are deployment-wide: one account sees both environments. Tokens and sessions are
//! stored as SHA-256 hashes, so a copy of the database opens no dashboard. Everything that
//! must change together (a password and the token that allowed it, a reset and the sessions
//! it ends) changes in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

/// What an operator may do in the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorRole {
    /// Sees and changes everything.
    Admin,
    /// Sees everything an admin sees, changes nothing.
    Viewer,
}

wire_enum!(OperatorRole { Admin => "admin", Viewer => "viewer" });

/// An operator's account. Its `Debug` leaves the password hash out.
#[derive(Clone, PartialEq, Eq)]
pub struct Operator {
    /// `op_` and 24 base58 characters.
    pub id: String,
    /// The address the operator signs in with, lower-cased; unique.
    pub email: String,
    /// What the operator may do.
    pub role: OperatorRole,
    /// The argon2id hash of the password in PHC format; `None` until the operator chose one
    /// through a sign-in token (and again after a reset).
    pub password_hash: Option<String>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account was disabled; a disabled operator has no sessions and cannot sign in.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Failed password sign-ins since the last successful one: the per-account limit, kept in
    /// the database so that every instance behind a load balancer counts the same failures.
    pub failed_signins: u32,
    /// When the last of those failures happened.
    pub last_failed_signin_at: Option<DateTime<Utc>>,
    /// When the operator last signed in.
    pub last_signed_in_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operator")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("has_password", &self.password_hash.is_some())
            .field("disabled_at", &self.disabled_at)
            .finish_non_exhaustive()
    }
}

/// A one-time sign-in token: the link `plugboard operators create` and `reset` print, with
/// which the operator chooses a password. Only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigninToken {
    /// SHA-256 of the token.
    pub hash: Vec<u8>,
    /// Whose token it is.
    pub operator_id: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// A signed-in operator's session. Only the hash of the session id (the cookie's value) is
/// stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSession {
    /// SHA-256 of the session id.
    pub id_hash: Vec<u8>,
    /// Whose session it is.
    pub operator_id: String,
    /// When the operator signed in.
    pub created_at: DateTime<Utc>,
    /// The last request seen; the idle timeout counts from here.
    pub last_seen_at: DateTime<Utc>,
    /// The absolute timeout: the session ends then, however busy.
    pub expires_at: DateTime<Utc>,
    /// The address the session was started from, for the operator's list of sessions.
    pub ip: Option<String>,
    /// The browser that started it.
    pub user_agent: Option<String>,
}

/// Operators, their sign-in tokens and sessions.
#[async_trait]
pub trait Operators: Send + Sync {
    /// Creates an operator and its first sign-in token, in one transaction. `false` when an
    /// operator with this e-mail address exists already (nothing is written).
    async fn insert_operator(&self, operator: &Operator, token: &SigninToken) -> Result<bool>;

    /// The operator with this id.
    async fn operator(&self, id: &str) -> Result<Option<Operator>>;

    /// The operator with this (lower-cased) e-mail address.
    async fn operator_by_email(&self, email: &str) -> Result<Option<Operator>>;

    /// Every operator, by e-mail address.
    async fn list_operators(&self) -> Result<Vec<Operator>>;

    /// Disables (`Some(time)`) or enables (`None`) an operator. Disabling also deletes the
    /// operator's sessions and sign-in tokens, in the same transaction. `false` if there is no
    /// such operator.
    async fn set_operator_disabled(
        &self,
        id: &str,
        disabled_at: Option<DateTime<Utc>>,
    ) -> Result<bool>;

    /// Resets an operator: forgets the password, ends every session, replaces any sign-in
    /// token by `token` and clears the failure count, in one transaction. `false` if there is
    /// no such operator.
    async fn reset_operator(&self, id: &str, token: &SigninToken) -> Result<bool>;

    /// Redeems a sign-in token: if the token with this hash exists, is unexpired at `now` and
    /// belongs to an enabled operator, deletes it, stores `password_hash`, clears the failure
    /// count, ends the operator's other sessions and starts `session`, all in one transaction,
    /// and returns the operator as changed. `None` (nothing written) otherwise: a token works
    /// once.
    async fn redeem_signin_token(
        &self,
        hash: &[u8],
        password_hash: &str,
        session: &OperatorSession,
        now: DateTime<Utc>,
    ) -> Result<Option<Operator>>;

    /// The enabled operator whose sign-in token has this hash and is unexpired at `now`: the
    /// page that asks for the new password shows whose it is (the token stays usable).
    async fn signin_token_operator(
        &self,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<Operator>>;

    /// Counts a failed password sign-in of the operator at `now`. A run of failures whose
    /// last one came before `restart_before` (a lock that has expired) starts again at one.
    async fn record_signin_failure(
        &self,
        operator_id: &str,
        now: DateTime<Utc>,
        restart_before: DateTime<Utc>,
    ) -> Result<()>;

    /// Starts `session` after a successful sign-in: stores it, clears the failure count and
    /// sets the last sign-in time, in one transaction.
    async fn start_operator_session(&self, session: &OperatorSession) -> Result<()>;

    /// The session with this id hash and its operator, if the session has neither expired at
    /// `now` nor been idle since before `idle_since`, and the operator is enabled.
    async fn operator_session(
        &self,
        id_hash: &[u8],
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> Result<Option<(OperatorSession, Operator)>>;

    /// Moves a session's last-seen time to `now`.
    async fn touch_operator_session(&self, id_hash: &[u8], now: DateTime<Utc>) -> Result<()>;

    /// Ends one session (sign-out); `false` if it did not exist.
    async fn end_operator_session(&self, id_hash: &[u8]) -> Result<bool>;

    /// Ends every session of an operator; how many there were.
    async fn end_operator_sessions(&self, operator_id: &str) -> Result<u64>;

    /// Deletes sessions expired at `now` or idle since before `idle_since`, and sign-in
    /// tokens expired at `now`; how many rows went.
    async fn prune_operator_sessions(
        &self,
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> Result<u64>;
}
