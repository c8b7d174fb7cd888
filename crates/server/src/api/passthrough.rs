//! Kombo's passthrough endpoint, `POST /v1/passthrough/{tool}/{api}`, and the request log it
//! writes (a Plugboard extension): `GET /v1/integrations/{id}/requests[/{request_id}]`.
//! What a call does is `crate::passthrough`'s; this module is its wire shape.

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use plugboard_store::{
    ids::IntegrationId,
    request_log::{RequestFilter, RequestLogEntry, StatusClass},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    api::{Success, page::PageRequest, success},
    error::{ApiError, ApiResult, DomainError, ErrorEnvelope, Missing},
    events::format_time,
    extract::{ApiQuery, Authenticated, IntegrationPath, PassthroughJson},
    integrations,
    passthrough::{self, Call, Failure, headers::HeaderValueOut},
};

/// The header naming the integration a passthrough call is for.
const INTEGRATION_HEADER: &str = "x-integration-id";

/// Kombo's passthrough answer (`PostPassthroughToolApiPositiveResponse`): always HTTP 200
/// when the tool answered, whatever it answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct PassthroughOut {
    /// Always `"success"`.
    #[schema(example = "success")]
    pub status: &'static str,
    /// The tool's answer.
    pub data: PassthroughData,
    /// What the caller should know about the call (headers not sent, retries made); always
    /// present, often empty.
    pub warnings: Vec<WarningOut>,
}

/// The tool's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PassthroughData {
    /// The full URL the request went to (the API's base URL, the integration's values and the
    /// `path`); a credential carried in the query is shown as `[redacted]`.
    #[schema(format = "uri")]
    pub url: String,
    /// The tool's HTTP status.
    pub status: u16,
    /// The tool's response headers; a repeated header is an array.
    #[schema(value_type = Object)]
    pub headers: BTreeMap<String, HeaderValueOut>,
    /// The tool's body: JSON when it sent JSON, else text, or base64 with
    /// `response_as_base64`. Absent when the body is empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
}

/// A warning about a call.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarningOut {
    /// What happened.
    pub message: String,
}

