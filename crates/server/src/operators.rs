//! Operators of the dashboard: their accounts (created, listed, disabled and reset on the
//! command line), choosing a password with a one-time sign-in link, signing in and out, and
//! the sessions that carry a signed-in operator from page to page.
//!
//! Passwords are hashed with argon2id (the `argon2` crate's defaults: 19 MiB, two passes),
//! on the blocking pool so a sign-in never stalls the server. Sign-in tokens and session ids
//! are 256 random bits stored as SHA-256 (`tokens.rs`), so a copy of the database signs no one
//! in. Operators are deployment-wide, so their audit entries go to the production trail.
//!
//! Two limits stop password guessing: each client address may try [`crate::config::Config::rate_limit_signins`]
//! times a minute (in this process), and each account locks for [`LOCKOUT`] after
//! [`LOCKOUT_AFTER`] wrong passwords in a row, counted in the database so every instance
//! behind a load balancer sees the same count. A locked account refuses even the right password
//! without checking it, so a guesser learns nothing while it is locked.

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};
use chrono::{DateTime, Duration, Utc};
use plugboard_store::{Operator, OperatorRole, OperatorSession, SigninToken, StoreError};

use crate::{
    AppState,
    audit::{Action, Caller, Client},
    error::{DomainError, Missing},
    tokens,
};

/// How long the link `operators create` and `reset` print stays usable.
pub const SIGNIN_TOKEN_TTL: Duration = Duration::days(3);

/// Wrong passwords in a row that lock an account.
pub const LOCKOUT_AFTER: u32 = 5;

/// How long a locked account stays locked after its last wrong password.
pub const LOCKOUT: Duration = Duration::minutes(15);

/// The shortest password accepted, in characters (NIST SP 800-63B asks for at least 8; the
/// dashboard holds every customer's connections, so more).
pub const MIN_PASSWORD: usize = 12;

/// The longest password accepted, in bytes: hashing is costly, and a megabyte "password" must
/// not cost more than a normal one.
pub const MAX_PASSWORD: usize = 1024;

/// A session's last-seen time is written at most this often, so that browsing the dashboard is
/// not a database write per page.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// The path of the page where a sign-in token is used.
pub const WELCOME_PATH: &str = "/dashboard/welcome";

/// A signed-in operator, as the dashboard's pages receive it.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The operator.
    pub operator: Operator,
    /// The SHA-256 of the session id: what names the session in the store, and what its CSRF
    /// token is computed from.
    pub session_hash: Vec<u8>,
}

impl SignedIn {
    /// Whether the operator may change things.
    pub fn is_admin(&self) -> bool {
        self.operator.role == OperatorRole::Admin
    }
}

/// A session just started: the id goes into the cookie and nowhere else (its `Debug` leaves
/// it out).
pub struct NewSession {
    /// The session id (the cookie's value).
    pub id: String,
    /// Who signed in.
    pub operator: Operator,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("operator", &self.operator.id)
            .finish_non_exhaustive()
    }
}

