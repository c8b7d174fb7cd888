//! The operators' OAuth apps: per tool and environment, the client id, the sealed client
//! secret and the scopes, kept as revisions (Kombo's partner credentials). New connections and
//! relinks use the current revision; an integration keeps refreshing with the revision it was
//! created with, even after the app changed or was removed.

use std::collections::BTreeMap;

use chrono::Utc;
use plugboard_catalog::Tool;
use plugboard_store::{Environment, NewOauthApp, OauthApp, ids};
use zeroize::Zeroizing;

use crate::{
    AppState,
    audit::{Action, Caller},
    error::{DomainError, Missing},
    vault::Purpose,
};

/// The longest client id accepted; vendors issue ids of a few dozen characters.
const MAX_CLIENT_ID: usize = 512;
/// The longest client secret accepted.
const MAX_CLIENT_SECRET: usize = 4096;
/// Most scopes an app may request, and the longest one.
const MAX_SCOPES: usize = 200;
const MAX_SCOPE: usize = 256;

/// What an operator registers: the client the vendor issued and, optionally, the scopes.
pub struct AppInput {
    /// The client id.
    pub client_id: String,
    /// The client secret; sealed at once, never shown again.
    pub client_secret: Zeroizing<String>,
    /// The scopes to request instead of the catalog's defaults.
    pub scopes: Option<Vec<String>>,
    /// What the tool's endpoints need of the app (`oauth.app_settings`: Rippling's app name).
    pub settings: BTreeMap<String, String>,
}

/// The catalog tool `id` if end users can sign in to it.
pub fn oauth_tool<'a>(state: &'a AppState, id: &str) -> Result<&'a Tool, DomainError> {
    match state.catalog.get(id) {
        Some(tool) if tool.signs_in() => Ok(tool),
        Some(tool) => Err(DomainError::invalid(
            "tool",
            format!(
                "{} has no OAuth sign-in in Plugboard's catalog; its end users connect with an API key",
                tool.label
            ),
        )),
        None => Err(DomainError::invalid(
            "tool",
            format!("{id:?} is not a tool Plugboard knows"),
        )),
    }
}

/// Registers a new revision of `tool`'s app in `environment`. The previous revision stays for
/// the integrations created with it.
pub async fn save(
    state: &AppState,
    environment: &Environment,
    tool: &str,
    input: AppInput,
    caller: &Caller,
) -> Result<OauthApp, DomainError> {
    let tool = oauth_tool(state, tool)?;
    let client_id = input.client_id.trim();
    if client_id.is_empty() || client_id.len() > MAX_CLIENT_ID || !printable(client_id) {
        return Err(DomainError::invalid(
            "client_id",
            format!(
                "must be the client id the vendor issued: 1 to {MAX_CLIENT_ID} printable characters"
            ),
        ));
    }
    let secret = input.client_secret.trim();
    if secret.is_empty() || secret.len() > MAX_CLIENT_SECRET || !printable(secret) {
        return Err(DomainError::invalid(
            "client_secret",
            format!(
                "must be the client secret the vendor issued: 1 to {MAX_CLIENT_SECRET} printable characters"
            ),
        ));
    }
    let scopes = input.scopes.map(checked_scopes).transpose()?;
    let settings = checked_settings(tool, input.settings)?;
    let id = format!("oapp_{}", ids::new_id());
    let new = NewOauthApp {
        client_secret: state
            .vault
            .seal(Purpose::OauthClientSecret, &id, secret.as_bytes()),
        id,
        environment_id: environment.id.clone(),
        tool: tool.id.clone(),
        client_id: client_id.to_owned(),
        scopes,
        settings,
        created_at: Utc::now(),
    };
    let app = state.store.put_oauth_app(&new).await?;
    tracing::info!(tool = %app.tool, revision = app.revision, environment = %environment.name, "OAuth app saved");
    let entry = caller
        .entry(Action::OauthAppSaved)
        .target("oauth_app", &app.id)
        .detail("tool", app.tool.clone())
        .detail("revision", app.revision)
        .detail("client_id", app.client_id.clone());
    caller.record(state, &environment.id, entry).await;
    Ok(app)
}

/// The current revision of `tool`'s app in `environment`.
pub async fn current(
    state: &AppState,
    environment: &Environment,
    tool: &str,
) -> Result<OauthApp, DomainError> {
    let tool = oauth_tool(state, tool)?;
    state
        .store
        .current_oauth_app(&environment.id, &tool.id)
        .await?
        .ok_or_else(|| DomainError::NotFound(Missing::OauthApp(tool.id.clone())))
}

