//! Webhooks: the environment's endpoints (add one; its secret is shown once), an endpoint's
//! page (change its URL and event types, enable or disable it, rotate its secret (shown once),
//! send a test event, delete it) with its delivery log (filters by status and event type,
//! newest first in cursor pages), and a delivery's page: every attempt's status, time and
//! response excerpt, the payload, and "Deliver again".

use askama::Template;
use axum::{
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::Response,
};
use chrono::{DateTime, Utc};
use plugboard_store::{
    Environment,
    webhooks::{DeliveryCursor, DeliveryFilter, DeliveryStatus, DisabledReason, WebhookEndpoint},
};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{
    Env,
    session::{AdminPost, Signed},
    views::{self, Ui, ago, when},
};
use crate::{
    AppState,
    error::{DomainError, Missing},
    events::EVENT_TYPES,
    webhooks::{self, EndpointPatch},
};

/// Deliveries on one page of an endpoint's log.
const PAGE: u32 = 50;

/// A form's fields as pairs, for forms with repeated names (the event-type checkboxes).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect()
    }
}

/// An event type as a checkbox.
struct EventChoice {
    name: &'static str,
    checked: bool,
}

fn event_choices(subscribed: &[String]) -> Vec<EventChoice> {
    EVENT_TYPES
        .iter()
        .map(|name| EventChoice {
            name,
            checked: subscribed.iter().any(|s| s == name),
        })
        .collect()
}

/// An endpoint's state as a badge.
struct EndpointState {
    text: String,
    class: &'static str,
}

impl EndpointState {
    fn of(endpoint: &WebhookEndpoint) -> Self {
        let (key, class) = match (
            endpoint.enabled,
            endpoint.disabled_reason,
            endpoint.failing_since,
        ) {
            (true, _, None) => ("endpoint-enabled", "active"),
            (true, _, Some(_)) => ("endpoint-failing", "failing"),
            (false, Some(DisabledReason::Gone), _) => ("endpoint-disabled-gone", "invalid"),
            (false, Some(DisabledReason::Failing), _) => ("endpoint-disabled-failing", "invalid"),
            (false, _, _) => ("endpoint-disabled", "inactive"),
        };
        Self {
            text: views::t(key),
            class,
        }
    }
}

/// One endpoint in the list.
struct EndpointRow {
    href: String,
    url: String,
    events: String,
    state: EndpointState,
    created: String,
}

#[derive(Template)]
#[template(path = "dashboard/webhooks.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<EndpointRow>,
    events: Vec<EventChoice>,
    url: String,
    error: Option<String>,
}

fn endpoint_href(environment: &Environment, id: &str) -> String {
    format!("/dashboard/{}/webhooks/{id}", environment.name.as_str())
}

/// The URL of a delivery's page.
pub(crate) fn delivery_href(environment: &Environment, id: &str) -> String {
    format!(
        "/dashboard/{}/webhooks/deliveries/{id}",
        environment.name.as_str()
    )
}

async fn list_page(
    state: &AppState,
    signed: &Signed,
    environment: &Environment,
    form: (String, Vec<String>, Option<String>),
) -> Result<ListPage, DomainError> {
    let (url, events, error) = form;
    let endpoints = state
        .store
        .list_webhook_endpoints(Some(&environment.id))
        .await?;
    let rows = endpoints
        .iter()
        .map(|endpoint| EndpointRow {
            href: endpoint_href(environment, &endpoint.id),
            url: endpoint.url.clone(),
            events: endpoint.event_types.join(", "),
            state: EndpointState::of(endpoint),
            created: when(endpoint.created_at),
        })
        .collect();
    Ok(ListPage {
        ui: Ui::new(
            state,
            Some(&signed.signed_in),
            Some((environment, "/webhooks")),
            "webhooks",
            views::t("webhooks-title"),
        ),
        rows,
        events: event_choices(&events),
        url,
        error,
    })
}

/// `GET /dashboard/{env}/webhooks`.
pub(crate) async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Env(environment): Env,
    query: Result<Query<views::DoneQuery>, QueryRejection>,
) -> Response {
    let done = query.ok().and_then(|Query(query)| query.done);
    let all = EVENT_TYPES.iter().map(|t| (*t).to_owned()).collect();
    match list_page(&state, &signed, &environment, (String::new(), all, None)).await {
        Ok(page) => {
            let page = ListPage {
                ui: page.ui.notice(done.as_deref()),
                ..page
            };
            views::render(&page, StatusCode::OK)
        }
        Err(error) => views::problem(&state, &signed.signed_in, error),
    }
}

