//! Integration management: details, list (a Plugboard extension), delete, enable/disable,
//! relink and setup links.

use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use plugboard_catalog::Category;
use plugboard_store::{Integration, IntegrationCursor, IntegrationFilter, IntegrationStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    api::{
        Empty, Success,
        connect::{LinkOut, SetupStatusOut},
        page::PageRequest,
        success,
    },
    audit,
    error::{ApiError, ApiResult, ErrorEnvelope},
    events::{EndUserOut, serialize_time},
    extract::{ApiJson, ApiQuery, Authenticated, IntegrationPath},
    integrations,
    links::{self, Language, LinkRequest, LinkType},
};

/// Kombo's integration `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum StatusOut {
    /// Working.
    Active,
    /// Credentials no longer work; send the end user a relink link.
    Invalid,
    /// Disabled with `PUT /integrations/{id}/enabled`.
    Inactive,
}

impl From<IntegrationStatus> for StatusOut {
    fn from(status: IntegrationStatus) -> Self {
        match status {
            IntegrationStatus::Active => Self::Active,
            IntegrationStatus::Invalid => Self::Invalid,
            IntegrationStatus::Inactive => Self::Inactive,
        }
    }
}

impl From<StatusOut> for IntegrationStatus {
    fn from(status: StatusOut) -> Self {
        match status {
            StatusOut::Active => Self::Active,
            StatusOut::Invalid => Self::Invalid,
            StatusOut::Inactive => Self::Inactive,
        }
    }
}

/// The tool of an integration.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationToolOut {
    /// Tool id.
    pub id: String,
    /// Display name.
    pub label: String,
    /// A debugging variant name; Plugboard has none, so `null`.
    pub internal_label: Option<String>,
    /// Logo (SVG).
    #[schema(format = "uri")]
    pub logo_url: String,
    /// Square icon (SVG).
    #[schema(format = "uri")]
    pub icon_url: String,
}

/// The scope config of an integration.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScopeConfigOut {
    /// Scope config id.
    pub id: String,
    /// Always `Default`: an environment has one scope config.
    pub name: Option<String>,
}

/// Kombo's `coverage_status` for a data model Plugboard does not offer: Plugboard syncs no
/// data, so a tool's data is reached through the passthrough API only. Kombo defines
/// `NOT_IMPLEMENTED` as "the tool has it, but it is not integrated", which is the truth here;
/// `UNSUPPORTED` would claim the tool itself lacks the data.
pub(crate) const NOT_OFFERED: &str = "NOT_IMPLEMENTED";

/// A data model of the integration's category, listed so clients see what Kombo would offer;
/// Plugboard offers none of them (passthrough only, see `docs/compatibility.md`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadModelOut {
    /// Model id, e.g. `hris_employees`.
    pub id: String,
    /// Display name, e.g. `Employees`.
    pub label: String,
    /// Whether the model can be read through Plugboard: always `false`, as Plugboard syncs
    /// no data; use the passthrough API instead.
    pub is_available: bool,
    /// `SUPPORTED`, `UNSUPPORTED`, `NOT_IMPLEMENTED` or `UNKNOWN`; always `NOT_IMPLEMENTED`:
    /// the tool may hold this data, but Plugboard offers no unified model for it.
    pub coverage_status: &'static str,
    /// `ENABLED`, `DISABLED` or `OPTIONAL`; always `DISABLED`, as no scope config can turn
    /// on a model Plugboard does not offer.
    pub scope_config_setting: &'static str,
    /// Whether the end user opted out of this model in the flow; always `false`, as the flow
    /// offers no opt-out.
    pub opted_out_by_customer: bool,
    /// Per-field detail; Plugboard reports models only.
    pub fields: Vec<serde_json::Value>,
}

/// An integration, in Kombo's shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationOut {
    /// `<tool>:<id>`.
    #[schema(example = "personio:CBNMt7dSNCzBdnRTx87dev4E")]
    pub id: String,
    /// The connected tool.
    pub tool: IntegrationToolOut,
    /// The category it was connected as.
    pub category: Category,
    /// Lifecycle state.
    pub status: StatusOut,
    /// Setup progress; always `COMPLETED` in Plugboard.
    pub setup_status: SetupStatusOut,
    /// Whose tool it is.
    pub end_user: EndUserOut,
    /// The scope config in force.
    pub scope_config: ScopeConfigOut,
    /// When configuration changes invalidated synced data; Plugboard syncs nothing, so `null`.
    pub data_expired_at: Option<String>,
    /// When the flow completed.
    #[serde(serialize_with = "serialize_time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// Whether the connector is in beta.
    pub beta: bool,
    /// The category's data models, none of them available: Plugboard syncs no data, so the
    /// tool is used through the passthrough API (`POST /v1/passthrough/{tool}/{api}`).
    pub read_models: Vec<ReadModelOut>,
    /// Write actions; always empty, as Plugboard offers none (writes go through passthrough).
    pub write_actions: Vec<serde_json::Value>,
}

