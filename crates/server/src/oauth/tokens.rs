//! Fresh access tokens for OAuth integrations, refreshed once at a time.
//!
//! A token is refreshed when it is used within the refresh margin of its expiry, and by the
//! connection check for integrations nobody uses. Vendors rotate refresh tokens (Gusto,
//! Deel, Microsoft): two refreshes racing with one refresh token leave one of them holding a
//! revoked token, and some vendors then revoke the whole grant (RFC 9700 §4.14.2). So a
//! refresh is single-flight per integration, first in this process (one task asks, the others
//! wait for its answer, so a burst holds one database connection, not fifty), then across
//! processes: [`plugboard_store::Oauth::lock_credentials`] holds the integration's row (the
//! write lock on SQLite) and re-reads the tokens once it has it, so a process that waited uses
//! the tokens the first one stored instead of refreshing again. The new refresh token is
//! stored in the same transaction as the access token, before anyone uses either.
//!
//! A refused grant (`invalid_grant`, read under the lock, so not a race with another
//! process's rotation) brings the connection check forward, which counts it as refused
//! credentials: `INVALID` after the grace period, with Kombo's webhook. Other failures back
//! off for [`BACKOFF`], so a vendor outage is not hammered by every call.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use plugboard_catalog::Tool;
use plugboard_store::{Sealed, ids::IntegrationId};
use zeroize::Zeroizing;

use super::{
    TokenSet, apps,
    client::{self, TokenError, TokenRequest},
};
use crate::{
    AppState, checks,
    integrations::{self, Credentials},
    lock,
    vault::Purpose,
};

/// How long refreshes of an integration pause after one failed for a reason that may pass
/// (the vendor unreachable or answering nonsense). Nango added the same after one connection
/// made 60,000 failed refreshes a day (NangoHQ/nango#5505).
pub const BACKOFF: chrono::Duration = chrono::Duration::seconds(30);

/// Why no fresh access token could be had.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The vendor refused the grant, or the token expired with no refresh token to renew it:
    /// the end user must sign in again (relink).
    #[error("the vendor no longer accepts the integration's grant; relink the integration")]
    Revoked,
    /// The operator's OAuth app is gone or the vendor refuses it.
    #[error("the OAuth app these tokens belong to is gone or refused by the vendor ({0})")]
    App(String),
    /// A refresh failed for a reason that may pass; the next try is after the back-off.
    #[error("refreshing the access token failed ({0}); the next attempt is in 30 s")]
    Failed(String),
    /// A refresh failed less than [`BACKOFF`] ago.
    #[error("refreshing the access token failed moments ago; the next attempt is at {0}")]
    BackingOff(DateTime<Utc>),
    /// Plugboard's own failure (the database, the vault).
    #[error("{0}")]
    Internal(String),
}

/// A token this process handed out, and when it stops being fresh.
struct Cached {
    /// The integration's `updated_at` (ms) the token belongs to.
    version: i64,
    token: Arc<Zeroizing<String>>,
    /// `None`: good until the tool refuses it.
    stale_at: Option<DateTime<Utc>>,
}

/// What this process keeps between calls: the current access token of each integration, the
/// per-integration single-flight locks, and the back-offs.
#[derive(Default)]
pub struct Tokens {
    cached: Mutex<HashMap<String, Cached>>,
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    backoff: Mutex<HashMap<String, Backoff>>,
    /// Tokens the tool refused on a call that was not repeated (a POST): the next call
    /// refreshes instead of sending them again.
    refused: Mutex<HashMap<String, Zeroizing<String>>>,
}

/// A pause of an integration's refreshes after one failed.
#[derive(Clone, Copy)]
struct Backoff {
    until: DateTime<Utc>,
    /// The grant was refused: calls meanwhile are told so, not "try later".
    revoked: bool,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").finish_non_exhaustive()
    }
}

impl Tokens {
    fn cached(&self, id: &str, version: i64, now: DateTime<Utc>) -> Option<Arc<Zeroizing<String>>> {
        let cached = lock(&self.cached);
        let entry = cached.get(id)?;
        (entry.version == version && entry.stale_at.is_none_or(|at| now < at))
            .then(|| entry.token.clone())
    }