fn secret_page(
    state: &AppState,
    signed: &Signed,
    environment: &Environment,
    endpoint: &WebhookEndpoint,
    secret: Zeroizing<String>,
    lead_key: &str,
) -> Response {
    views::shown_once(
        Ui::new(
            state,
            Some(&signed.signed_in),
            Some((environment, "/webhooks")),
            "webhooks",
            views::t("secret-title"),
        ),
        views::t_with(lead_key, &[("url", &endpoint.url)]),
        secret,
        (
            endpoint_href(environment, &endpoint.id),
            views::t("secret-continue"),
        ),
    )
}

/// `POST /dashboard/{env}/webhooks`: adds an endpoint and shows its secret once.
pub(crate) async fn create(
    State(state): State<AppState>,
    Env(environment): Env,
    AdminPost(posted): AdminPost<Fields>,
) -> Response {
    let signed = &posted.signed;
    let url = posted.form.get("url").unwrap_or_default().trim().to_owned();
    let events = posted.form.all("event");
    match webhooks::create_endpoint(&state, &environment, &url, Some(&events), &signed.caller())
        .await
    {
        Ok((endpoint, secret)) => secret_page(
            &state,
            signed,
            &environment,
            &endpoint,
            secret,
            "secret-created",
        ),
        Err(DomainError::Invalid { field, message }) => {
            let error = Some(format!(
                "{}: {message}",
                views::t(&format!("field-{field}"))
            ));
            views::render_or_problem(
                &state,
                &signed.signed_in,
                list_page(&state, signed, &environment, (url, events, error)).await,
                StatusCode::BAD_REQUEST,
            )
        }
        Err(error) => views::problem(&state, &signed.signed_in, error),
    }
}

/// One delivery in an endpoint's log.
struct DeliveryRow {
    href: String,
    event_type: String,
    status: DeliveryBadge,
    attempts: u32,
    last_http_status: String,
    created: String,
    created_ago: String,
}

/// A delivery's status as a badge (here and on an integration's page).
pub(crate) struct DeliveryBadge {
    /// What it says.
    pub text: String,
    /// Its colour's class.
    pub class: &'static str,
}

impl DeliveryBadge {
    /// The badge of a delivery with `status` after `attempts` attempts.
    pub fn of(status: DeliveryStatus, attempts: u32) -> Self {
        let (key, class) = match (status, attempts) {
            (DeliveryStatus::Succeeded, _) => ("delivery-succeeded", "active"),
            (DeliveryStatus::Failed, _) => ("delivery-failed", "invalid"),
            (DeliveryStatus::Pending, 0) => ("delivery-waiting", "inactive"),
            (DeliveryStatus::Pending, _) => ("delivery-retrying", "failing"),
        };
        Self {
            text: views::t(key),
            class,
        }
    }
}

/// A choice in a filter's `<select>`.
struct Choice {
    value: &'static str,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "dashboard/webhook.html")]
struct EndpointPage {
    ui: Ui,
    base: String,
    id: String,
    url: String,
    state: EndpointState,
    enabled: bool,
    events: Vec<EventChoice>,
    failing_since: Option<String>,
    previous_secret_until: Option<String>,
    created: String,
    updated: String,
    statuses: Vec<Choice>,
    types: Vec<Choice>,
    deliveries: Vec<DeliveryRow>,
    filtered: bool,
    next: Option<String>,
    error: Option<String>,
}

/// Query of an endpoint's page: the delivery log's filters and cursor.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct EndpointQuery {
    status: Option<String>,
    event_type: Option<String>,
    /// `<created_at millis>.<id>` of the last delivery on the previous page.
    after: Option<String>,
    done: Option<String>,
}

async fn endpoint(
    state: &AppState,
    environment: &Environment,
    id: &str,
) -> Result<WebhookEndpoint, DomainError> {
    state
        .store
        .webhook_endpoint(&environment.id, id)
        .await?
        .ok_or_else(|| DomainError::NotFound(Missing::WebhookEndpoint(id.to_owned())))
}

