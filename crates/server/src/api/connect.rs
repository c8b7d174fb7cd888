//! Kombo Connect: creating connection links and exchanging activation tokens. The link and
//! integration wire types and checks that `api::integrations` shares (relink mints a link too)
//! live here, so the import goes one way: integrations uses connect, never the reverse.

use axum::{Json, extract::State};
use plugboard_catalog::Category;
use plugboard_store::{EndUser, Integration, SetupStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState,
    api::{Success, success},
    error::ApiResult,
    extract::{ApiJson, ApiPath, Authenticated},
    integrations,
    links::{self, Language, LinkKind, LinkRequest, LinkType},
};

/// Body of `POST /v1/connect/create-link`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateLinkIn {
    /// Email of the person the link is for; a label in webhooks and the integration.
    #[schema(format = "email", example = "admin@acme.example")]
    pub end_user_email: String,
    /// The customer organisation's name.
    #[schema(min_length = 1, example = "Acme, Inc.")]
    pub end_user_organization_name: String,
    /// Your own id for this customer, echoed back as `origin_id` everywhere.
    #[schema(min_length = 1, example = "36123")]
    pub end_user_origin_id: Option<String>,
    /// Which environment of the remote tool to connect (tool-specific); only together with
    /// `integration_tool`.
    #[schema(min_length = 1)]
    pub remote_environment: Option<String>,
    /// Category of integration to create. Default `HRIS`.
    pub integration_category: Option<Category>,
    /// Pre-selects a tool and skips the tool picker.
    #[schema(example = "personio")]
    pub integration_tool: Option<String>,
    /// Language of the flow; `null` means the end user's browser language (among these five),
    /// else `en`.
    pub language: Option<Language>,
    /// Scope config to attach; defaults to the environment's.
    pub scope_config_id: Option<String>,
    /// Kombo's employee-filtering setup step. Accepted for compatibility; Plugboard has no
    /// setup steps, so integrations are complete as soon as they connect.
    pub enable_filtering: Option<bool>,
    /// Kombo's field-mapping setup step. Accepted for compatibility, like `enable_filtering`.
    pub enable_field_mapping: Option<bool>,
    /// `EMBEDDED` (default; valid 1 hour) or `MAGIC_LINK` (valid 1 year).
    pub link_type: Option<LinkType>,
}

/// Result of creating a link.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkOut {
    /// The absolute URL to open with the SDK (`showConnect(link)`) or to send to the end user.
    #[schema(
        format = "uri",
        example = "https://plugboard.example.com/connect?token=v4.local.DqTmOrD3lIq_LqLxEAn4k0G..."
    )]
    pub link: String,
}

/// Kombo's `setup_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SetupStatusOut {
    /// Setup steps remain.
    Incomplete,
    /// Setup done, final sync running.
    FinalSyncPending,
    /// Ready.
    Completed,
}

impl From<SetupStatus> for SetupStatusOut {
    fn from(status: SetupStatus) -> Self {
        match status {
            SetupStatus::Incomplete => Self::Incomplete,
            SetupStatus::FinalSyncPending => Self::FinalSyncPending,
            SetupStatus::Completed => Self::Completed,
        }
    }
}

/// Body of the deprecated `POST /v1/connect/activate-integration`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ActivateIn {
    /// The activation token the front-end SDK returned.
    pub token: String,
}

/// The integration behind an activation token.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationByTokenOut {
    /// Tool id, e.g. `personio`.
    #[schema(example = "personio")]
    pub tool: String,
    /// The integration id; store it against your customer.
    #[schema(example = "personio:CBNMt7dSNCzBdnRTx87dev4E")]
    pub id: String,
    /// Your id for the customer, from create-link.
    pub end_user_origin_id: Option<String>,
    /// The customer's organisation name.
    pub end_user_organization_name: String,
    /// The end user's email.
    pub end_user_email: Option<String>,
    /// Setup progress; always `COMPLETED` in Plugboard.
    pub setup_status: SetupStatusOut,
}