impl IntegrationOut {
    /// The wire form of `integration`.
    pub fn new(state: &AppState, integration: Integration) -> Self {
        let tool = state.catalog.get(&integration.tool);
        let label = tool.map_or_else(|| integration.tool.clone(), |tool| tool.label.clone());
        let read_models = integration
            .category
            .default_models()
            .iter()
            .map(|(id, label)| ReadModelOut {
                id: (*id).to_owned(),
                label: (*label).to_owned(),
                is_available: false,
                coverage_status: NOT_OFFERED,
                scope_config_setting: "DISABLED",
                opted_out_by_customer: false,
                fields: Vec::new(),
            })
            .collect();
        Self {
            tool: IntegrationToolOut {
                logo_url: crate::tools::asset_url(&state.config, &integration.tool, "logo.svg"),
                icon_url: crate::tools::asset_url(&state.config, &integration.tool, "icon.svg"),
                id: integration.tool,
                label,
                internal_label: None,
            },
            id: integration.id.to_string(),
            category: integration.category,
            status: integration.status.into(),
            setup_status: integration.setup_status.into(),
            end_user: (&integration.end_user).into(),
            scope_config: ScopeConfigOut {
                id: integration.scope_config_id,
                name: Some("Default".into()),
            },
            data_expired_at: None,
            created_at: integration.created_at,
            beta: false,
            read_models,
            write_actions: Vec::new(),
        }
    }
}

/// Query of the integration list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `next` of the previous page.
    pub cursor: Option<String>,
    /// Results per page, 1 to 250. Default 100.
    #[param(minimum = 1, maximum = 250)]
    pub page_size: Option<u32>,
    /// Only integrations of this customer (your `end_user_origin_id`).
    pub end_user_origin_id: Option<String>,
    /// Only integrations of this tool.
    pub tool: Option<String>,
    /// Only integrations of this category.
    pub category: Option<Category>,
    /// Only integrations in this status.
    pub status: Option<StatusOut>,
}

/// A page of integrations.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationPage {
    /// The integrations, oldest first.
    pub results: Vec<IntegrationOut>,
    /// Cursor of the next page; `null` on the last.
    pub next: Option<String>,
}

/// Body of `PUT /v1/integrations/{id}/enabled`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EnabledIn {
    /// `false` disables (status `INACTIVE`), `true` enables again.
    pub value: bool,
}

/// Body of `POST /v1/integrations/{id}/relink`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RelinkIn {
    /// Language of the flow; `null` means the end user's browser language, else `en`.
    pub language: Option<Language>,
    /// Scope config to switch to once the relink completes.
    pub scope_config_id: Option<String>,
    /// `EMBEDDED` (default) or `MAGIC_LINK`.
    pub link_type: Option<LinkType>,
}

/// Body of `POST /v1/integrations/{id}/setup-link`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetupLinkIn {
    /// Language of the flow.
    pub language: Option<Language>,
    /// `EMBEDDED` or `MAGIC_LINK` (required).
    pub link_type: LinkType,
}

