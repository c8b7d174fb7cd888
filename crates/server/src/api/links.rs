//! Magic links (Plugboard extension): list them and revoke them. Embedded links are stateless
//! and live an hour; magic links live a year, so an operator must be able to withdraw one that
//! was sent to the wrong person.

use axum::{Json, extract::State};
use chrono::Utc;
use plugboard_catalog::Category;
use plugboard_store::MagicLink;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    api::{Empty, Success, page::PageRequest, success},
    error::{ApiResult, ErrorEnvelope},
    events::{EndUserOut, format_time},
    extract::{ApiPath, ApiQuery, Authenticated},
};

/// Where a magic link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum LinkStatus {
    /// Can still be opened and completed.
    Active,
    /// Completed a connection; cannot be used again.
    Used,
    /// Past its one-year validity.
    Expired,
    /// Withdrawn by the operator.
    Revoked,
}

/// A magic link (never its URL: the link is a credential, shown once by create-link).
#[derive(Debug, Serialize, ToSchema)]
pub struct MagicLinkOut {
    /// The link's id.
    pub id: String,
    /// `CONNECT` for a new integration, `RELINK` for new credentials of `integration_id`.
    #[serde(rename = "type")]
    pub link_type: &'static str,
    /// The integration a relink link is for.
    pub integration_id: Option<String>,
    /// Whom it is for.
    pub end_user: EndUserOut,
    /// Category of the flow.
    pub integration_category: Category,
    /// The tool pre-selected by create-link's `integration_tool`; `null` when the end user picks.
    pub integration_tool: Option<String>,
    /// Where it stands.
    pub status: LinkStatus,
    /// When it was created.
    pub created_at: String,
    /// When it expires.
    pub expires_at: String,
    /// When it was revoked.
    pub revoked_at: Option<String>,
}

/// Query of the link list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinksQuery {
    /// `next` of the previous page.
    pub cursor: Option<String>,
    /// Results per page, 1 to 250. Default 100.
    #[param(minimum = 1, maximum = 250)]
    pub page_size: Option<u32>,
}

/// A page of magic links.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkPage {
    /// The links, newest first.
    pub results: Vec<MagicLinkOut>,
    /// Cursor of the next page; `null` on the last.
    pub next: Option<String>,
}

async fn link_out(state: &AppState, link: MagicLink) -> ApiResult<MagicLinkOut> {
    let status = if link.revoked_at.is_some() {
        LinkStatus::Revoked
    } else if state.store.link_consumed(&link.id).await? {
        LinkStatus::Used
    } else if link.expires_at <= Utc::now() {
        LinkStatus::Expired
    } else {
        LinkStatus::Active
    };
    Ok(MagicLinkOut {
        link_type: if link.integration_id.is_some() {
            "RELINK"
        } else {
            "CONNECT"
        },
        integration_id: link.integration_id.map(|id| id.to_string()),
        end_user: (&link.end_user).into(),
        integration_category: link.category,
        integration_tool: link.tool,
        status,
        created_at: format_time(link.created_at),
        expires_at: format_time(link.expires_at),
        revoked_at: link.revoked_at.map(format_time),
        id: link.id,
    })
}

/// List magic links (Plugboard extension).
#[utoipa::path(
    get, path = "/v1/connect/links", tag = "Connect", operation_id = "GetConnectLinks",
    params(LinksQuery),
    responses(
        (status = 200, description = "A page of magic links", body = Success<LinkPage>),
        (status = 400, description = "Invalid query", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn list_links(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<LinksQuery>,
) -> ApiResult<Json<Success<LinkPage>>> {
    let page = PageRequest::new(query.cursor.as_deref(), query.page_size)?;
    let position = page.after.as_ref().map(|(at, id)| (*at, id.as_str()));
    let mut links = state
        .store
        .list_magic_links(&auth.environment.id, position, page.fetch())
        .await?;
    let next = page.finish(&mut links, |link| (link.created_at, link.id.as_str()));
    let mut results = Vec::with_capacity(links.len());
    for link in links {
        results.push(link_out(&state, link).await?);
    }
    Ok(success(LinkPage { results, next }))
}

/// Revoke a magic link (Plugboard extension).
///
/// The link stops working at once; an end user who opens it sees that it was withdrawn.
#[utoipa::path(
    delete, path = "/v1/connect/links/{link_id}", tag = "Connect", operation_id = "DeleteConnectLinksLinkId",
    params(("link_id" = String, Path, description = "The magic link's id")),
    responses(
        (status = 200, description = "Revoked", body = Success<Empty>),
        (status = 404, description = "No unrevoked magic link with this id", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn revoke_link(
    State(state): State<AppState>,
    auth: Authenticated,
    client: crate::audit::Client,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Success<Empty>>> {
    let caller = crate::audit::Caller::api(&auth, client);
    crate::links::revoke(&state, &auth.environment, &id, &caller).await?;
    Ok(success(Empty {}))
}