    fn keep(
        &self,
        id: &str,
        version: i64,
        token: Arc<Zeroizing<String>>,
        stale_at: Option<DateTime<Utc>>,
    ) {
        let mut cached = lock(&self.cached);
        // Bounded by the number of OAuth integrations in use; expired entries go first.
        if cached.len() >= 10_000 {
            let now = Utc::now();
            cached.retain(|_, entry| entry.stale_at.is_none_or(|at| now < at));
        }
        cached.insert(
            id.to_owned(),
            Cached {
                version,
                token,
                stale_at,
            },
        );
    }

    /// Forgets an integration's token and back-off (it was relinked, disabled or deleted).
    pub fn forget(&self, id: &str) {
        lock(&self.cached).remove(id);
        lock(&self.backoff).remove(id);
        lock(&self.refused).remove(id);
    }

    /// Remembers that the tool refused `token` on a call that was not repeated, so the next
    /// call of the integration refreshes it.
    pub fn mark_refused(&self, id: &str, token: &str) {
        lock(&self.refused).insert(id.to_owned(), Zeroizing::new(token.to_owned()));
    }

    fn flight(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut flights = lock(&self.flights);
        // Entries nobody holds are dropped as the map grows, so it stays as large as the
        // number of integrations refreshing at once.
        if flights.len() >= 1_000 {
            flights.retain(|_, flight| Arc::strong_count(flight) > 1);
        }
        flights.entry(id.to_owned()).or_default().clone()
    }
}

/// How a refresh under the lock ended.
enum Locked {
    /// The stored token is fresh (another process refreshed it, or it never needed to be).
    Stored(TokenSet),
    /// This process refreshed and stored the new tokens.
    Refreshed(TokenSet),
    /// It did not work.
    Failed(RefreshError),
}

/// A fresh access token for `integration` of `tool` as of `version` (its `updated_at` in
/// milliseconds: a relink, here or in another process, makes cached tokens of the old grant
/// miss): the one in hand when it is fresh, else a refreshed one. `stale` is a token the tool
/// just refused with 401: it is replaced even if its expiry says it is fresh (unless another
/// refresh already replaced it).
pub async fn access_token(
    state: &AppState,
    integration: &IntegrationId,
    version: i64,
    tool: &Tool,
    stale: Option<&str>,
) -> Result<Arc<Zeroizing<String>>, RefreshError> {
    let tokens = &state.oauth_tokens;
    let id = integration.as_str();
    let remembered = lock(&tokens.refused).get(id).cloned();
    let stale = stale.or(remembered.as_deref().map(String::as_str));
    let replaced = |token: &Arc<Zeroizing<String>>| stale.is_none_or(|s| token.as_str() != s);
    if let Some(token) = tokens.cached(id, version, Utc::now()).filter(replaced) {
        return Ok(token);
    }
    let flight = tokens.flight(id);
    let _turn = flight.lock().await;
    // Whoever held the turn before may have just refreshed.
    if let Some(token) = tokens.cached(id, version, Utc::now()).filter(replaced) {
        return Ok(token);
    }
    if let Some(backoff) = lock(&tokens.backoff).get(id).copied()
        && Utc::now() < backoff.until
    {
        return Err(if backoff.revoked {
            RefreshError::Revoked
        } else {
            RefreshError::BackingOff(backoff.until)
        });
    }
    let margin = chrono::Duration::from_std(state.config.oauth_refresh_margin)
        .unwrap_or(chrono::Duration::minutes(15));
    let outcome = match unlocked(state, integration, tool, stale, margin).await {
        Ok(Unlocked::Fresh(set)) => Locked::Stored(set),
        Ok(Unlocked::Due(parts)) => locked(state, integration, &parts, stale, margin).await,
        Err(error) => Locked::Failed(error),
    };
    settle(state, integration, version, margin, outcome).await
}

/// What the stored tokens say before any lock is taken.
enum Unlocked<'a> {
    /// Fresh: nothing to do (the common case after another process refreshed, or when this
    /// process's cache was cold).
    Fresh(TokenSet),
    /// Due for a refresh, with what it needs loaded.
    Due(Box<TokenParts<'a>>),
}

