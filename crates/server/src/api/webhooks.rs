//! Webhook endpoints and their delivery log (Plugboard extension; Kombo configures webhooks in
//! its dashboard). Every endpoint belongs to the environment of the API key that manages it.

use axum::{
    Json, Router,
    extract::State,
    routing::{get, post},
};
use chrono::Utc;
use plugboard_store::webhooks::{
    Attempt, Delivery, DeliveryCursor, DeliveryDetail, DeliveryFilter, DeliveryStatus,
    DisabledReason, EndpointChanges, WebhookEndpoint,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    api::{Empty, Success, page::PageRequest, success},
    audit,
    error::{ApiError, ApiResult, ErrorEnvelope},
    events::format_time,
    extract::{ApiJson, ApiPath, ApiQuery, Authenticated},
    webhooks,
};

/// Why an endpoint receives nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum DisabledReasonOut {
    /// Disabled with `PATCH … {"enabled": false}`.
    Manual,
    /// It answered `410 Gone`.
    Gone,
    /// Every attempt failed for longer than `PLUGBOARD_WEBHOOK_DISABLE_AFTER` (5 days).
    Failing,
}

impl From<DisabledReason> for DisabledReasonOut {
    fn from(reason: DisabledReason) -> Self {
        match reason {
            DisabledReason::Manual => Self::Manual,
            DisabledReason::Gone => Self::Gone,
            DisabledReason::Failing => Self::Failing,
        }
    }
}

/// A webhook endpoint (never its secret, which is shown only when created or rotated).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOut {
    /// The endpoint's id.
    pub id: String,
    /// Where events are posted.
    pub url: String,
    /// The event types it receives.
    pub events: Vec<String>,
    /// Whether deliveries are sent. While disabled, deliveries wait and are sent once it is
    /// enabled again.
    pub enabled: bool,
    /// Why it is disabled; `null` while enabled.
    pub disabled_reason: Option<DisabledReasonOut>,
    /// Since when every attempt has failed; `null` after a success.
    pub failing_since: Option<String>,
    /// Until when the secret replaced by the last rotation still signs; `null` if none does.
    pub previous_secret_expires_at: Option<String>,
    /// When it was created.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

impl From<WebhookEndpoint> for WebhookOut {
    fn from(endpoint: WebhookEndpoint) -> Self {
        let now = Utc::now();
        Self {
            disabled_reason: endpoint.disabled_reason.map(Into::into),
            failing_since: endpoint.failing_since.map(format_time),
            previous_secret_expires_at: endpoint
                .previous_secret
                .as_ref()
                .map(|previous| previous.expires_at)
                .filter(|&expires| expires > now)
                .map(format_time),
            created_at: format_time(endpoint.created_at),
            updated_at: format_time(endpoint.updated_at),
            id: endpoint.id,
            url: endpoint.url,
            events: endpoint.event_types,
            enabled: endpoint.enabled,
        }
    }
}

/// An endpoint with its signing secret: the answer to create and rotate-secret, the only
/// times the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecretOut {
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: WebhookOut,
    /// The signing secret (`whsec_…`): verify `X-Kombo-Signature` (HMAC-SHA256 keyed with
    /// this whole string) or the Standard Webhooks `webhook-signature` with it. Store it now;
    /// it cannot be read again.
    pub secret: String,
}

/// Body of `POST /v1/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WebhookIn {
    /// Where to post events: an absolute http(s) URL. Production endpoints must resolve to
    /// public addresses (or to networks in `PLUGBOARD_WEBHOOK_ALLOWED_NETWORKS`); development
    /// endpoints may also be on loopback where the deployment allows it
    /// (`PLUGBOARD_WEBHOOK_ALLOW_LOOPBACK`, on in `serve --demo`).
    pub url: String,
    /// Event types to receive; all of them when left out.
    #[schema(min_items = 1)]
    pub events: Option<Vec<String>>,
}

/// Body of `PATCH /v1/webhooks/{webhook_id}`: only the fields given change.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct WebhookPatch {
    /// New URL.
    pub url: Option<String>,
    /// New event types.
    #[schema(min_items = 1)]
    pub events: Option<Vec<String>>,
    /// `false` stops deliveries (they wait); `true` resumes them and clears a failure record.
    pub enabled: Option<bool>,
}

/// A page of endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    /// The environment's endpoints, oldest first.
    pub results: Vec<WebhookOut>,
}

/// The event a test queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestOut {
    /// The `webhook-test` event's id (its `webhook-id` header).
    pub event_id: String,
    /// The delivery to follow in the log.
    pub delivery_id: String,
}

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
    /// The endpoint.
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
    /// The delivery.
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