/// Why a sign-in was refused, as the sign-in page explains it. A wrong address and a wrong
/// password are one case, so the page does not reveal which addresses have accounts.
#[derive(Debug)]
pub enum SigninRefused {
    /// The address or the password is wrong (or the account has no password yet, or is
    /// disabled).
    Wrong,
    /// Too many wrong passwords: the account is locked for this long.
    Locked(Duration),
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for SigninRefused {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// Lower-cases and checks an e-mail address given for an operator.
fn normalise_email(email: &str) -> Result<String, DomainError> {
    let email = email.trim().to_lowercase();
    if email.len() > 254 || !email_address::EmailAddress::is_valid(&email) {
        return Err(DomainError::invalid(
            "email",
            "must be an e-mail address, e.g. ops@example.com",
        ));
    }
    Ok(email)
}

fn signin_token(operator_id: &str, now: DateTime<Utc>) -> (String, SigninToken) {
    let token = tokens::new_signin_token();
    let stored = SigninToken {
        hash: tokens::hash(&token),
        operator_id: operator_id.to_owned(),
        created_at: now,
        expires_at: now + SIGNIN_TOKEN_TTL,
    };
    (token, stored)
}

/// The absolute sign-in link for `token`.
fn welcome_url(state: &AppState, token: &str) -> String {
    state
        .config
        .public(&format!("{WELCOME_PATH}?token={token}"))
}

async fn record(state: &AppState, caller: &Caller, action: Action, operator: &Operator) {
    let entry = caller
        .entry(action)
        .target("operator", &operator.id)
        .detail("email", operator.email.clone());
    caller
        .record(state, &state.environments.production.id, entry)
        .await;
}

/// Creates an operator; returns it and the one-time link with which it chooses a password.
pub async fn create(
    state: &AppState,
    email: &str,
    role: OperatorRole,
    caller: &Caller,
) -> Result<(Operator, String), DomainError> {
    let email = normalise_email(email)?;
    let now = Utc::now();
    let operator = Operator {
        id: format!("op_{}", plugboard_store::ids::new_id()),
        email,
        role,
        password_hash: None,
        created_at: now,
        disabled_at: None,
        failed_signins: 0,
        last_failed_signin_at: None,
        last_signed_in_at: None,
    };
    let (token, stored) = signin_token(&operator.id, now);
    if !state.store.insert_operator(&operator, &stored).await? {
        return Err(DomainError::invalid(
            "email",
            format!(
                "an operator with the address {} exists already",
                operator.email
            ),
        ));
    }
    tracing::info!(operator_id = %operator.id, role = role.as_str(), "operator created");
    let entry = caller
        .entry(Action::OperatorCreated)
        .target("operator", &operator.id)
        .detail("email", operator.email.clone())
        .detail("role", role.as_str());
    caller
        .record(state, &state.environments.production.id, entry)
        .await;
    Ok((operator, welcome_url(state, &token)))
}

/// Every operator, by e-mail address.
pub async fn list(state: &AppState) -> Result<Vec<Operator>, DomainError> {
    Ok(state.store.list_operators().await?)
}

/// The operator named by id (`op_…`) or e-mail address, as the command line accepts both.
pub async fn find(state: &AppState, who: &str) -> Result<Operator, DomainError> {
    let found = if who.starts_with("op_") {
        state.store.operator(who).await?
    } else {
        state
            .store
            .operator_by_email(&who.trim().to_lowercase())
            .await?
    };
    found.ok_or_else(|| DomainError::NotFound(Missing::Operator(who.to_owned())))
}

/// Disables (`true`) or enables an operator. Disabling ends its sessions at once.
pub async fn set_disabled(
    state: &AppState,
    who: &str,
    disabled: bool,
    caller: &Caller,
) -> Result<Operator, DomainError> {
    let operator = find(state, who).await?;
    let at = disabled.then(Utc::now);
    if !state.store.set_operator_disabled(&operator.id, at).await? {
        return Err(DomainError::NotFound(Missing::Operator(who.to_owned())));
    }
    let action = if disabled {
        Action::OperatorDisabled
    } else {
        Action::OperatorEnabled
    };
    tracing::info!(operator_id = %operator.id, disabled, "operator changed");
    record(state, caller, action, &operator).await;
    find(state, &operator.id).await
}

/// Resets an operator: forgets its password, ends its sessions and returns a new one-time
/// sign-in link (the old one stops working).
pub async fn reset(state: &AppState, who: &str, caller: &Caller) -> Result<String, DomainError> {
    let operator = find(state, who).await?;
    let (token, stored) = signin_token(&operator.id, Utc::now());
    if !state.store.reset_operator(&operator.id, &stored).await? {
        return Err(DomainError::NotFound(Missing::Operator(who.to_owned())));
    }
    tracing::info!(operator_id = %operator.id, "operator reset");
    record(state, caller, Action::OperatorReset, &operator).await;
    Ok(welcome_url(state, &token))
}

/// The operator whose sign-in `token` can still be used, if any.
pub async fn signin_token_owner(
    state: &AppState,
    token: &str,
) -> Result<Option<Operator>, StoreError> {
    if !token.starts_with(tokens::SIGNIN_TOKEN_PREFIX) || token.len() > 100 {
        return Ok(None);
    }
    state
        .store
        .signin_token_operator(&tokens::hash(token), Utc::now())
        .await
}

/// Checks a new password against the rules, naming the field `password`.
fn check_password(password: &str, email: Option<&str>) -> Result<(), DomainError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(DomainError::invalid(
            "password",
            format!("must be at least {MIN_PASSWORD} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD {
        return Err(DomainError::invalid(
            "password",
            format!("must be at most {MAX_PASSWORD} bytes"),
        ));
    }
    if email.is_some_and(|email| password.trim().eq_ignore_ascii_case(email)) {
        return Err(DomainError::invalid(
            "password",
            "must not be your e-mail address",
        ));
    }
    Ok(())
}

/// Hashes a password with argon2id on the blocking pool.
async fn hash_password(password: String) -> Result<String, DomainError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| DomainError::Internal(format!("hashing a password: {error}")))
    })
    .await
    .map_err(|error| DomainError::Internal(format!("the hashing task failed: {error}")))?
}

