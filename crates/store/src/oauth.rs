//! OAuth sign-in: the operators' OAuth apps, kept as revisions, and the sign-in attempts of
//! the hosted flow, each answered by at most one callback.
//!
//! An integration's OAuth tokens are not here: they are part of its sealed credentials, so
//! relinking, deleting and re-sealing treat them like any other credential. What this area
//! adds for them is [`Oauth::lock_credentials`], the single-flight refresh across processes.

use std::{collections::BTreeMap, future::Future, pin::Pin};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{Result, Sealed, ids::IntegrationId};

/// One revision of an operator's OAuth app for a tool in an environment. Revisions are never
/// changed: a change is a new revision, so an integration keeps refreshing with the client it
/// was created with while new connections use the latest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OauthApp {
    /// `oapp_` and 24 base58 characters; the associated data of the sealed secret.
    pub id: String,
    /// The environment it serves.
    pub environment_id: String,
    /// The catalog tool id.
    pub tool: String,
    /// 1 for the first revision of (environment, tool), one more for each change.
    pub revision: u32,
    /// The client id the vendor issued.
    pub client_id: String,
    /// The client secret, sealed by the vault.
    pub client_secret: Sealed,
    /// The scopes to request; `None` requests the catalog's defaults for the tool.
    pub scopes: Option<Vec<String>>,
    /// What the tool's endpoints need of the operator's app besides the client (Rippling's
    /// app name), by the catalog's `oauth.app_settings` names.
    pub settings: BTreeMap<String, String>,
    /// When this revision was stored.
    pub created_at: DateTime<Utc>,
    /// When the operator removed the app (only the latest revision can be removed); a removed
    /// app serves no new connection, but its integrations keep refreshing with it.
    pub retired_at: Option<DateTime<Utc>>,
}

/// A new revision: [`Oauth::put_oauth_app`] numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOauthApp {
    /// `oapp_…`, chosen by the caller because it is the sealed secret's associated data.
    pub id: String,
    /// The environment it serves.
    pub environment_id: String,
    /// The catalog tool id.
    pub tool: String,
    /// The client id the vendor issued.
    pub client_id: String,
    /// The client secret, sealed with the record id as associated data.
    pub client_secret: Sealed,
    /// The scopes to request; `None` for the catalog's defaults.
    pub scopes: Option<Vec<String>>,
    /// What the tool's endpoints need of the app besides the client.
    pub settings: BTreeMap<String, String>,
    /// Now.
    pub created_at: DateTime<Utc>,
}

/// A sign-in attempt of the hosted flow: one click on "Sign in with …", from the moment the
/// popup (or the page) is sent to the vendor until the flow has read how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OauthAttempt {
    /// SHA-256 of the `state` sent to the vendor; the state itself is never stored.
    pub state_hash: Vec<u8>,
    /// The attempt's public id, known to the flow page that started it (it asks for the
    /// outcome by it); 24 base58 characters.
    pub id: String,
    /// The link (its `jti`) the attempt belongs to.
    pub link_id: String,
    /// The link's environment.
    pub environment_id: String,
    /// The catalog tool id.
    pub tool: String,
    /// SHA-256 of the cookie that binds the attempt to the browser that started it.
    pub browser_hash: Vec<u8>,
    /// What the callback needs and no one else may read (the PKCE verifier, the link token,
    /// the values typed before sign-in, the app revision), sealed with the attempt id as
    /// associated data.
    pub sealed: Sealed,
    /// When the attempt started.
    pub created_at: DateTime<Utc>,
    /// When the callback stops being accepted (10 minutes after the start).
    pub expires_at: DateTime<Utc>,
    /// When its callback consumed it.
    pub consumed_at: Option<DateTime<Utc>>,
    /// How it ended (`done`, `denied`, `failed`, `closed`, `blocked`, …); `None` while pending.
    pub outcome: Option<String>,
}

