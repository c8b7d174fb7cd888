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
use crate::{AppState, checks, integrations::Credentials, lock, vault::Purpose};

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
    fn cached(&self, id: &str, now: DateTime<Utc>) -> Option<Arc<Zeroizing<String>>> {
        let cached = lock(&self.cached);
        let entry = cached.get(id)?;
        entry
            .stale_at
            .is_none_or(|at| now < at)
            .then(|| entry.token.clone())
    }

    fn keep(&self, id: &str, token: Arc<Zeroizing<String>>, stale_at: Option<DateTime<Utc>>) {
        let mut cached = lock(&self.cached);
        // Bounded by the number of OAuth integrations in use; expired entries go first.
        if cached.len() >= 10_000 {
            let now = Utc::now();
            cached.retain(|_, entry| entry.stale_at.is_none_or(|at| now < at));
        }
        cached.insert(id.to_owned(), Cached { token, stale_at });
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

/// A fresh access token for `integration` of `tool`: the one in hand when it is fresh, else a
/// refreshed one. `stale` is a token the tool just refused with 401: it is replaced even if
/// its expiry says it is fresh (unless another refresh already replaced it).
pub async fn access_token(
    state: &AppState,
    integration: &IntegrationId,
    tool: &Tool,
    stale: Option<&str>,
) -> Result<Arc<Zeroizing<String>>, RefreshError> {
    let tokens = &state.oauth_tokens;
    let id = integration.as_str();
    let now = Utc::now();
    let remembered = lock(&tokens.refused).get(id).cloned();
    let stale = stale.or(remembered.as_deref().map(String::as_str));
    let replaced = |token: &Arc<Zeroizing<String>>| stale.is_none_or(|s| token.as_str() != s);
    if let Some(token) = tokens.cached(id, now).filter(replaced) {
        return Ok(token);
    }
    let flight = tokens.flight(id);
    let _turn = flight.lock().await;
    // Whoever held the turn before may have just refreshed.
    if let Some(token) = tokens.cached(id, Utc::now()).filter(replaced) {
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
    let outcome = Mutex::new(None);
    let found = state
        .store
        .lock_credentials(
            integration,
            Box::new(|sealed| {
                Box::pin(async {
                    let (result, write) =
                        refresh_locked(state, integration, tool, stale, margin, sealed).await;
                    *lock(&outcome) = Some(result);
                    write
                })
            }),
        )
        .await
        .map_err(|e| RefreshError::Internal(format!("locking the credentials: {e}")))?;
    let outcome = outcome
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let outcome = match (found, outcome) {
        (false, _) | (_, None) => {
            return Err(RefreshError::Internal(format!("integration {id} is gone")));
        }
        (true, Some(outcome)) => outcome,
    };
    match outcome {
        Locked::Stored(set) | Locked::Refreshed(set) => {
            lock(&tokens.backoff).remove(id);
            lock(&tokens.refused).remove(id);
            let stale_at = set.expires_at.map(|expires_at| {
                let lifetime = expires_at - set.issued_at;
                expires_at - margin.min(lifetime / 2)
            });
            let token = Arc::new(Zeroizing::new(set.access_token.clone()));
            tokens.keep(id, token.clone(), stale_at);
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

/// Under the lock: reads the stored tokens, keeps them when fresh, else refreshes. Returns
/// the outcome and what to store.
async fn refresh_locked(
    state: &AppState,
    id: &IntegrationId,
    tool: &Tool,
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
            return failed(RefreshError::Internal(format!(
                "the credentials are not a map: {e}"
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
    let request = match TokenParts::load(state, tool, &current.app, &credentials).await {
        Ok(parts) => parts,
        Err(error) => return failed(error),
    };
    let refreshed = request.request().refresh(&refresh_token).await;
    match refreshed {
        Ok(set) => {
            tracing::info!(integration_id = %id, rotated = set.refresh_token.as_deref() != Some(refresh_token.as_str()), "OAuth tokens refreshed");
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
            tracing::warn!(integration_id = %id, tool = %tool.id, error = %error, "OAuth refresh failed");
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
        let secret =
            apps::open_secret(state, &app).map_err(|e| RefreshError::Internal(e.to_string()))?;
        let endpoints = client::endpoints(&state.config, tool, values, &app)
            .map_err(|e| RefreshError::Internal(format!("the token endpoint: {e}")))?;
        Ok(Self {
            tool,
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