async fn endpoint_page(
    state: &AppState,
    signed: &Signed,
    environment: &Environment,
    id: &str,
    query: EndpointQuery,
    edit: Option<(String, Vec<String>, String)>,
) -> Result<EndpointPage, DomainError> {
    let endpoint = endpoint(state, environment, id).await?;
    let status = query.status.as_deref().and_then(DeliveryStatus::parse);
    let event_type = query
        .event_type
        .filter(|t| EVENT_TYPES.contains(&t.as_str()) || t == crate::events::TEST_EVENT_TYPE);
    let filter = DeliveryFilter {
        status,
        event_type: event_type.clone(),
    };
    let after = query.after.as_deref().and_then(|text| {
        let (millis, id) = text.split_once('.')?;
        Some(DeliveryCursor {
            created_at: DateTime::<Utc>::from_timestamp_millis(millis.parse().ok()?)?,
            id: id.chars().take(100).collect(),
        })
    });
    let mut found = state
        .store
        .list_deliveries(&environment.id, id, &filter, after.as_ref(), PAGE + 1)
        .await?;
    let base = endpoint_href(environment, id);
    let next = (found.len() > PAGE as usize).then(|| {
        found.truncate(PAGE as usize);
        let last = &found[found.len() - 1];
        let mut params = url::form_urlencoded::Serializer::new(String::new());
        if let Some(status) = status {
            params.append_pair("status", status.as_str());
        }
        if let Some(event_type) = &event_type {
            params.append_pair("event_type", event_type);
        }
        params.append_pair(
            "after",
            &format!("{}.{}", last.created_at.timestamp_millis(), last.id),
        );
        format!("{base}?{}", params.finish())
    });
    let now = Utc::now();
    let deliveries = found
        .into_iter()
        .map(|delivery| DeliveryRow {
            href: delivery_href(environment, &delivery.id),
            status: DeliveryBadge::of(delivery.status, delivery.attempts),
            attempts: delivery.attempts,
            last_http_status: delivery
                .last_http_status
                .map_or_else(|| "—".to_owned(), |status| status.to_string()),
            created: when(delivery.created_at),
            created_ago: ago(delivery.created_at, now),
            event_type: delivery.event_type,
        })
        .collect();
    let statuses = [
        (DeliveryStatus::Pending, "delivery-pending"),
        (DeliveryStatus::Succeeded, "delivery-succeeded"),
        (DeliveryStatus::Failed, "delivery-failed"),
    ]
    .into_iter()
    .map(|(value, key)| Choice {
        value: value.as_str(),
        label: views::t(key),
        selected: status == Some(value),
    })
    .collect();
    let types = EVENT_TYPES
        .iter()
        .chain([&crate::events::TEST_EVENT_TYPE])
        .map(|name| Choice {
            value: name,
            label: (*name).to_owned(),
            selected: event_type.as_deref() == Some(*name),
        })
        .collect();
    let (url, events, error) = match edit {
        Some((url, events, error)) => (url, events, Some(error)),
        None => (endpoint.url.clone(), endpoint.event_types.clone(), None),
    };
    Ok(EndpointPage {
        ui: Ui::new(
            state,
            Some(&signed.signed_in),
            Some((environment, &format!("/webhooks/{id}"))),
            "webhooks",
            endpoint.url.clone(),
        )
        .notice(query.done.as_deref()),
        base,
        id: endpoint.id.clone(),
        url,
        state: EndpointState::of(&endpoint),
        enabled: endpoint.enabled,
        events: event_choices(&events),
        failing_since: endpoint.failing_since.map(when),
        previous_secret_until: endpoint
            .previous_secret
            .as_ref()
            .filter(|previous| previous.expires_at > now)
            .map(|previous| when(previous.expires_at)),
        created: when(endpoint.created_at),
        updated: when(endpoint.updated_at),
        statuses,
        types,
        deliveries,
        filtered: status.is_some() || event_type.is_some(),
        next,
        error,
    })
}

/// `GET /dashboard/{env}/webhooks/{id}`.
pub(crate) async fn detail(
    State(state): State<AppState>,
    signed: Signed,
    Env(environment): Env,
    Path((_, id)): Path<(String, String)>,
    query: Result<Query<EndpointQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    views::render_or_problem(
        &state,
        &signed.signed_in,
        endpoint_page(&state, &signed, &environment, &id, query, None).await,
        StatusCode::OK,
    )
}