/// List integrations (Plugboard extension).
///
/// The environment's integrations, oldest first, filterable by customer, tool, category and
/// status — so you can find a customer's existing integration before creating a duplicate.
#[utoipa::path(
    get, path = "/v1/integrations", tag = "Integrations", operation_id = "GetIntegrations",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of integrations", body = Success<IntegrationPage>),
        (status = 400, description = "Invalid query", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn list_integrations(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<Success<IntegrationPage>>> {
    let page = PageRequest::new(query.cursor.as_deref(), query.page_size)?;
    let after = page
        .after
        .clone()
        .map(|(created_at, id)| IntegrationCursor { created_at, id });
    let filter = IntegrationFilter {
        origin_id: query.end_user_origin_id,
        tool: query.tool,
        category: query.category,
        status: query.status.map(Into::into),
    };
    let env = &auth.environment.id;
    let mut rows = state
        .store
        .list_integrations(env, &filter, after.as_ref(), page.fetch())
        .await?;
    let next = page.finish(&mut rows, |row| (row.created_at, row.id.as_str()));
    let results = rows
        .into_iter()
        .map(|row| IntegrationOut::new(&state, row))
        .collect();
    Ok(success(IntegrationPage { results, next }))
}

/// Get integration details.
#[utoipa::path(
    get, path = "/v1/integrations/{integration_id}", tag = "Integrations",
    operation_id = "GetIntegrationsIntegrationId",
    params(("integration_id" = String, Path, description = "The integration id (`personio:…`), percent-encoded")),
    responses(
        (status = 200, description = "The integration", body = Success<IntegrationOut>),
        (status = 404, description = "No such integration", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn get_integration(
    State(state): State<AppState>,
    auth: Authenticated,
    IntegrationPath(id): IntegrationPath,
) -> ApiResult<Json<Success<IntegrationOut>>> {
    let integration = integrations::get(&state, &auth.environment, &id).await?;
    Ok(success(IntegrationOut::new(&state, integration)))
}

/// Delete an integration.
///
/// Irreversible: the integration and its credentials are deleted and `integration-deleted` is
/// sent. Kombo's SDK sends a `{}` body, which is accepted (as is no body).
#[utoipa::path(
    delete, path = "/v1/integrations/{integration_id}", tag = "Integrations",
    operation_id = "DeleteIntegrationsIntegrationId",
    params(("integration_id" = String, Path, description = "The integration id")),
    responses(
        (status = 200, description = "Deleted", body = Success<Empty>),
        (status = 404, description = "No such integration", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn delete_integration(
    State(state): State<AppState>,
    auth: Authenticated,
    client: audit::Client,
    IntegrationPath(id): IntegrationPath,
) -> ApiResult<Json<Success<Empty>>> {
    let caller = audit::Caller::api(&auth, client);
    integrations::delete(&state, &auth.environment, &id, &caller).await?;
    Ok(success(Empty {}))
}

/// Enable or disable an integration.
///
/// `false` sets the status to `INACTIVE`, keeping credentials and configuration; `true` makes
/// it `ACTIVE` again. Each change sends `integration-state-changed`.
#[utoipa::path(
    put, path = "/v1/integrations/{integration_id}/enabled", tag = "Integrations",
    operation_id = "PutIntegrationsIntegrationIdEnabled",
    params(("integration_id" = String, Path, description = "The integration id")),
    request_body = EnabledIn,
    responses(
        (status = 200, description = "Done", body = Success<Empty>),
        (status = 404, description = "No such integration", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn set_enabled(
    State(state): State<AppState>,
    auth: Authenticated,
    client: audit::Client,
    IntegrationPath(id): IntegrationPath,
    ApiJson(body): ApiJson<EnabledIn>,
) -> ApiResult<Json<Success<Empty>>> {
    let caller = audit::Caller::api(&auth, client);
    integrations::set_enabled(&state, &auth.environment, &id, body.value, &caller).await?;
    Ok(success(Empty {}))
}

/// Create a reconnection link.
///
/// A link through which the end user enters new credentials for this integration; it keeps
/// its id, and an `INVALID` integration becomes `ACTIVE` again.
#[utoipa::path(
    post, path = "/v1/integrations/{integration_id}/relink", tag = "Integrations",
    operation_id = "PostIntegrationsIntegrationIdRelink",
    params(("integration_id" = String, Path, description = "The integration id")),
    request_body = RelinkIn,
    responses(
        (status = 200, description = "The link", body = Success<LinkOut>),
        (status = 404, description = "No such integration", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn relink(
    State(state): State<AppState>,
    auth: Authenticated,
    client: audit::Client,
    IntegrationPath(id): IntegrationPath,
    ApiJson(body): ApiJson<RelinkIn>,
) -> ApiResult<Json<Success<LinkOut>>> {
    let integration = integrations::get(&state, &auth.environment, &id).await?;
    let request = LinkRequest::relink(
        integration,
        body.language,
        body.link_type.unwrap_or(LinkType::Embedded),
        body.scope_config_id,
    );
    let caller = audit::Caller::api(&auth, client);
    let link = links::create(&state, &auth.environment, request, &caller).await?;
    Ok(success(LinkOut { link }))
}

/// Create a setup link.
///
/// Kombo opens post-connection setup steps with this link. Plugboard integrations have no
/// setup steps, so, as Kombo documents for that case, this answers `PLATFORM.INPUT_INVALID`.
#[utoipa::path(
    post, path = "/v1/integrations/{integration_id}/setup-link", tag = "Integrations",
    operation_id = "PostIntegrationsIntegrationIdSetupLink",
    params(("integration_id" = String, Path, description = "The integration id")),
    request_body = SetupLinkIn,
    responses(
        (status = 400, description = "No setup step is enabled", body = ErrorEnvelope),
        (status = 404, description = "No such integration", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn setup_link(
    State(state): State<AppState>,
    auth: Authenticated,
    IntegrationPath(id): IntegrationPath,
    ApiJson(_body): ApiJson<SetupLinkIn>,
) -> ApiResult<Json<Success<LinkOut>>> {
    integrations::get(&state, &auth.environment, &id).await?;
    Err(ApiError::InputInvalid(
        "This integration has no setup flow step enabled: Plugboard integrations are complete once connected.".into(),
    ))
}