/// Send passthrough request: calls the integration's tool with its stored credentials and
/// returns whatever the tool answered.
#[utoipa::path(
    post, path = "/v1/passthrough/{tool}/{api}", tag = "General",
    operation_id = "PostPassthroughToolApi",
    params(
        ("tool" = String, Path, description = "The integration's tool id, e.g. `personio`"),
        ("api" = String, Path, description = "The tool's passthrough API id, e.g. `personnel`"),
        ("X-Integration-Id" = String, Header, description = "The integration to call the tool for"),
    ),
    request_body = Call,
    responses(
        (status = 200, description = "The tool answered (whatever its status); `Concurrency-Limit` and `Concurrency-Remaining` headers", body = PassthroughOut),
        (status = 400, description = "Invalid request, wrong tool, unknown API or disabled integration", body = ErrorEnvelope),
        (status = 404, description = "No such integration", body = ErrorEnvelope),
        (status = 413, description = "Request body too large", body = ErrorEnvelope),
        (status = 429, description = "Too many calls in flight for this integration", body = ErrorEnvelope),
        (status = 502, description = "The tool could not be reached or its answer was too large", body = ErrorEnvelope),
        (status = 504, description = "The call took longer than the timeout", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn send_passthrough_request(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((tool, api)): Path<(String, String)>,
    headers: HeaderMap,
    PassthroughJson(call): PassthroughJson<Call>,
) -> Result<Response, ApiError> {
    let raw_id = headers
        .get(INTEGRATION_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| ApiError::InputInvalid("The X-Integration-Id header is required.".into()))?;
    let id = IntegrationId::parse(raw_id).ok_or_else(|| {
        ApiError::from(DomainError::NotFound(Missing::Integration(
            raw_id.to_owned(),
        )))
    })?;
    let limit = state.passthrough.concurrency.limit();
    // The call runs as a task of its own: a client that hangs up does not cancel a request
    // the tool may already be acting on, and the call is still recorded.
    let (task_state, environment, task_id) = (state.clone(), auth.environment.clone(), id.clone());
    let outcome = tokio::spawn(async move {
        passthrough::send(&task_state, &environment, &task_id, &tool, &api, call).await
    })
    .await
    .map_err(ApiError::internal)?;
    match outcome {
        Ok(answer) => {
            let mut response = Json(PassthroughOut {
                status: "success",
                data: PassthroughData {
                    url: answer.url,
                    status: answer.status,
                    headers: answer.headers,
                    data: answer.data,
                },
                warnings: answer
                    .warnings
                    .into_iter()
                    .map(|message| WarningOut { message })
                    .collect(),
            })
            .into_response();
            let headers = response.headers_mut();
            headers.insert("concurrency-limit", HeaderValue::from(limit));
            headers.insert(
                "concurrency-remaining",
                HeaderValue::from(answer.concurrency_remaining),
            );
            if let Ok(url) = HeaderValue::from_str(&log_url(&state, &id, &answer.log_id)) {
                headers.insert("plugboard-log-url", url);
            }
            Ok(response)
        }
        Err(failed) => {
            let log = failed
                .log_id
                .as_deref()
                .map(|log| log_url(&state, &id, log));
            let error = match failed.failure {
                Failure::Domain(error) => error.into(),
                Failure::Input(message) => ApiError::InputInvalid(message),
                failure @ Failure::Disabled(_) => ApiError::InputInvalid(failure.to_string()),
                failure @ Failure::Concurrency { limit } => ApiError::ConcurrencyLimited {
                    message: failure.to_string(),
                    limit,
                },
                failure @ Failure::TimedOut(_) => ApiError::TimedOut(failure.to_string()),
                failure @ (Failure::Tool(..) | Failure::TooLarge(_)) => {
                    ApiError::Tool(failure.to_string())
                }
                Failure::Internal(message) => ApiError::internal(message),
            };
            Ok(error.with_log_url(log))
        }
    }
}

/// Where a request log entry can be read.
fn log_url(state: &AppState, integration: &IntegrationId, log_id: &str) -> String {
    format!(
        "{}/v1/integrations/{integration}/requests/{log_id}",
        state.config.public_url.as_str().trim_end_matches('/')
    )
}

/// One passthrough call in the request log: never bodies, headers or credentials.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestOut {
    /// The entry's id (the end of a failed call's `log_url`).
    pub id: String,
    /// The integration called for.
    pub integration_id: String,
    /// The tool id of the call's path.
    pub tool: String,
    /// The passthrough API id.
    pub api: String,
    /// The method sent.
    pub method: String,
    /// The path sent, with query parameter names but not their values.
    pub path: String,
    /// The tool's HTTP status, `null` when it never answered.
    pub remote_status: Option<u16>,
    /// Plugboard's error class when the call failed (`timeout`, `unreachable`, `blocked`,
    /// `input_invalid`, `concurrency_limit`, `response_too_large`, `login_refused`, ...).
    pub error: Option<String>,
    /// Milliseconds the call took, retries included.
    pub duration_ms: u32,
    /// Body bytes sent.
    pub request_bytes: u64,
    /// Body bytes received.
    pub response_bytes: u64,
    /// Requests sent to the tool (1 + retries and logins again).
    pub attempts: u32,
    /// When the call started (RFC 3339).
    pub created_at: String,
}

impl From<RequestLogEntry> for RequestOut {
    fn from(entry: RequestLogEntry) -> Self {
        Self {
            id: entry.id,
            integration_id: entry.integration_id.to_string(),
            tool: entry.tool,
            api: entry.api,
            method: entry.method,
            path: entry.path,
            remote_status: entry.remote_status,
            error: entry.error,
            duration_ms: entry.duration_ms,
            request_bytes: entry.request_bytes,
            response_bytes: entry.response_bytes,
            attempts: entry.attempts,
            created_at: format_time(entry.created_at),
        }
    }
}

/// Filters and paging of the request log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestQuery {
    /// Calls to this passthrough API only.
    pub api: Option<String>,
    /// Calls with this method only (`GET`, `POST`, ...).
    pub method: Option<String>,
    /// `success` (2xx), `redirect` (3xx), `client_error` (4xx), `server_error` (5xx), or
    /// `failed` (the tool never answered).
    pub status_class: Option<String>,
    /// Calls at or after this time (RFC 3339).
    pub created_after: Option<DateTime<Utc>>,
    /// Calls before this time (RFC 3339).
    pub created_before: Option<DateTime<Utc>>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
    /// Entries per page, 1 to 250 (default 100).
    #[param(minimum = 1, maximum = 250)]
    pub page_size: Option<u32>,
}

