//! Rows of the OAuth tables: app revisions, sign-in attempts and the result an attempt hands
//! over once.

use super::{corrupt, count, optional_millis};
use crate::{
    Result, Sealed, StoreError, from_millis,
    oauth::{OauthApp, OauthAttempt, OauthResult},
};

/// Columns of `oauth_apps`, in [`OauthAppRow`]'s order.
pub const OAUTH_APP_COLUMNS: &str = "id, environment_id, tool, revision, client_id, \
    secret_key_id, secret_nonce, secret_ciphertext, scopes, created_at, retired_at, settings";

/// `oauth_apps` row.
#[derive(Debug, sqlx::FromRow)]
pub struct OauthAppRow {
    /// [`OauthApp::id`].
    pub id: String,
    /// [`OauthApp::environment_id`].
    pub environment_id: String,
    /// [`OauthApp::tool`].
    pub tool: String,
    /// [`OauthApp::revision`].
    pub revision: i64,
    /// [`OauthApp::client_id`].
    pub client_id: String,
    /// Key id of [`OauthApp::client_secret`].
    pub secret_key_id: String,
    /// Nonce of [`OauthApp::client_secret`].
    pub secret_nonce: Vec<u8>,
    /// Ciphertext of [`OauthApp::client_secret`].
    pub secret_ciphertext: Vec<u8>,
    /// [`OauthApp::scopes`] as a JSON array, `NULL` for the catalog's defaults.
    pub scopes: Option<String>,
    /// [`OauthApp::created_at`], in milliseconds since the epoch.
    pub created_at: i64,
    /// [`OauthApp::retired_at`], in milliseconds since the epoch.
    pub retired_at: Option<i64>,
    /// [`OauthApp::settings`] as a JSON object, `NULL` for none.
    pub settings: Option<String>,
}

/// The stored spelling of [`OauthApp::settings`]: a JSON object, `NULL` when empty.
pub fn encode_settings(settings: &std::collections::BTreeMap<String, String>) -> Option<String> {
    (!settings.is_empty())
        .then(|| serde_json::to_string(settings).expect("a map of strings is JSON"))
}

/// The stored spelling of [`OauthApp::scopes`]: a JSON array, so any scope string survives
/// (vendors' scopes are URLs, dotted names, or contain colons and commas).
pub fn encode_scopes(scopes: Option<&[String]>) -> Option<String> {
    scopes.map(|scopes| serde_json::to_string(scopes).expect("a list of strings is JSON"))
}

impl TryFrom<OauthAppRow> for OauthApp {
    type Error = StoreError;

    fn try_from(row: OauthAppRow) -> Result<Self> {
        let scopes = row
            .scopes
            .map(|text| serde_json::from_str(&text).map_err(|_| corrupt("OAuth scopes", &text)))
            .transpose()?;
        let settings = row
            .settings
            .map(|text| {
                serde_json::from_str(&text).map_err(|_| corrupt("OAuth app settings", &text))
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Self {
            settings,
            revision: count("OAuth app revision", row.revision)?,
            client_secret: Sealed {
                key_id: row.secret_key_id,
                nonce: row.secret_nonce,
                ciphertext: row.secret_ciphertext,
            },
            scopes,
            created_at: from_millis(row.created_at)?,
            retired_at: optional_millis(row.retired_at)?,
            id: row.id,
            environment_id: row.environment_id,
            tool: row.tool,
            client_id: row.client_id,
        })
    }
}

/// Columns of `oauth_attempts` that make an [`OauthAttempt`], in [`OauthAttemptRow`]'s order
/// (the result columns are read only by taking the result).
pub const OAUTH_ATTEMPT_COLUMNS: &str = "state_hash, id, link_id, environment_id, tool, \
    browser_hash, key_id, nonce, ciphertext, created_at, expires_at, consumed_at, outcome";

/// `oauth_attempts` row, without its result.
#[derive(Debug, sqlx::FromRow)]
pub struct OauthAttemptRow {
    /// [`OauthAttempt::state_hash`].
    pub state_hash: Vec<u8>,
    /// [`OauthAttempt::id`].
    pub id: String,
    /// [`OauthAttempt::link_id`].
    pub link_id: String,
    /// [`OauthAttempt::environment_id`].
    pub environment_id: String,
    /// [`OauthAttempt::tool`].
    pub tool: String,
    /// [`OauthAttempt::browser_hash`].
    pub browser_hash: Vec<u8>,
    /// Key id of [`OauthAttempt::sealed`].
    pub key_id: String,
    /// Nonce of [`OauthAttempt::sealed`].
    pub nonce: Vec<u8>,
    /// Ciphertext of [`OauthAttempt::sealed`].
    pub ciphertext: Vec<u8>,
    /// [`OauthAttempt::created_at`], in milliseconds since the epoch.
    pub created_at: i64,
    /// [`OauthAttempt::expires_at`], in milliseconds since the epoch.
    pub expires_at: i64,
    /// [`OauthAttempt::consumed_at`], in milliseconds since the epoch.
    pub consumed_at: Option<i64>,
    /// [`OauthAttempt::outcome`].
    pub outcome: Option<String>,
}

impl TryFrom<OauthAttemptRow> for OauthAttempt {
    type Error = StoreError;

    fn try_from(row: OauthAttemptRow) -> Result<Self> {
        Ok(Self {
            sealed: Sealed {
                key_id: row.key_id,
                nonce: row.nonce,
                ciphertext: row.ciphertext,
            },
            created_at: from_millis(row.created_at)?,
            expires_at: from_millis(row.expires_at)?,
            consumed_at: optional_millis(row.consumed_at)?,
            state_hash: row.state_hash,
            id: row.id,
            link_id: row.link_id,
            environment_id: row.environment_id,
            tool: row.tool,
            browser_hash: row.browser_hash,
            outcome: row.outcome,
        })
    }
}

/// The outcome and result columns of `oauth_attempts`, as taking the result reads them.
#[derive(Debug, sqlx::FromRow)]
pub struct OauthResultRow {
    /// [`OauthResult::outcome`]; the statement that reads it requires it to be set.
    pub outcome: String,
    /// Key id of [`OauthResult::result`].
    pub result_key_id: Option<String>,
    /// Nonce of [`OauthResult::result`].
    pub result_nonce: Option<Vec<u8>>,
    /// Ciphertext of [`OauthResult::result`].
    pub result_ciphertext: Option<Vec<u8>>,
}

impl TryFrom<OauthResultRow> for OauthResult {
    type Error = StoreError;

    fn try_from(row: OauthResultRow) -> Result<Self> {
        let result = match (row.result_key_id, row.result_nonce, row.result_ciphertext) {
            (Some(key_id), Some(nonce), Some(ciphertext)) => Some(Sealed {
                key_id,
                nonce,
                ciphertext,
            }),
            (None, None, None) => None,
            _ => return Err(corrupt("OAuth result", "partly NULL")),
        };
        Ok(Self {
            outcome: row.outcome,
            result,
        })
    }
}
