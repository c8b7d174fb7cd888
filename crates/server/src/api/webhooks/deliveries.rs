//! The delivery log: each event on its way to each endpoint, its attempts, and retrying it.

use axum::{Json, extract::State};
use plugboard_store::webhooks::{
    Attempt, Delivery, DeliveryCursor, DeliveryDetail, DeliveryFilter, DeliveryStatus,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::endpoint_not_found;
use crate::{
    AppState,
    api::{Success, page::PageRequest, success},
    error::{ApiError, ApiResult, DomainError, ErrorEnvelope, Missing},
    events::format_time,
    extract::{ApiPath, ApiQuery, Authenticated},
};

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum DeliveryStatusOut {
    /// Waiting for an attempt (or for its endpoint to be enabled).
    Pending,
    /// Delivered: an attempt got a 2xx answer.
    Succeeded,
    /// Every scheduled attempt failed. `POST …/retry` tries again.
    Failed,
}

impl From<DeliveryStatus> for DeliveryStatusOut {
    fn from(status: DeliveryStatus) -> Self {
        match status {
            DeliveryStatus::Pending => Self::Pending,
            DeliveryStatus::Succeeded => Self::Succeeded,
            DeliveryStatus::Failed => Self::Failed,
        }
    }
}

impl From<DeliveryStatusOut> for DeliveryStatus {
    fn from(status: DeliveryStatusOut) -> Self {
        match status {
            DeliveryStatusOut::Pending => Self::Pending,
            DeliveryStatusOut::Succeeded => Self::Succeeded,
            DeliveryStatusOut::Failed => Self::Failed,
        }
    }
}

/// One event on its way to one endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOut {
    /// The delivery's id.
    pub id: String,
    /// The id of the webhook endpoint it goes to.
    pub webhook_id: String,
    /// The event (sent as `webhook-id`, the same on every attempt).
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// Where it stands.
    pub status: DeliveryStatusOut,
    /// Attempts started so far.
    pub attempts: u32,
    /// When the next attempt is due; `null` unless pending.
    pub next_attempt_at: Option<String>,
    /// HTTP status of the last answered attempt.
    pub last_http_status: Option<u16>,
    /// When the event was queued.
    pub created_at: String,
    /// When the delivery last changed.
    pub updated_at: String,
}

impl From<Delivery> for DeliveryOut {
    fn from(delivery: Delivery) -> Self {
        Self {
            next_attempt_at: (delivery.status == DeliveryStatus::Pending)
                .then(|| format_time(delivery.next_attempt_at)),
            status: delivery.status.into(),
            attempts: delivery.attempts,
            last_http_status: delivery.last_http_status,
            created_at: format_time(delivery.created_at),
            updated_at: format_time(delivery.updated_at),
            id: delivery.id,
            webhook_id: delivery.endpoint_id,
            event_id: delivery.event_id,
            event_type: delivery.event_type,
        }
    }
}

/// One logged attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptOut {
    /// 1 for the first attempt.
    pub number: u32,
    /// When the request started.
    pub started_at: String,
    /// Milliseconds until the answer (or the failure).
    pub duration_ms: u32,
    /// The answer's HTTP status; `null` if none arrived.
    pub http_status: Option<u16>,
    /// Why no answer arrived (timeout, refused connection, non-public address…).
    pub error: Option<String>,
    /// The first kilobyte of the answer's body.
    pub response_excerpt: Option<String>,
}

impl From<Attempt> for AttemptOut {
    fn from(attempt: Attempt) -> Self {
        Self {
            number: attempt.number,
            started_at: format_time(attempt.started_at),
            duration_ms: attempt.duration_ms,
            http_status: attempt.http_status,
            error: attempt.error,
            response_excerpt: attempt.response_excerpt,
        }
    }
}

/// A delivery with its body and every attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDetailOut {
    /// The fields of the delivery as the list shows them; the payload and the attempts are
    /// beside them.
    #[serde(flatten)]
    pub delivery: DeliveryOut,
    /// The exact event sent (`{id, type, data}`).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Attempts, oldest first.
    pub attempt_log: Vec<AttemptOut>,
}

