//! Webhook endpoints: create, list, read, change, delete, rotate the secret, send a test event.

use axum::{Json, extract::State};
use chrono::Utc;
use plugboard_store::webhooks::{DisabledReason, WebhookEndpoint};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::endpoint_not_found;
use crate::{
    AppState,
    api::{Empty, Success, success},
    audit,
    error::{ApiResult, ErrorEnvelope},
    events::format_time,
    extract::{ApiJson, ApiPath, Authenticated},
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
    /// The fields of the endpoint as `GET /v1/webhooks/{webhook_id}` shows them; the secret
    /// is beside them.
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
    let caller = audit::Caller::api(&auth, client);
    let (endpoint, secret) = webhooks::create_endpoint(
        &state,
        &auth.environment,
        &body.url,
        body.events.as_deref(),
        &caller,
    )
    .await?;
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
    let input = webhooks::EndpointPatch {
        url: body.url,
        events: body.events,
        enabled: body.enabled,
    };
    let caller = audit::Caller::api(&auth, client);
    let endpoint =
        webhooks::update_endpoint(&state, &auth.environment, &id, &input, &caller).await?;
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
    let caller = audit::Caller::api(&auth, client);
    webhooks::delete_endpoint(&state, &auth.environment, &id, &caller).await?;
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
    let caller = audit::Caller::api(&auth, client);
    let (endpoint, secret) =
        webhooks::rotate_secret(&state, &auth.environment, &id, &caller).await?;
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
    client: audit::Client,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Success<TestOut>>> {
    let caller = audit::Caller::api(&auth, client);
    let (event_id, delivery_id) =
        webhooks::send_test_event(&state, &auth.environment, &id, &caller).await?;
    Ok(success(TestOut {
        event_id,
        delivery_id,
    }))
}