/// Reads the stored tokens without a lock (on SQLite, through the readers: the writer stays
/// free), and when they are due, loads what the refresh needs (the app revision, its secret,
/// the endpoints) before the lock is taken: inside it, on PostgreSQL, a second connection
/// per waiting refresh could drain the pool.
async fn unlocked<'a>(
    state: &AppState,
    integration: &IntegrationId,
    tool: &'a Tool,
    stale: Option<&str>,
    margin: chrono::Duration,
) -> Result<Unlocked<'a>, RefreshError> {
    let opened = integrations::open_credentials(state.store.as_ref(), &state.vault, integration)
        .await
        .map_err(|e| RefreshError::Internal(e.to_string()))?;
    let current = TokenSet::from_credentials(opened.get()).ok_or_else(|| {
        RefreshError::Internal(format!("{integration} was not connected by signing in"))
    })?;
    let refused = stale.is_some_and(|stale| stale == current.access_token);
    if !refused && current.fresh(Utc::now(), margin) {
        return Ok(Unlocked::Fresh(current));
    }
    if current.refresh_token.is_none() {
        return Err(RefreshError::Revoked);
    }
    TokenParts::load(state, tool, &current.app, opened.get())
        .await
        .map(|parts| Unlocked::Due(Box::new(parts)))
}

/// Refreshes under the integration's lock, or takes what another process stored meanwhile.
async fn locked(
    state: &AppState,
    integration: &IntegrationId,
    parts: &TokenParts<'_>,
    stale: Option<&str>,
    margin: chrono::Duration,
) -> Locked {
    let outcome = Mutex::new(None);
    let found = state
        .store
        .lock_credentials(
            integration,
            Box::new(|sealed| {
                Box::pin(async {
                    let (result, write) =
                        refresh_locked(state, integration, parts, stale, margin, sealed).await;
                    *lock(&outcome) = Some(result);
                    write
                })
            }),
        )
        .await;
    let outcome = outcome
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match (found, outcome) {
        (Err(error), _) => Locked::Failed(RefreshError::Internal(format!(
            "locking the credentials: {error}"
        ))),
        (Ok(true), Some(outcome)) => outcome,
        (Ok(_), _) => Locked::Failed(RefreshError::Internal(format!(
            "integration {integration} is gone"
        ))),
    }
}

/// Keeps a good token for the next calls, or records the failure: a back-off, and for a
/// refused grant the connection check brought forward.
async fn settle(
    state: &AppState,
    integration: &IntegrationId,
    version: i64,
    margin: chrono::Duration,
    outcome: Locked,
) -> Result<Arc<Zeroizing<String>>, RefreshError> {
    let tokens = &state.oauth_tokens;
    let id = integration.as_str();
    match outcome {
        Locked::Stored(set) | Locked::Refreshed(set) => {
            lock(&tokens.backoff).remove(id);
            lock(&tokens.refused).remove(id);
            let stale_at = set.expires_at.map(|expires_at| {
                let lifetime = expires_at - set.issued_at;
                expires_at - margin.min(lifetime / 2)
            });
            let token = Arc::new(Zeroizing::new(set.access_token.clone()));
            tokens.keep(id, version, token.clone(), stale_at);
            Ok(token)
        }
        Locked::Failed(error) => {
            lock(&tokens.cached).remove(id);
            let revoked = matches!(error, RefreshError::Revoked | RefreshError::App(_));
            if matches!(error, RefreshError::Failed(_)) || revoked {
                let backoff = Backoff {
                    until: Utc::now() + BACKOFF,
                    revoked,
                };
                lock(&tokens.backoff).insert(id.to_owned(), backoff);
            }
            if revoked {
                // The connection check decides, with the grace period and the webhook.
                checks::soon(state, integration).await;
            }
            Err(error)
        }
    }
}

