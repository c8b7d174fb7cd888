//! OAuth apps (Plugboard extension; Kombo keeps partner credentials in its dashboard): the
//! client an operator registered at a vendor, per tool and per environment (the API key's).
//! Saving makes a new revision; the client secret goes in and never comes out, not even its
//! length. The operations are `crate::oauth::apps`; this only speaks HTTP.

use std::collections::BTreeMap;

use axum::{Json, extract::State};
use plugboard_catalog::Tool;
use plugboard_store::OauthApp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use crate::{
    AppState,
    api::{Empty, Success, success},
    audit,
    error::{ApiResult, ErrorEnvelope},
    events::format_time,
    extract::{ApiJson, ApiPath, Authenticated},
    oauth::{
        self,
        apps::{self, AppInput},
    },
};

/// One revision of an OAuth app (never its client secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct OauthAppOut {
    /// The revision's id (`oapp_…`), as the audit trail names it.
    pub id: String,
    /// The catalog tool id, e.g. `gusto`.
    pub tool: String,
    /// 1 for the first app of this tool in the environment, one more for each save (removed
    /// revisions count): integrations keep refreshing with the revision they were created with.
    pub revision: u32,
    /// The client id the vendor issued.
    pub client_id: String,
    /// The scopes end users are asked to grant: those saved with the app, else the catalog's
    /// defaults for the tool.
    pub scopes: Vec<String>,
    /// Whether `scopes` are the app's own (`true`) or the catalog's defaults (`false`).
    pub custom_scopes: bool,
    /// What the tool's sign-in URLs need of the app besides the client (Rippling's
    /// `app_name`); empty for most tools.
    pub settings: BTreeMap<String, String>,
    /// The redirect URI to register at the vendor: the same for every tool of this deployment
    /// (`PLUGBOARD_PUBLIC_URL` + `/connect/oauth/callback`).
    pub redirect_uri: String,
    /// When this revision was saved.
    pub created_at: String,
}

impl OauthAppOut {
    fn new(state: &AppState, tool: &Tool, app: &OauthApp) -> Self {
        Self {
            id: app.id.clone(),
            tool: app.tool.clone(),
            revision: app.revision,
            client_id: app.client_id.clone(),
            scopes: apps::scopes(tool, app).to_vec(),
            custom_scopes: app.scopes.is_some(),
            settings: app.settings.clone(),
            redirect_uri: oauth::redirect_uri(&state.config),
            created_at: format_time(app.created_at),
        }
    }
}

/// Body of `PUT /v1/oauth-apps/{tool}`. Unknown fields are refused, so a misspelt `scopes`
/// cannot silently fall back to the defaults.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OauthAppIn {
    /// The client id the vendor issued, 1 to 512 printable characters.
    pub client_id: String,
    /// The client secret the vendor issued, 1 to 4096 printable characters. It is sealed at
    /// once and never shown again.
    pub client_secret: String,
    /// The scopes to request instead of the catalog's defaults (RFC 6749 scope tokens: no
    /// spaces, quotes or backslashes; at most 200). Left out or `null`: the defaults.
    pub scopes: Option<Vec<String>>,
    /// Values the tool's sign-in URLs need of the app, by name: `{"app_name": "…"}` for
    /// Rippling (`GET /v1/oauth-apps` lists what each tool takes); empty for most tools.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

// Hand-written so that a logged body can never show the secret.
impl std::fmt::Debug for OauthAppIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OauthAppIn")
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A tool end users can sign in to, and whether this environment has an app for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OauthToolOut {
    /// The catalog tool id.
    pub tool: String,
    /// The tool's name.
    pub label: String,
    /// Whether the environment has a current app for it: only then can end users sign in
    /// (an OAuth-only tool is offered only then).
    pub configured: bool,
    /// The current revision; `null` when none is configured.
    pub app: Option<OauthAppOut>,
    /// The redirect URI to register at the vendor.
    pub redirect_uri: String,
}

/// Every tool of the catalog with OAuth sign-in.
#[derive(Debug, Serialize, ToSchema)]
pub struct OauthToolList {
    /// The tools, in catalog order.
    pub results: Vec<OauthToolOut>,
}