impl DeliveryDetailOut {
    fn new(detail: DeliveryDetail) -> ApiResult<Self> {
        let payload = serde_json::from_str(&detail.payload).map_err(ApiError::internal)?;
        Ok(Self {
            delivery: detail.delivery.into(),
            payload,
            attempt_log: detail.attempts.into_iter().map(Into::into).collect(),
        })
    }
}

/// Query of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// `next` of the previous page.
    pub cursor: Option<String>,
    /// Results per page, 1 to 250. Default 100.
    #[param(minimum = 1, maximum = 250)]
    pub page_size: Option<u32>,
    /// Only deliveries in this status.
    pub status: Option<DeliveryStatusOut>,
    /// Only deliveries of this event type.
    pub event_type: Option<String>,
}

/// A page of the delivery log.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    /// Deliveries, newest first.
    pub results: Vec<DeliveryOut>,
    /// Cursor of the next page; `null` on the last.
    pub next: Option<String>,
}

fn delivery_not_found(id: &str) -> ApiError {
    DomainError::NotFound(Missing::WebhookDelivery(id.to_owned())).into()
}

/// List an endpoint's deliveries (Plugboard extension).
#[utoipa::path(
    get, path = "/v1/webhooks/{webhook_id}/deliveries", tag = "Webhooks", operation_id = "GetWebhooksWebhookIdDeliveries",
    params(("webhook_id" = String, Path, description = "The endpoint's id"), DeliveriesQuery),
    responses(
        (status = 200, description = "A page of deliveries, newest first", body = Success<DeliveryPage>),
        (status = 400, description = "Invalid query", body = ErrorEnvelope),
        (status = 404, description = "No such endpoint", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<DeliveriesQuery>,
) -> ApiResult<Json<Success<DeliveryPage>>> {
    let page = PageRequest::new(query.cursor.as_deref(), query.page_size)?;
    let environment = &auth.environment.id;
    if state
        .store
        .webhook_endpoint(environment, &id)
        .await?
        .is_none()
    {
        return Err(endpoint_not_found(&id));
    }
    let filter = DeliveryFilter {
        status: query.status.map(Into::into),
        event_type: query.event_type.filter(|t| !t.is_empty()),
    };
    let after = page
        .after
        .clone()
        .map(|(created_at, id)| DeliveryCursor { created_at, id });
    let mut rows = state
        .store
        .list_deliveries(environment, &id, &filter, after.as_ref(), page.fetch())
        .await?;
    let next = page.finish(&mut rows, |row| (row.created_at, row.id.as_str()));
    Ok(success(DeliveryPage {
        results: rows.into_iter().map(Into::into).collect(),
        next,
    }))
}

/// Get a delivery with its payload and attempts (Plugboard extension).
#[utoipa::path(
    get, path = "/v1/webhooks/deliveries/{delivery_id}", tag = "Webhooks", operation_id = "GetWebhooksDeliveriesDeliveryId",
    params(("delivery_id" = String, Path, description = "The delivery's id")),
    responses(
        (status = 200, description = "The delivery", body = Success<DeliveryDetailOut>),
        (status = 404, description = "No such delivery", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn get_delivery(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Success<DeliveryDetailOut>>> {
    let detail = state
        .store
        .delivery(&auth.environment.id, &id)
        .await?
        .ok_or_else(|| delivery_not_found(&id))?;
    Ok(success(DeliveryDetailOut::new(detail)?))
}

/// Deliver again (Plugboard extension).
///
/// Makes the delivery pending and due now, whatever its status; the same event (same
/// `webhook-id`) is sent again.
#[utoipa::path(
    post, path = "/v1/webhooks/deliveries/{delivery_id}/retry", tag = "Webhooks", operation_id = "PostWebhooksDeliveriesDeliveryIdRetry",
    params(("delivery_id" = String, Path, description = "The delivery's id")),
    responses(
        (status = 200, description = "Queued again", body = Success<DeliveryOut>),
        (status = 404, description = "No such delivery", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn retry_delivery(
    State(state): State<AppState>,
    auth: Authenticated,
    client: crate::audit::Client,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Success<DeliveryOut>>> {
    let caller = crate::audit::Caller::api(&auth, client);
    let delivery = crate::webhooks::redeliver(&state, &auth.environment, &id, &caller).await?;
    Ok(success(delivery.into()))
}