impl From<Integration> for IntegrationByTokenOut {
    fn from(integration: Integration) -> Self {
        Self {
            tool: integration.tool,
            id: integration.id.to_string(),
            end_user_origin_id: integration.end_user.origin_id,
            end_user_organization_name: integration.end_user.organization_name,
            end_user_email: integration.end_user.email,
            setup_status: integration.setup_status.into(),
        }
    }
}

/// The operation's input for a create-link body, with Kombo's defaults: category `HRIS`, an
/// embedded link. `links::create` checks it.
fn link_request(body: CreateLinkIn) -> LinkRequest {
    LinkRequest {
        kind: LinkKind::Connect,
        integration_id: None,
        category: body.integration_category.unwrap_or(Category::Hris),
        tool: body.integration_tool,
        remote_environment: body.remote_environment,
        language: body.language,
        link_type: body.link_type.unwrap_or(LinkType::Embedded),
        end_user: EndUser {
            email: Some(body.end_user_email),
            organization_name: body.end_user_organization_name,
            origin_id: body.end_user_origin_id,
        },
        scope_config_id: body.scope_config_id,
    }
}

/// Create a connection link.
///
/// Mints a link that opens the connection flow for one customer organisation. Embedded links
/// live 1 hour, magic links 1 year. Nothing is stored for an embedded link until its flow
/// completes; every completed flow creates a new integration.
#[utoipa::path(
    post, path = "/v1/connect/create-link", tag = "Connect", operation_id = "PostConnectCreateLink",
    request_body = CreateLinkIn,
    responses(
        (status = 200, description = "The link", body = Success<LinkOut>),
        (status = 400, description = "Invalid input", body = crate::error::ErrorEnvelope),
        (status = 401, description = "Invalid API key", body = crate::error::ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn create_link(
    State(state): State<AppState>,
    auth: Authenticated,
    client: crate::audit::Client,
    ApiJson(body): ApiJson<CreateLinkIn>,
) -> ApiResult<Json<Success<LinkOut>>> {
    let caller = crate::audit::Caller::api(&auth, client);
    let link = links::create(&state, &auth.environment, link_request(body), &caller).await?;
    Ok(success(LinkOut { link }))
}

/// Get integration by activation token.
///
/// Exchanges the activation token that the front-end SDK returned after a completed flow for
/// the integration's details. A token can be redeemed once, within 10 minutes, and only with
/// an API key of the integration's environment.
#[utoipa::path(
    get, path = "/v1/connect/integration-by-token/{token}", tag = "Connect",
    operation_id = "GetConnectIntegrationByTokenToken",
    params(("token" = String, Path, description = "The activation token")),
    responses(
        (status = 200, description = "The integration", body = Success<IntegrationByTokenOut>),
        (status = 401, description = "Invalid API key", body = crate::error::ErrorEnvelope),
        (status = 404, description = "Unknown, expired, used or foreign token", body = crate::error::ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn integration_by_token(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<Success<IntegrationByTokenOut>>> {
    let integration =
        integrations::redeem_activation_token(&state, &auth.environment, &token).await?;
    Ok(success(integration.into()))
}

/// Activate integration (deprecated).
///
/// The older form of [get integration by token](#operation/GetConnectIntegrationByTokenToken),
/// with the token in the body. Kept for older clients.
#[utoipa::path(
    post, path = "/v1/connect/activate-integration", tag = "Connect",
    operation_id = "PostConnectActivateIntegration",
    request_body = ActivateIn,
    responses(
        (status = 200, description = "The integration", body = Success<IntegrationByTokenOut>),
        (status = 404, description = "Unknown, expired, used or foreign token", body = crate::error::ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
#[deprecated = "use GET /v1/connect/integration-by-token/{token}"]
pub async fn activate_integration(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<ActivateIn>,
) -> ApiResult<Json<Success<IntegrationByTokenOut>>> {
    let integration =
        integrations::redeem_activation_token(&state, &auth.environment, &body.token).await?;
    Ok(success(integration.into()))
}