/// A page of the request log, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestPage {
    /// The entries.
    pub results: Vec<RequestOut>,
    /// The cursor of the next page, `null` on the last.
    pub next: Option<String>,
}

/// Lists an integration's passthrough calls, newest first (Plugboard extension).
#[utoipa::path(
    get, path = "/v1/integrations/{integration_id}/requests", tag = "Integrations",
    operation_id = "GetIntegrationsIntegrationIdRequests",
    params(("integration_id" = String, Path, description = "The integration id"), RequestQuery),
    responses(
        (status = 200, description = "A page of the integration's passthrough calls, newest first", body = Success<RequestPage>),
        (status = 400, description = "Invalid query", body = ErrorEnvelope),
        (status = 404, description = "No such integration", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn list_requests(
    State(state): State<AppState>,
    auth: Authenticated,
    IntegrationPath(id): IntegrationPath,
    ApiQuery(query): ApiQuery<RequestQuery>,
) -> ApiResult<Json<Success<RequestPage>>> {
    let page = PageRequest::new(query.cursor.as_deref(), query.page_size)?;
    integrations::get(&state, &auth.environment, &id).await?;
    let status_class = match query.status_class.as_deref() {
        None => None,
        Some(text) => Some(StatusClass::parse(text).ok_or_else(|| {
            ApiError::InputInvalid(
                "status_class: must be success, redirect, client_error, server_error or failed"
                    .into(),
            )
        })?),
    };
    let filter = RequestFilter {
        api: query.api,
        method: query.method.map(|m| m.to_ascii_uppercase()),
        status_class,
        since: query.created_after,
        until: query.created_before,
    };
    let position = page.after.as_ref().map(|(at, id)| (*at, id.as_str()));
    let mut entries = state
        .store
        .list_requests(&auth.environment.id, &id, &filter, position, page.fetch())
        .await?;
    let next = page.finish(&mut entries, |entry| (entry.created_at, entry.id.as_str()));
    Ok(success(RequestPage {
        results: entries.into_iter().map(Into::into).collect(),
        next,
    }))
}

/// One passthrough call of the request log, as a failed call's `log_url` names it (Plugboard
/// extension).
#[utoipa::path(
    get, path = "/v1/integrations/{integration_id}/requests/{request_id}", tag = "Integrations",
    operation_id = "GetIntegrationsIntegrationIdRequestsRequestId",
    params(
        ("integration_id" = String, Path, description = "The integration id"),
        ("request_id" = String, Path, description = "The entry id, as in a `log_url`"),
    ),
    responses(
        (status = 200, description = "One passthrough call", body = Success<RequestOut>),
        (status = 404, description = "No such entry", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn get_request(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((integration_id, request_id)): Path<(String, String)>,
) -> ApiResult<Json<Success<RequestOut>>> {
    let missing = || {
        let shown: String = request_id.chars().take(40).collect();
        ApiError::NotFound(format!(
            "No request log entry {shown:?} of this integration exists in this environment."
        ))
    };
    let entry = state
        .store
        .request_entry(&auth.environment.id, &request_id)
        .await?
        .filter(|entry| entry.integration_id.as_str() == integration_id)
        .ok_or_else(missing)?;
    Ok(success(entry.into()))
}