/// `POST /dashboard/{env}/webhooks/{id}`: a new URL and event types.
pub(crate) async fn update(
    State(state): State<AppState>,
    Env(environment): Env,
    Path((_, id)): Path<(String, String)>,
    AdminPost(posted): AdminPost<Fields>,
) -> Response {
    let signed = &posted.signed;
    let url = posted.form.get("url").unwrap_or_default().trim().to_owned();
    let events = posted.form.all("event");
    let patch = EndpointPatch {
        url: Some(url.clone()),
        events: Some(events.clone()),
        enabled: None,
    };
    match webhooks::update_endpoint(&state, &environment, &id, &patch, &signed.caller()).await {
        Ok(endpoint) => views::see_other(&format!(
            "{}?done=endpoint-saved",
            endpoint_href(&environment, &endpoint.id)
        )),
        Err(DomainError::Invalid { field, message }) => {
            let error = format!("{}: {message}", views::t(&format!("field-{field}")));
            let query = EndpointQuery::default();
            views::render_or_problem(
                &state,
                &signed.signed_in,
                endpoint_page(
                    &state,
                    signed,
                    &environment,
                    &id,
                    query,
                    Some((url, events, error)),
                )
                .await,
                StatusCode::BAD_REQUEST,
            )
        }
        Err(error) => views::problem(&state, &signed.signed_in, error),
    }
}

/// `POST /dashboard/{env}/webhooks/{id}/enabled`.
pub(crate) async fn set_enabled(
    State(state): State<AppState>,
    Env(environment): Env,
    Path((_, id)): Path<(String, String)>,
    AdminPost(posted): AdminPost<Fields>,
) -> Response {
    let enabled = posted.form.get("enabled") == Some("true");
    let patch = EndpointPatch {
        enabled: Some(enabled),
        ..EndpointPatch::default()
    };
    let caller = posted.signed.caller();
    match webhooks::update_endpoint(&state, &environment, &id, &patch, &caller).await {
        Ok(endpoint) => {
            let done = if enabled {
                "endpoint-enabled"
            } else {
                "endpoint-disabled"
            };
            views::see_other(&format!(
                "{}?done={done}",
                endpoint_href(&environment, &endpoint.id)
            ))
        }
        Err(error) => views::problem(&state, &posted.signed.signed_in, error),
    }
}

/// `POST /dashboard/{env}/webhooks/{id}/rotate`: a new secret, shown once; the old one keeps
/// signing for a day.
pub(crate) async fn rotate(
    State(state): State<AppState>,
    Env(environment): Env,
    Path((_, id)): Path<(String, String)>,
    AdminPost(posted): AdminPost<views::NoFields>,
) -> Response {
    let signed = &posted.signed;
    match webhooks::rotate_secret(&state, &environment, &id, &signed.caller()).await {
        Ok((endpoint, secret)) => secret_page(
            &state,
            signed,
            &environment,
            &endpoint,
            secret,
            "secret-rotated",
        ),
        Err(error) => views::problem(&state, &signed.signed_in, error),
    }
}

/// `POST /dashboard/{env}/webhooks/{id}/test`: queues a `webhook-test` event for it.
pub(crate) async fn test(
    State(state): State<AppState>,
    Env(environment): Env,
    Path((_, id)): Path<(String, String)>,
    AdminPost(posted): AdminPost<views::NoFields>,
) -> Response {
    let caller = posted.signed.caller();
    match webhooks::send_test_event(&state, &environment, &id, &caller).await {
        Ok((_, delivery)) => views::see_other(&format!(
            "{}?done=test-sent",
            delivery_href(&environment, &delivery)
        )),
        Err(error) => views::problem(&state, &posted.signed.signed_in, error),
    }
}