/// Every current app of `environment`.
pub async fn list(
    state: &AppState,
    environment: &Environment,
) -> Result<Vec<OauthApp>, DomainError> {
    Ok(state.store.current_oauth_apps(&environment.id).await?)
}

/// Removes `tool`'s app from `environment`: its end users can no longer sign in to the tool
/// (it leaves the picker), while existing integrations keep refreshing with their revision.
pub async fn remove(
    state: &AppState,
    environment: &Environment,
    tool: &str,
    caller: &Caller,
) -> Result<(), DomainError> {
    let app = current(state, environment, tool).await?;
    if !state
        .store
        .retire_oauth_app(&environment.id, &app.tool, Utc::now())
        .await?
    {
        return Err(DomainError::NotFound(Missing::OauthApp(app.tool.clone())));
    }
    tracing::info!(tool = %app.tool, environment = %environment.name, "OAuth app removed");
    // The same target as the revision's `oauth_app.saved`, so the trail of one app reads whole.
    let entry = caller
        .entry(Action::OauthAppRemoved)
        .target("oauth_app", &app.id)
        .detail("tool", app.tool.clone())
        .detail("revision", app.revision);
    caller.record(state, &environment.id, entry).await;
    Ok(())
}

/// The client secret of `app`, opened for one token request.
pub fn open_secret(state: &AppState, app: &OauthApp) -> Result<Zeroizing<String>, DomainError> {
    let plaintext = state
        .vault
        .open(Purpose::OauthClientSecret, &app.id, &app.client_secret)
        .map_err(|e| DomainError::Internal(format!("opening the secret of {}: {e}", app.id)))?;
    String::from_utf8(plaintext.to_vec())
        .map(Zeroizing::new)
        .map_err(|_| DomainError::Internal(format!("the secret of {} is not text", app.id)))
}

/// The scopes to request with `app` for `tool`: the operator's, else the catalog's.
pub fn scopes<'a>(tool: &'a Tool, app: &'a OauthApp) -> &'a [String] {
    match &app.scopes {
        Some(scopes) => scopes,
        None => tool.oauth.as_ref().map_or(&[], |oauth| &oauth.scopes),
    }
}

fn checked_scopes(scopes: Vec<String>) -> Result<Vec<String>, DomainError> {
    if scopes.len() > MAX_SCOPES {
        return Err(DomainError::invalid(
            "scopes",
            format!("at most {MAX_SCOPES} scopes"),
        ));
    }
    for scope in &scopes {
        // RFC 6749 §3.3: scope tokens are printable ASCII without space, `"` or `\`.
        let ok = !scope.is_empty()
            && scope.len() <= MAX_SCOPE
            && scope
                .bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\');
        if !ok {
            let shown: String = scope.chars().take(60).collect();
            return Err(DomainError::invalid(
                "scopes",
                format!(
                    "{shown:?} is not a scope: printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3)"
                ),
            ));
        }
    }
    Ok(scopes)
}

/// The app's settings: exactly those the tool's endpoints name, each matching its pattern.
fn checked_settings(
    tool: &Tool,
    mut given: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, DomainError> {
    let declared = tool
        .oauth
        .as_ref()
        .map(|oauth| &oauth.app_settings)
        .ok_or_else(|| DomainError::invalid("tool", "the tool has no OAuth sign-in"))?;
    if let Some(unknown) = given.keys().find(|name| !declared.contains_key(*name)) {
        let shown: String = unknown.chars().take(40).collect();
        let known: Vec<&str> = declared.keys().map(String::as_str).collect();
        return Err(DomainError::invalid(
            "settings",
            format!(
                "{} takes no setting {shown:?} (it takes: {known:?})",
                tool.label
            ),
        ));
    }
    let mut settings = BTreeMap::new();
    for (name, setting) in declared {
        let value = given
            .remove(name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default();
        if value.is_empty() || !setting.pattern.is_match(&value) {
            return Err(DomainError::invalid(
                "settings",
                format!(
                    "{name} is required for {} and must match {}: {}",
                    tool.label,
                    setting.pattern.as_str(),
                    setting.help
                ),
            ));
        }
        settings.insert(name.clone(), value);
    }
    Ok(settings)
}

fn printable(value: &str) -> bool {
    value.chars().all(|c| !c.is_control())
}
