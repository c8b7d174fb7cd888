//! `GET /v1/events/{id}` (Plugboard extension): one event as it was sent to webhooks, with
//! what Plugboard knows beyond the payload. The `log_url` of `connection-flow-failed` points
//! here, so an operator can see why a customer's connection attempt failed.

use axum::{Json, extract::State};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    AppState,
    api::{Success, success},
    error::{ApiError, ApiResult, ErrorEnvelope},
    events::format_time,
    extract::{ApiPath, Authenticated},
};

/// An event and its log detail.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    /// Event id; also the payload's `id` and the `webhook-id` header.
    pub id: String,
    /// Event type, e.g. `connection-flow-failed`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened.
    pub created_at: String,
    /// Why it happened, where Plugboard knows more than the payload says: for
    /// `connection-flow-failed` one of `invalid_credentials`, `missing_permission`,
    /// `wrong_instance`, `rate_limited`, `unreachable` (a key's verification), or how a
    /// sign-in ended: `denied`, `vendor_error`, `refused`, `exchange_failed`, `unverified`,
    /// `closed`, `blocked`, `link_problem`.
    pub detail: Option<String>,
    /// The webhook body, exactly as delivered.
    pub payload: serde_json::Value,
}

/// Get an event (Plugboard extension).
#[utoipa::path(
    get, path = "/v1/events/{event_id}", tag = "General", operation_id = "GetEventsEventId",
    params(("event_id" = String, Path, description = "The event id")),
    responses(
        (status = 200, description = "The event", body = Success<EventOut>),
        (status = 404, description = "No such event in this environment", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn get_event(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Success<EventOut>>> {
    let event = state
        .store
        .event(&auth.environment.id, &id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "No event with id {:?} exists in this environment.",
                id.chars().take(40).collect::<String>()
            ))
        })?;
    Ok(success(EventOut {
        payload: serde_json::from_str(&event.payload).map_err(ApiError::internal)?,
        id: event.id,
        event_type: event.event_type,
        created_at: format_time(event.created_at),
        detail: event.detail,
    }))
}