/// How an attempt ended, as the flow reads it once: the outcome and, when it succeeded, the
/// sealed activation token to hand over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OauthResult {
    /// The outcome recorded by [`Oauth::finish_oauth_attempt`].
    pub outcome: String,
    /// The activation token (sealed with the attempt id as associated data), for `done`.
    pub result: Option<Sealed>,
}

/// The work [`Oauth::lock_credentials`] runs under the lock: given the integration's sealed
/// credentials as stored now, it returns the credentials to store instead, or `None` to
/// leave them.
pub type CredentialsUpdate<'a> = Pin<Box<dyn Future<Output = Option<Sealed>> + Send + 'a>>;

/// OAuth apps, sign-in attempts and the refresh lock.
#[async_trait]
pub trait Oauth: Send + Sync {
    /// Stores a new revision of the (environment, tool) app, numbered one above the latest
    /// (removed ones included), and returns it; it is the current revision from now on.
    async fn put_oauth_app(&self, new: &NewOauthApp) -> Result<OauthApp>;

    /// The current revision of the (environment, tool) app: the latest, unless removed.
    async fn current_oauth_app(&self, environment_id: &str, tool: &str)
    -> Result<Option<OauthApp>>;

    /// Every current app of the environment, by tool id: which OAuth tools its end users can
    /// sign in to.
    async fn current_oauth_apps(&self, environment_id: &str) -> Result<Vec<OauthApp>>;

    /// A revision by id, removed or not: the app an integration refreshes with.
    async fn oauth_app(&self, id: &str) -> Result<Option<OauthApp>>;

    /// Removes the current app of (environment, tool): it serves no new connection; the
    /// integrations created with it keep refreshing. `false` when there is none.
    async fn retire_oauth_app(
        &self,
        environment_id: &str,
        tool: &str,
        at: DateTime<Utc>,
    ) -> Result<bool>;

    /// Records a sign-in attempt as it starts.
    async fn create_oauth_attempt(&self, attempt: &OauthAttempt) -> Result<()>;

    /// Consumes the attempt whose state hashes to `state_hash`, if it is unexpired and
    /// unconsumed at `now`, and returns it: of any number of callbacks with one state,
    /// exactly one gets it (a replay gets `None`, as does an unknown or expired state).
    async fn consume_oauth_attempt(
        &self,
        state_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<OauthAttempt>>;

    /// Records how a consumed attempt ended, with the sealed activation token when it
    /// succeeded. `false` if the attempt is gone or already has an outcome.
    async fn finish_oauth_attempt(
        &self,
        id: &str,
        outcome: &str,
        result: Option<&Sealed>,
    ) -> Result<bool>;

    /// The attempt `id` of `link_id`, for the flow's polling: `None` if unknown (or of
    /// another link).
    async fn oauth_attempt(&self, link_id: &str, id: &str) -> Result<Option<OauthAttempt>>;

    /// Takes the outcome of the finished attempt `id` of `link_id`, once: the sealed
    /// activation token is handed out a single time, then erased. `None` when the attempt is
    /// unknown, of another link, still pending, or already taken.
    async fn take_oauth_result(&self, link_id: &str, id: &str) -> Result<Option<OauthResult>>;

    /// Deletes up to `limit` attempts that expired before `before`; returns how many.
    async fn prune_oauth_attempts(&self, before: DateTime<Utc>, limit: u32) -> Result<u64>;

    /// Runs `update` on the integration's sealed credentials while holding them locked
    /// against every process (PostgreSQL: `SELECT … FOR UPDATE` on the row; SQLite: the
    /// database's write lock, taken before the read), and stores what it returns in the same
    /// transaction. The credentials are read after the lock is held, so a refresh that waited
    /// sees the tokens another process just stored. `false` when the integration is gone.
    /// `updated_at` is not changed: new tokens are not a change of the integration.
    async fn lock_credentials<'a>(
        &'a self,
        id: &'a IntegrationId,
        update: Box<dyn FnOnce(Sealed) -> CredentialsUpdate<'a> + Send + 'a>,
    ) -> Result<bool>;
}