/// Under the lock: reads the stored tokens again (another process may have refreshed while
/// this one waited), keeps them when fresh, else refreshes with `parts`. Makes no store call:
/// on SQLite this process's only writer is held, on PostgreSQL one pooled connection.
async fn refresh_locked(
    state: &AppState,
    id: &IntegrationId,
    parts: &TokenParts<'_>,
    stale: Option<&str>,
    margin: chrono::Duration,
    sealed: Sealed,
) -> (Locked, Option<Sealed>) {
    let credentials: Zeroizing<Vec<u8>> =
        match state.vault.open(Purpose::Credentials, id.as_str(), &sealed) {
            Ok(plaintext) => plaintext,
            Err(e) => {
                return failed(RefreshError::Internal(format!(
                    "opening the credentials: {e}"
                )));
            }
        };
    let mut credentials: Credentials = match serde_json::from_slice(&credentials) {
        Ok(map) => map,
        Err(e) => {
            // The error could quote the plaintext: only its kind is kept.
            return failed(RefreshError::Internal(format!(
                "the credentials are not a map ({:?})",
                e.classify()
            )));
        }
    };
    let Some(current) = TokenSet::from_credentials(&credentials) else {
        return failed(RefreshError::Internal(format!(
            "{id} was not connected by signing in"
        )));
    };
    let refused = stale.is_some_and(|stale| stale == current.access_token);
    if !refused && current.fresh(Utc::now(), margin) {
        return (Locked::Stored(current), None);
    }
    let Some(refresh_token) = current.refresh_token.clone() else {
        return failed(RefreshError::Revoked);
    };
    if current.app != parts.issued_to {
        // Relinked with another app while this one waited: the next call starts afresh.
        return failed(RefreshError::Failed(
            "the integration changed during the refresh".into(),
        ));
    }
    match parts.request().refresh(&refresh_token).await {
        Ok(mut set) => {
            tracing::info!(integration_id = %id, rotated = set.refresh_token.as_deref() != Some(refresh_token.as_str()), "OAuth tokens refreshed");
            // The tokens stay the revision's they were issued to, whichever revision's secret
            // (the same client's) refreshed them.
            set.app = current.app.clone();
            set.write_into(&mut credentials);
            let plaintext = Zeroizing::new(
                serde_json::to_vec(&credentials).expect("a map of strings serialises"),
            );
            let resealed = state
                .vault
                .seal(Purpose::Credentials, id.as_str(), &plaintext);
            state.metrics.oauth_refresh("refreshed");
            (Locked::Refreshed(set), Some(resealed))
        }
        Err(error) => {
            state.metrics.oauth_refresh(error.as_str());
            tracing::warn!(integration_id = %id, tool = %parts.tool.id, error = %error, "OAuth refresh failed");
            let error = match error {
                TokenError::InvalidGrant => RefreshError::Revoked,
                TokenError::Client(code) => RefreshError::App(code),
                other => RefreshError::Failed(other.to_string()),
            };
            failed(error)
        }
    }
}

fn failed(error: RefreshError) -> (Locked, Option<Sealed>) {
    (Locked::Failed(error), None)
}

/// Everything a token request of an integration needs, loaded: its app revision and opened
/// secret, and its endpoints.
pub struct TokenParts<'a> {
    tool: &'a Tool,
    /// The revision the tokens were issued to.
    issued_to: String,
    /// The revision whose secret is used: that one, or a later revision of the same client
    /// (an operator who rotates the client secret saves a new revision with the same id).
    app: plugboard_store::OauthApp,
    secret: Zeroizing<String>,
    endpoints: client::Endpoints,
    redirect_uri: String,
}

impl<'a> TokenParts<'a> {
    /// Loads the revision `app_id` and the endpoints for `values`.
    pub async fn load(
        state: &AppState,
        tool: &'a Tool,
        app_id: &str,
        values: &Credentials,
    ) -> Result<Self, RefreshError> {
        let app = state
            .store
            .oauth_app(app_id)
            .await
            .map_err(|e| RefreshError::Internal(format!("reading the OAuth app: {e}")))?
            .ok_or_else(|| RefreshError::App(format!("app {app_id} no longer exists")))?;
        let current = state
            .store
            .current_oauth_app(&app.environment_id, &app.tool)
            .await
            .map_err(|e| RefreshError::Internal(format!("reading the OAuth app: {e}")))?;
        let app = match current {
            Some(current) if current.client_id == app.client_id => current,
            _ => app,
        };
        let secret =
            apps::open_secret(state, &app).map_err(|e| RefreshError::Internal(e.to_string()))?;
        let endpoints = client::endpoints(&state.config, tool, values, &app)
            .map_err(|e| RefreshError::Internal(format!("the token endpoint: {e}")))?;
        Ok(Self {
            tool,
            issued_to: app_id.to_owned(),
            app,
            secret,
            endpoints,
            redirect_uri: super::redirect_uri(&state.config),
        })
    }

    /// The token request these parts make.
    pub fn request(&self) -> TokenRequest<'_> {
        TokenRequest {
            settings: self
                .tool
                .oauth
                .as_ref()
                .expect("only tools with [oauth] have token parts"),
            endpoints: &self.endpoints,
            app: &self.app,
            secret: &self.secret,
            redirect_uri: &self.redirect_uri,
        }
    }
}