/// Whether `password` matches the PHC `hash` (argon2id), on the blocking pool. With no hash
/// (no such operator, or no password yet) a dummy hash is checked instead, so the answer takes
/// as long whether or not the address has an account.
async fn verify_password(password: String, hash: Option<String>) -> bool {
    static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        Argon2::default()
            .hash_password(
                b"no account has this password",
                &SaltString::generate(&mut OsRng),
            )
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    });
    tokio::task::spawn_blocking(move || {
        let real = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY.clone());
        let matches = PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        });
        real && matches
    })
    .await
    .unwrap_or(false)
}

fn new_session(
    state: &AppState,
    operator_id: &str,
    client: &Client,
    now: DateTime<Utc>,
) -> (String, OperatorSession) {
    let id = tokens::new_session_id();
    let lifetime =
        Duration::from_std(state.config.dashboard.session_lifetime).unwrap_or(Duration::hours(12));
    let session = OperatorSession {
        id_hash: tokens::hash(&id),
        operator_id: operator_id.to_owned(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + lifetime,
        ip: client.ip.map(|ip| ip.to_string()),
        user_agent: client.user_agent.clone(),
    };
    (id, session)
}

/// Uses a one-time sign-in token: stores the operator's new password, ends its other sessions
/// and signs it in. An unknown, used or expired token is [`Missing::SigninToken`].
pub async fn choose_password(
    state: &AppState,
    token: &str,
    password: &str,
    client: Client,
) -> Result<NewSession, DomainError> {
    let Some(owner) = signin_token_owner(state, token).await? else {
        return Err(DomainError::NotFound(Missing::SigninToken));
    };
    check_password(password, Some(&owner.email))?;
    let hash = hash_password(password.to_owned()).await?;
    let now = Utc::now();
    let (id, session) = new_session(state, &owner.id, &client, now);
    let Some(operator) = state
        .store
        .redeem_signin_token(&tokens::hash(token), &hash, &session, now)
        .await?
    else {
        return Err(DomainError::NotFound(Missing::SigninToken));
    };
    tracing::info!(operator_id = %operator.id, "operator chose a password");
    let caller = Caller::operator(&operator.id, client);
    record(state, &caller, Action::OperatorPasswordSet, &operator).await;
    Ok(NewSession { id, operator })
}

/// Signs an operator in with e-mail address and password.
///
/// A wrong address and a wrong password are one answer, in about the same time (an unknown
/// address is checked against a dummy hash, and the failure is recorded after the answer).
/// Every address, known or not, is locked after [`LOCKOUT_AFTER`] wrong tries: an account in
/// the database (so every instance counts the same failures), any address in this process's
/// memory too, so a lock says nothing about whether an account exists.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: &str,
    client: Client,
) -> Result<NewSession, SigninRefused> {
    let now = Utc::now();
    let email = email.trim().to_lowercase();
    let operator = if email.len() <= 254 && !email.contains('\0') {
        state.store.operator_by_email(&email).await?
    } else {
        None
    };
    let locked = operator
        .as_ref()
        .and_then(|operator| locked_for(operator, now))
        .or_else(|| state.limits.signin_addresses.locked_for(&email));
    if let Some(wait) = locked {
        // As long as a wrong password would take; and no audit entry per refusal, so a
        // flood of tries cannot grow the trail.
        verify_password(String::new(), None).await;
        return Err(SigninRefused::Locked(wait));
    }
    let usable = operator
        .as_ref()
        .filter(|operator| operator.disabled_at.is_none());
    let hash = usable.and_then(|operator| operator.password_hash.clone());
    // Over-long input is refused without hashing it (it could never have been set).
    let password = if password.len() > MAX_PASSWORD {
        String::new()
    } else {
        password.to_owned()
    };
    let matches = verify_password(password, hash).await;
    let Some(operator) = usable.filter(|_| matches) else {
        state.limits.signin_addresses.failed(&email);
        if let Some(operator) = operator {
            // Written after the answer, so a known address answers as fast as an unknown one.
            let state = state.clone();
            tokio::spawn(async move {
                let restart = now - LOCKOUT;
                if let Err(error) = state
                    .store
                    .record_signin_failure(&operator.id, now, restart)
                    .await
                {
                    tracing::warn!(%error, "could not count a failed sign-in");
                }
                let reason = if operator.disabled_at.is_some() {
                    "disabled"
                } else if operator.password_hash.is_none() {
                    "no_password"
                } else {
                    "wrong_password"
                };
                let caller = Caller::operator(&operator.id, client);
                let entry = caller
                    .entry(Action::OperatorSigninFailed)
                    .target("operator", &operator.id)
                    .detail("reason", reason);
                caller
                    .record(&state, &state.environments.production.id, entry)
                    .await;
            });
        }
        return Err(SigninRefused::Wrong);
    };
    state.limits.signin_addresses.succeeded(&email);
    start_session(state, operator.clone(), client, "password").await
}

