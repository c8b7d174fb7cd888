//! The audit trail (Plugboard extension): `GET /v1/audit-events`, newest first, filtered and
//! paged. See `crate::audit` for what is recorded.

use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use plugboard_store::audit::{AuditEvent, AuditFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    api::{Success, page::PageRequest, success},
    audit::Action,
    error::{ApiError, ApiResult, ErrorEnvelope},
    events::format_time,
    extract::{ApiQuery, Authenticated},
};

/// One entry of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventOut {
    /// The entry's id.
    pub id: String,
    /// What happened: `api_key.created`, `api_key.revoked`, `integration.deleted`,
    /// `integration.enabled`, `integration.disabled`, `integration.check_requested`,
    /// `webhook_endpoint.created`,
    /// `webhook_endpoint.updated`, `webhook_endpoint.secret_rotated`,
    /// `webhook_endpoint.deleted`, `webhook_endpoint.tested`, `webhook_delivery.retried`,
    /// `oauth_app.saved`, `oauth_app.removed`, `link.created` (magic links), `link.revoked`,
    /// and the end user's steps `link.opened`, `link.tool_chosen`,
    /// `link.credentials_submitted`, `link.signin_started`, `link.verification_failed`,
    /// `link.verification_succeeded`, `link.completed`; `settings.updated`; and, in the
    /// production trail only
    /// (operators are deployment-wide), the dashboard's `operator.created`,
    /// `operator.disabled`, `operator.enabled`, `operator.reset`, `operator.password_set`,
    /// `operator.signed_in`, `operator.signin_failed`, `operator.signed_out`.
    pub action: String,
    /// Who did it: `api_key:<key id>`, `cli` (the operator's command line), `end_user` or
    /// `operator:<operator id>` (the dashboard).
    pub actor: String,
    /// What it was done to, as `kind:<id>` (`integration:personio:…`, `webhook_endpoint:…`,
    /// `api_key:…`, `link:…`, `oauth_app:…`, `operator:…`, `webhook_delivery:…`).
    pub target: Option<String>,
    /// The connection link, for the end user's steps.
    pub link_id: Option<String>,
    /// The client's IP address, for actions that came over HTTP.
    pub ip: Option<String>,
    /// The client's user agent, cut to 512 characters.
    pub user_agent: Option<String>,
    /// Further facts, e.g. `{"tool":"personio"}` or `{"outcome":"invalid_credentials"}`.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// When it happened (ISO 8601).
    pub created_at: String,
}

impl From<AuditEvent> for AuditEventOut {
    fn from(event: AuditEvent) -> Self {
        Self {
            detail: serde_json::from_str(&event.detail)
                .unwrap_or_else(|_| serde_json::Value::Object(Default::default())),
            created_at: format_time(event.created_at),
            id: event.id,
            action: event.action,
            actor: event.actor,
            target: event.target,
            link_id: event.link_id,
            ip: event.ip,
            user_agent: event.user_agent,
        }
    }
}

/// Query of the audit trail. Every filter given must match.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this action.
    pub action: Option<String>,
    /// Only this actor (`api_key:<id>`, `cli`, `end_user`).
    pub actor: Option<String>,
    /// Only this target (`integration:<id>`, …).
    pub target: Option<String>,
    /// Only the steps of this link.
    pub link_id: Option<String>,
    /// Only entries at or after this time (ISO 8601).
    pub created_after: Option<DateTime<Utc>>,
    /// Only entries before this time (ISO 8601).
    pub created_before: Option<DateTime<Utc>>,
    /// `next` of the previous page.
    pub cursor: Option<String>,
    /// Results per page, 1 to 250. Default 100.
    #[param(minimum = 1, maximum = 250)]
    pub page_size: Option<u32>,
}

/// A page of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// The entries, newest first.
    pub results: Vec<AuditEventOut>,
    /// Cursor of the next page; `null` on the last.
    pub next: Option<String>,
}

/// List the audit trail of the key's environment (Plugboard extension).
#[utoipa::path(
    get, path = "/v1/audit-events", tag = "Audit", operation_id = "GetAuditEvents",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of audit events, newest first", body = Success<AuditPage>),
        (status = 400, description = "Invalid query", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn list_audit_events(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Success<AuditPage>>> {
    let page = PageRequest::new(query.cursor.as_deref(), query.page_size)?;
    if let Some(action) = &query.action
        && !Action::ALL.iter().any(|known| known.as_str() == action)
    {
        let shown: String = action.chars().take(60).collect();
        return Err(ApiError::InputInvalid(format!(
            "action: {shown:?} is not an audited action; see the API reference for the list"
        )));
    }
    let filter = AuditFilter {
        action: query.action,
        actor: query.actor,
        target: query.target,
        link_id: query.link_id,
        since: query.created_after,
        until: query.created_before,
    };
    let position = page.after.as_ref().map(|(at, id)| (*at, id.as_str()));
    let mut events = state
        .store
        .list_audit_events(&auth.environment.id, &filter, position, page.fetch())
        .await?;
    let next = page.finish(&mut events, |event| (event.created_at, event.id.as_str()));
    Ok(success(AuditPage {
        results: events.into_iter().map(Into::into).collect(),
        next,
    }))
}