fn endpoint_not_found(id: &str) -> ApiError {
    let shown: String = id.chars().take(40).collect();
    ApiError::NotFound(format!(
        "No webhook endpoint with id {shown:?} exists in this environment."
    ))
}

fn delivery_not_found(id: &str) -> ApiError {
    let shown: String = id.chars().take(40).collect();
    ApiError::NotFound(format!(
        "No webhook delivery with id {shown:?} exists in this environment."
    ))
}

fn check_url(state: &AppState, auth: &Authenticated, url: &str) -> ApiResult<url::Url> {
    let allowed = webhooks::allowed_addresses(&state.config.webhooks, auth.environment.name);
    webhooks::check_url(url, &allowed).map_err(|e| ApiError::InputInvalid(format!("url: {e}")))
}

fn check_events(events: Option<&[String]>) -> ApiResult<Vec<String>> {
    webhooks::check_event_types(events).map_err(|e| ApiError::InputInvalid(format!("events: {e}")))
}

/// Create a webhook endpoint (Plugboard extension).
///
/// Returns the endpoint with its signing secret, shown this once.
#[utoipa::path(
    post, path = "/v1/webhooks", tag = "Webhooks", operation_id = "PostWebhooks",
    request_body = WebhookIn,
    responses(
        (status = 200, description = "Created", body = Success<WebhookWithSecretOut>),
        (status = 400, description = "Invalid URL or event type", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn create_webhook(
    State(state): State<AppState>,
    auth: Authenticated,
    client: audit::Client,
    ApiJson(body): ApiJson<WebhookIn>,
) -> ApiResult<Json<Success<WebhookWithSecretOut>>> {
    let url = check_url(&state, &auth, &body.url)?;
    let events = check_events(body.events.as_deref())?;
    let (endpoint, secret) =
        webhooks::create_endpoint(&state, &auth.environment, &url, events).await?;
    let entry = audit_entry(audit::Action::WebhookEndpointCreated, &auth, &endpoint);
    audit::record(&state, &auth.environment.id, entry, Some(&client)).await;
    Ok(success(WebhookWithSecretOut {
        endpoint: endpoint.into(),
        secret: secret.as_str().to_owned(),
    }))
}

/// List webhook endpoints (Plugboard extension).
#[utoipa::path(
    get, path = "/v1/webhooks", tag = "Webhooks", operation_id = "GetWebhooks",
    responses((status = 200, description = "The environment's endpoints", body = Success<WebhookList>)),
    security(("ApiKey" = []))
)]
pub async fn list_webhooks(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Success<WebhookList>>> {
    let endpoints = state
        .store
        .list_webhook_endpoints(Some(&auth.environment.id))
        .await?;
    Ok(success(WebhookList {
        results: endpoints.into_iter().map(Into::into).collect(),
    }))
}

/// Get a webhook endpoint (Plugboard extension).
#[utoipa::path(
    get, path = "/v1/webhooks/{webhook_id}", tag = "Webhooks", operation_id = "GetWebhooksWebhookId",
    params(("webhook_id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The endpoint", body = Success<WebhookOut>),
        (status = 404, description = "No such endpoint", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn get_webhook(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Success<WebhookOut>>> {
    let endpoint = state
        .store
        .webhook_endpoint(&auth.environment.id, &id)
        .await?
        .ok_or_else(|| endpoint_not_found(&id))?;
    Ok(success(endpoint.into()))
}

/// Change a webhook endpoint (Plugboard extension).
///
/// Only the fields given change. Enabling an endpoint sends the deliveries that waited.
#[utoipa::path(
    patch, path = "/v1/webhooks/{webhook_id}", tag = "Webhooks", operation_id = "PatchWebhooksWebhookId",
    params(("webhook_id" = String, Path, description = "The endpoint's id")),
    request_body = WebhookPatch,
    responses(
        (status = 200, description = "The changed endpoint", body = Success<WebhookOut>),
        (status = 400, description = "Invalid URL or event type", body = ErrorEnvelope),
        (status = 404, description = "No such endpoint", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn update_webhook(
    State(state): State<AppState>,
    auth: Authenticated,
    client: audit::Client,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<WebhookPatch>,
) -> ApiResult<Json<Success<WebhookOut>>> {
    let changes = EndpointChanges {
        url: body
            .url
            .as_deref()
            .map(|url| check_url(&state, &auth, url).map(String::from))
            .transpose()?,
        event_types: body
            .events
            .as_deref()
            .map(|events| check_events(Some(events)))
            .transpose()?,
        enabled: body.enabled,
    };
    let endpoint = webhooks::update_endpoint(&state, &auth.environment, &id, &changes)
        .await?
        .ok_or_else(|| endpoint_not_found(&id))?;
    let entry = audit_entry(audit::Action::WebhookEndpointUpdated, &auth, &endpoint)
        .detail("enabled", endpoint.enabled);
    audit::record(&state, &auth.environment.id, entry, Some(&client)).await;
    Ok(success(endpoint.into()))
}

/// Delete a webhook endpoint with its delivery log (Plugboard extension).
#[utoipa::path(
    delete, path = "/v1/webhooks/{webhook_id}", tag = "Webhooks", operation_id = "DeleteWebhooksWebhookId",
    params(("webhook_id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "Deleted", body = Success<Empty>),
        (status = 404, description = "No such endpoint", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn delete_webhook(
    State(state): State<AppState>,
    auth: Authenticated,
    client: audit::Client,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Success<Empty>>> {
    if !state
        .store
        .delete_webhook_endpoint(&auth.environment.id, &id)
        .await?
    {
        return Err(endpoint_not_found(&id));
    }
    tracing::info!(endpoint_id = %id, "webhook endpoint deleted");
    let entry = audit::Entry::new(
        audit::Action::WebhookEndpointDeleted,
        audit::Actor::api_key(&auth),
    )
    .target("webhook_endpoint", &id);
    audit::record(&state, &auth.environment.id, entry, Some(&client)).await;
    Ok(success(Empty {}))
}

/// Give a webhook endpoint a new secret (Plugboard extension).
///
/// The old secret keeps signing beside the new one for 24 hours: `webhook-signature` carries
/// both, so receivers can switch without missing a delivery. `X-Kombo-Signature` uses the new
/// secret at once.
#[utoipa::path(
    post, path = "/v1/webhooks/{webhook_id}/rotate-secret", tag = "Webhooks", operation_id = "PostWebhooksWebhookIdRotateSecret",
    params(("webhook_id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The endpoint with its new secret", body = Success<WebhookWithSecretOut>),
        (status = 404, description = "No such endpoint", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    auth: Authenticated,
    client: audit::Client,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Success<WebhookWithSecretOut>>> {
    let (endpoint, secret) = webhooks::rotate_secret(&state, &auth.environment, &id)
        .await?
        .ok_or_else(|| endpoint_not_found(&id))?;
    let entry = audit::Entry::new(
        audit::Action::WebhookEndpointSecretRotated,
        audit::Actor::api_key(&auth),
    )
    .target("webhook_endpoint", &endpoint.id);
    audit::record(&state, &auth.environment.id, entry, Some(&client)).await;
    Ok(success(WebhookWithSecretOut {
        endpoint: endpoint.into(),
        secret: secret.as_str().to_owned(),
    }))
}

/// Send a test event to a webhook endpoint (Plugboard extension).
///
/// Queues a `webhook-test` event for this endpoint only, delivered, retried and logged like
/// every other event, even when the endpoint does not subscribe to other types.
#[utoipa::path(
    post, path = "/v1/webhooks/{webhook_id}/test", tag = "Webhooks", operation_id = "PostWebhooksWebhookIdTest",
    params(("webhook_id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "Queued", body = Success<TestOut>),
        (status = 404, description = "No such endpoint", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn send_test(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Success<TestOut>>> {
    let (event_id, delivery_id) =
        webhooks::send_test_event(&state, &auth.environment, &id, Utc::now())
            .await?
            .ok_or_else(|| endpoint_not_found(&id))?;
    Ok(success(TestOut {
        event_id,
        delivery_id,
    }))
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
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Success<DeliveryOut>>> {
    let delivery = state
        .store
        .retry_delivery(&auth.environment.id, &id, Utc::now())
        .await?
        .ok_or_else(|| delivery_not_found(&id))?;
    Ok(success(delivery.into()))
}

/// An audit entry for a change to `endpoint`, naming its URL and subscription (never its
/// secret).
fn audit_entry<'a>(
    action: audit::Action,
    auth: &Authenticated,
    endpoint: &WebhookEndpoint,
) -> audit::Entry<'a> {
    audit::Entry::new(action, audit::Actor::api_key(auth))
        .target("webhook_endpoint", &endpoint.id)
        .detail("url", endpoint.url.clone())
        .detail("events", endpoint.event_types.clone())
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/webhooks", post(create_webhook).get(list_webhooks))
        .route(
            "/v1/webhooks/{webhook_id}",
            get(get_webhook)
                .patch(update_webhook)
                .delete(delete_webhook),
        )
        .route(
            "/v1/webhooks/{webhook_id}/rotate-secret",
            post(rotate_secret),
        )
        .route("/v1/webhooks/{webhook_id}/test", post(send_test))
        .route("/v1/webhooks/{webhook_id}/deliveries", get(list_deliveries))
        .route("/v1/webhooks/deliveries/{delivery_id}", get(get_delivery))
        .route(
            "/v1/webhooks/deliveries/{delivery_id}/retry",
            post(retry_delivery),
        )
}