/// Signs in the operator whose address an identity provider confirmed (`oidc.rs`). Only an
/// enabled account with that address signs in: the provider proves who someone is, the
/// account says what they may do. A refusal is [`SigninRefused::Wrong`].
pub async fn sign_in_verified(
    state: &AppState,
    email: &str,
    client: Client,
) -> Result<NewSession, SigninRefused> {
    let Some(operator) = state
        .store
        .operator_by_email(&email.to_lowercase())
        .await?
        .filter(|operator| operator.disabled_at.is_none())
    else {
        tracing::warn!("single sign-on for an address without an enabled operator account");
        return Err(SigninRefused::Wrong);
    };
    start_session(state, operator, client, "oidc").await
}

/// Starts a session for `operator`, signed in by `method` (`password`, `oidc`, `demo`): the
/// one place `operator.signed_in` is written.
async fn start_session(
    state: &AppState,
    operator: Operator,
    client: Client,
    method: &'static str,
) -> Result<NewSession, SigninRefused> {
    let (id, session) = new_session(state, &operator.id, &client, Utc::now());
    state.store.start_operator_session(&session).await?;
    tracing::info!(operator_id = %operator.id, method, "operator signed in");
    let caller = Caller::operator(&operator.id, client);
    let entry = caller
        .entry(Action::OperatorSignedIn)
        .target("operator", &operator.id)
        .detail("email", operator.email.clone())
        .detail("method", method);
    caller
        .record(state, &state.environments.production.id, entry)
        .await;
    Ok(NewSession { id, operator })
}

/// How much longer `operator` stays locked at `now`, if it is.
fn locked_for(operator: &Operator, now: DateTime<Utc>) -> Option<Duration> {
    let last = operator.last_failed_signin_at?;
    let until = last + LOCKOUT;
    (operator.failed_signins >= LOCKOUT_AFTER && until > now).then(|| until - now)
}

/// The demo operator of `plugboard serve --demo`: an administrator without a password, so it
/// can never sign in with one.
pub const DEMO_EMAIL: &str = "demo@plugboard.localhost";