/// `POST /dashboard/{env}/webhooks/{id}/delete`: the URL typed again confirms.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Env(environment): Env,
    Path((_, id)): Path<(String, String)>,
    AdminPost(posted): AdminPost<Fields>,
) -> Response {
    let caller = posted.signed.caller();
    let result = async {
        let endpoint = endpoint(&state, &environment, &id).await?;
        if posted.form.get("confirm").map(str::trim) != Some(endpoint.url.as_str()) {
            return Err(DomainError::invalid(
                "confirm",
                views::t("endpoint-delete-mismatch"),
            ));
        }
        webhooks::delete_endpoint(&state, &environment, &id, &caller).await
    }
    .await;
    match result {
        Ok(()) => views::see_other(&format!(
            "/dashboard/{}/webhooks?done=endpoint-deleted",
            environment.name.as_str()
        )),
        Err(error) => views::problem(&state, &posted.signed.signed_in, error),
    }
}

/// One attempt on a delivery's page.
struct AttemptRow {
    number: u32,
    started: String,
    duration_ms: u32,
    outcome: String,
    failed: bool,
    excerpt: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/delivery.html")]
struct DeliveryPage {
    ui: Ui,
    base: String,
    endpoint_href: String,
    endpoint_url: String,
    event_id: String,
    status: DeliveryBadge,
    next_attempt: Option<String>,
    created: String,
    attempts: Vec<AttemptRow>,
    payload: String,
}

/// `GET /dashboard/{env}/webhooks/deliveries/{id}`.
pub(crate) async fn delivery(
    State(state): State<AppState>,
    signed: Signed,
    Env(environment): Env,
    Path((_, id)): Path<(String, String)>,
    query: Result<Query<views::DoneQuery>, QueryRejection>,
) -> Response {
    let done = query.ok().and_then(|Query(query)| query.done);
    let result = async {
        let detail = state
            .store
            .delivery(&environment.id, &id)
            .await?
            .ok_or_else(|| DomainError::NotFound(Missing::WebhookDelivery(id.clone())))?;
        let endpoint = endpoint(&state, &environment, &detail.delivery.endpoint_id).await?;
        Ok::<_, DomainError>((detail, endpoint))
    }
    .await;
    let (detail, endpoint) = match result {
        Ok(found) => found,
        Err(error) => return views::problem(&state, &signed.signed_in, error),
    };
    let delivery = detail.delivery;
    // The payload as sent, indented for reading when it is JSON (it always is).
    let payload = serde_json::from_str::<serde_json::Value>(&detail.payload)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or(detail.payload);
    let attempts = detail
        .attempts
        .into_iter()
        .map(|attempt| AttemptRow {
            number: attempt.number,
            started: when(attempt.started_at),
            duration_ms: attempt.duration_ms,
            failed: attempt
                .http_status
                .is_none_or(|status| !(200..300).contains(&status)),
            outcome: attempt
                .http_status
                .map(|status| status.to_string())
                .or(attempt.error)
                .unwrap_or_default(),
            excerpt: attempt.response_excerpt.filter(|text| !text.is_empty()),
        })
        .collect();
    let page = DeliveryPage {
        ui: Ui::new(
            &state,
            Some(&signed.signed_in),
            Some((&environment, &format!("/webhooks/deliveries/{id}"))),
            "webhooks",
            views::t_with("delivery-title", &[("type", &delivery.event_type)]),
        )
        .notice(done.as_deref()),
        base: delivery_href(&environment, &delivery.id),
        endpoint_href: endpoint_href(&environment, &endpoint.id),
        endpoint_url: endpoint.url,
        status: DeliveryBadge::of(delivery.status, delivery.attempts),
        next_attempt: (delivery.status == DeliveryStatus::Pending)
            .then(|| when(delivery.next_attempt_at)),
        created: when(delivery.created_at),
        event_id: delivery.event_id,
        attempts,
        payload,
    };
    views::render(&page, StatusCode::OK)
}

/// `POST /dashboard/{env}/webhooks/deliveries/{id}/retry`.
pub(crate) async fn redeliver(
    State(state): State<AppState>,
    Env(environment): Env,
    Path((_, id)): Path<(String, String)>,
    AdminPost(posted): AdminPost<views::NoFields>,
) -> Response {
    let caller = posted.signed.caller();
    match webhooks::redeliver(&state, &environment, &id, &caller).await {
        Ok(delivery) => views::see_other(&format!(
            "{}?done=redelivery-queued",
            delivery_href(&environment, &delivery.id)
        )),
        Err(error) => views::problem(&state, &posted.signed.signed_in, error),
    }
}