/// Save an OAuth app (Plugboard extension).
///
/// Stores a new revision of the tool's app in the API key's environment; new connections use
/// it at once, existing integrations keep refreshing with the revision they were created with.
#[utoipa::path(
    put, path = "/v1/oauth-apps/{tool}", tag = "General", operation_id = "PutOauthAppsTool",
    params(("tool" = String, Path, description = "A catalog tool with OAuth sign-in, e.g. `gusto`")),
    request_body = OauthAppIn,
    responses(
        (status = 200, description = "The new revision", body = Success<OauthAppOut>),
        (status = 400, description = "Not an OAuth tool, or an invalid client id, secret or scope", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn put_oauth_app(
    State(state): State<AppState>,
    auth: Authenticated,
    client: audit::Client,
    ApiPath(tool): ApiPath<String>,
    ApiJson(body): ApiJson<OauthAppIn>,
) -> ApiResult<Json<Success<OauthAppOut>>> {
    let caller = audit::Caller::api(&auth, client);
    let input = AppInput {
        client_id: body.client_id,
        client_secret: Zeroizing::new(body.client_secret),
        scopes: body.scopes,
        settings: body.settings,
    };
    let app = apps::save(&state, &auth.environment, &tool, input, &caller).await?;
    let tool = apps::oauth_tool(&state, &app.tool)?;
    Ok(success(OauthAppOut::new(&state, tool, &app)))
}

/// Get an OAuth app (Plugboard extension).
///
/// The tool's current revision in the API key's environment.
#[utoipa::path(
    get, path = "/v1/oauth-apps/{tool}", tag = "General", operation_id = "GetOauthAppsTool",
    params(("tool" = String, Path, description = "A catalog tool with OAuth sign-in, e.g. `gusto`")),
    responses(
        (status = 200, description = "The current revision", body = Success<OauthAppOut>),
        (status = 400, description = "Not an OAuth tool", body = ErrorEnvelope),
        (status = 404, description = "No app for this tool in the environment", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn get_oauth_app(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(tool): ApiPath<String>,
) -> ApiResult<Json<Success<OauthAppOut>>> {
    let app = apps::current(&state, &auth.environment, &tool).await?;
    let tool = apps::oauth_tool(&state, &app.tool)?;
    Ok(success(OauthAppOut::new(&state, tool, &app)))
}

/// List the OAuth tools and their apps (Plugboard extension).
///
/// Every catalog tool end users can sign in to, with the environment's current app for it or
/// `null`: what there is to configure.
#[utoipa::path(
    get, path = "/v1/oauth-apps", tag = "General", operation_id = "GetOauthApps",
    responses((status = 200, description = "The OAuth tools", body = Success<OauthToolList>)),
    security(("ApiKey" = []))
)]
pub async fn list_oauth_apps(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Success<OauthToolList>>> {
    let mut current = apps::list(&state, &auth.environment).await?;
    let redirect_uri = oauth::redirect_uri(&state.config);
    let results = state
        .catalog
        .tools()
        .filter(|tool| tool.signs_in())
        .map(|tool| {
            let app = current
                .iter()
                .position(|app| app.tool == tool.id)
                .map(|at| current.swap_remove(at))
                .map(|app| OauthAppOut::new(&state, tool, &app));
            OauthToolOut {
                tool: tool.id.clone(),
                label: tool.label.clone(),
                configured: app.is_some(),
                app,
                redirect_uri: redirect_uri.clone(),
            }
        })
        .collect();
    Ok(success(OauthToolList { results }))
}

/// Remove an OAuth app (Plugboard extension).
///
/// End users of the environment can no longer sign in to the tool (an OAuth-only tool leaves
/// the picker); existing integrations keep refreshing with their revision. Saving again later
/// makes the next revision.
#[utoipa::path(
    delete, path = "/v1/oauth-apps/{tool}", tag = "General", operation_id = "DeleteOauthAppsTool",
    params(("tool" = String, Path, description = "A catalog tool with OAuth sign-in, e.g. `gusto`")),
    responses(
        (status = 200, description = "Removed", body = Success<Empty>),
        (status = 400, description = "Not an OAuth tool", body = ErrorEnvelope),
        (status = 404, description = "No app for this tool in the environment", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn delete_oauth_app(
    State(state): State<AppState>,
    auth: Authenticated,
    client: audit::Client,
    ApiPath(tool): ApiPath<String>,
) -> ApiResult<Json<Success<Empty>>> {
    let caller = audit::Caller::api(&auth, client);
    apps::remove(&state, &auth.environment, &tool, &caller).await?;
    Ok(success(Empty {}))
}