/// Makes sure the demo operator exists (`serve --demo` only).
pub async fn ensure_demo_operator(state: &AppState) -> Result<Operator, DomainError> {
    if let Some(operator) = state.store.operator_by_email(DEMO_EMAIL).await? {
        return Ok(operator);
    }
    let (operator, _link) = create(state, DEMO_EMAIL, OperatorRole::Admin, &Caller::cli()).await?;
    Ok(operator)
}

/// Starts a session for the demo operator without a password: what `serve --demo`'s
/// "Open the dashboard" does. Only the demo's router calls it, and only `--demo` mounts that
/// router, which is for a developer's own machine.
pub async fn start_demo_session(
    state: &AppState,
    client: Client,
) -> Result<NewSession, DomainError> {
    let operator = ensure_demo_operator(state).await?;
    match start_session(state, operator, client, "demo").await {
        Ok(session) => Ok(session),
        Err(SigninRefused::Store(error)) => Err(error.into()),
        Err(_) => Err(DomainError::Internal(
            "the demo operator could not sign in".into(),
        )),
    }
}

/// The operator signed in with the session id `cookie`, if the session is live; moves its
/// last-seen time now and then.
pub async fn session(state: &AppState, cookie: &str) -> Result<Option<SignedIn>, StoreError> {
    if cookie.is_empty() || cookie.len() > 100 {
        return Ok(None);
    }
    let now = Utc::now();
    let idle =
        Duration::from_std(state.config.dashboard.session_idle).unwrap_or(Duration::minutes(30));
    let hash = tokens::hash(cookie);
    let Some((session, operator)) = state.store.operator_session(&hash, now, now - idle).await?
    else {
        return Ok(None);
    };
    if now - session.last_seen_at >= TOUCH_EVERY {
        state.store.touch_operator_session(&hash, now).await?;
    }
    Ok(Some(SignedIn {
        operator,
        session_hash: hash,
    }))
}

/// Ends the operator's session, or every session of the operator when `everywhere`.
pub async fn sign_out(
    state: &AppState,
    signed_in: &SignedIn,
    everywhere: bool,
    caller: &Caller,
) -> Result<(), DomainError> {
    if everywhere {
        state
            .store
            .end_operator_sessions(&signed_in.operator.id)
            .await?;
    } else {
        state
            .store
            .end_operator_session(&signed_in.session_hash)
            .await?;
    }
    let entry = caller
        .entry(Action::OperatorSignedOut)
        .target("operator", &signed_in.operator.id)
        .detail("everywhere", everywhere);
    caller
        .record(state, &state.environments.production.id, entry)
        .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_checked_for_length_and_the_address() {
        assert!(check_password("short", None).is_err());
        assert!(check_password(&"x".repeat(MAX_PASSWORD + 1), None).is_err());
        assert!(check_password("ops@example.com", Some("ops@example.com")).is_err());
        assert!(check_password("correct horse battery", Some("ops@example.com")).is_ok());
    }

    #[test]
    fn accounts_lock_after_repeated_failures_for_a_while() {
        let now = Utc::now();
        let mut operator = Operator {
            id: "op_x".into(),
            email: "ops@example.com".into(),
            role: OperatorRole::Admin,
            password_hash: None,
            created_at: now,
            disabled_at: None,
            failed_signins: LOCKOUT_AFTER - 1,
            last_failed_signin_at: Some(now),
            last_signed_in_at: None,
        };
        assert_eq!(locked_for(&operator, now), None);
        operator.failed_signins = LOCKOUT_AFTER;
        assert_eq!(locked_for(&operator, now), Some(LOCKOUT));
        assert_eq!(locked_for(&operator, now + LOCKOUT), None);
    }

    #[tokio::test]
    async fn hashes_verify_only_their_password() {
        let hash = hash_password("correct horse battery".into())
            .await
            .expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!verify_password("wrong horse battery".into(), Some(hash)).await);
        assert!(!verify_password("anything".into(), None).await);
    }
}
