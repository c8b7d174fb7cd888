//! Integrations: the list (search by organisation, e-mail, origin id or integration id;
//! filters by status, "credentials failing", tool and category; newest first, in cursor
//! pages), one integration's page (end user, tool, status, checks, OAuth token times, its
//! audit trail and passthrough calls), and its actions: a relink link, disable and enable,
//! check the credentials now, delete (typing the organisation's name to confirm).

use askama::Template;
use axum::{
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::Response,
};
use chrono::{DateTime, Utc};
use plugboard_catalog::Category;
use plugboard_store::{
    Environment, Integration, IntegrationCursor, IntegrationSearch, IntegrationStatus,
    audit::AuditFilter, ids::IntegrationId, request_log::RequestFilter,
};
use serde::Deserialize;

use super::{
    Env,
    session::{AdminPost, Signed},
    views::{self, Ui, ago, when},
    webhooks::{DeliveryBadge, delivery_href},
};
use crate::{
    AppState, checks,
    error::{DomainError, Missing},
    integrations::{self, open_credentials},
    links::{self, LinkRequest, LinkType},
    oauth::TokenSet,
};

/// Integrations on one page of the list.
const PAGE: u32 = 50;

/// Entries of each log shown on an integration's page.
const LOG_ROWS: u32 = 20;

/// Query of the list: every field optional, anything unknown ignored.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    /// Search text.
    q: Option<String>,
    /// `ACTIVE`, `INVALID`, `INACTIVE` or `FAILING`.
    status: Option<String>,
    /// A catalog tool id.
    tool: Option<String>,
    /// `hris`, `ats`, …
    category: Option<String>,
    /// The cursor: the last row of the previous page, `<created_at millis>.<id>`.
    before: Option<String>,
    /// A confirmation of the last action.
    done: Option<String>,
}

/// One row of the list.
struct Row {
    href: String,
    organization: String,
    email: String,
    origin_id: String,
    tool: String,
    status: StatusBadge,
    created: String,
    created_ago: String,
}

/// A status as a badge: its text and its class (`active`, `invalid`, `inactive`, `failing`).
pub(crate) struct StatusBadge {
    text: String,
    class: &'static str,
}

impl StatusBadge {
    fn of(status: IntegrationStatus, failing: bool) -> Self {
        let class = match (status, failing) {
            (IntegrationStatus::Active, true) => "failing",
            (IntegrationStatus::Active, false) => "active",
            (IntegrationStatus::Invalid, _) => "invalid",
            (IntegrationStatus::Inactive, _) => "inactive",
        };
        Self {
            text: views::t(&format!("status-{class}")),
            class,
        }
    }
}

/// A choice in a filter's `<select>`.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "dashboard/integrations.html")]
struct ListPage {
    ui: Ui,
    q: String,
    statuses: Vec<Choice>,
    tools: Vec<Choice>,
    categories: Vec<Choice>,
    rows: Vec<Row>,
    filtered: bool,
    next: Option<String>,
}

fn parse_cursor(text: &str) -> Option<IntegrationCursor> {
    let (millis, id) = text.split_once('.')?;
    let created_at = DateTime::<Utc>::from_timestamp_millis(millis.parse().ok()?)?;
    Some(IntegrationCursor {
        created_at,
        id: id.chars().take(200).collect(),
    })
}

fn choices(options: Vec<(String, String)>, current: Option<&str>) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| Choice {
            selected: current == Some(value.as_str()),
            value,
            label,
        })
        .collect()
}

/// `GET /dashboard/{env}/integrations`.
pub(crate) async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Env(environment): Env,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let nonempty = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let text = nonempty(&query.q).map(|q| q.chars().take(200).collect::<String>());
    let status_text = nonempty(&query.status);
    let (status, failing) = match status_text.as_deref() {
        Some("FAILING") => (Some(IntegrationStatus::Active), true),
        Some(other) => (IntegrationStatus::parse(other), false),
        None => (None, false),
    };
    let tool = nonempty(&query.tool).filter(|tool| state.catalog.get(tool).is_some());
    let category = nonempty(&query.category).and_then(|c| Category::parse(&c));
    let search = IntegrationSearch {
        text: text.clone(),
        tool: tool.clone(),
        category,
        status,
        failing,
    };
    let before = query.before.as_deref().and_then(parse_cursor);
    let now = Utc::now();
    let mut found = match state
        .store
        .search_integrations(&environment.id, &search, before.as_ref(), PAGE + 1)
        .await
    {
        Ok(found) => found,
        Err(error) => return views::store_problem(&state, Some(&signed.signed_in), error),
    };
    let next = (found.len() > PAGE as usize).then(|| {
        found.truncate(PAGE as usize);
        let last = &found[found.len() - 1].integration;
        let mut params = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("q", &text),
            ("status", &status_text),
            ("tool", &tool),
            ("category", &category.map(|c| c.as_str().to_owned())),
        ] {
            if let Some(value) = value {
                params.append_pair(name, value);
            }
        }
        params.append_pair(
            "before",
            &format!("{}.{}", last.created_at.timestamp_millis(), last.id),
        );
        format!("?{}", params.finish())
    });
    let rows = found
        .into_iter()
        .map(|listed| {
            let integration = listed.integration;
            Row {
                href: detail_href(&environment, &integration.id),
                tool: tool_label(&state, &integration.tool),
                status: StatusBadge::of(integration.status, listed.health.failing_since.is_some()),
                created: when(integration.created_at),
                created_ago: ago(integration.created_at, now),
                organization: integration.end_user.organization_name,
                email: integration.end_user.email.unwrap_or_default(),
                origin_id: integration.end_user.origin_id.unwrap_or_default(),
            }
        })
        .collect();
    let statuses = ["ACTIVE", "FAILING", "INVALID", "INACTIVE"]
        .into_iter()
        .map(|value| {
            let label = views::t(&format!("status-{}", value.to_lowercase()));
            (value.to_owned(), label)
        })
        .collect();
    let mut tools: Vec<(String, String)> = state
        .catalog
        .tools()
        .map(|tool| (tool.id.clone(), tool.label.clone()))
        .collect();
    tools.sort_by_key(|(_, label)| label.to_lowercase());
    let categories = Category::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), category_label(*c)))
        .collect();
    let page = ListPage {
        ui: Ui::new(
            &state,
            Some(&signed.signed_in),
            Some((&environment, "/integrations")),
            "integrations",
            views::t("integrations-title"),
        )
        .notice(query.done.as_deref()),
        q: text.clone().unwrap_or_default(),
        statuses: choices(statuses, status_text.as_deref()),
        tools: choices(tools, tool.as_deref()),
        categories: choices(categories, category.map(|c| c.as_str())),
        rows,
        filtered: text.is_some() || status_text.is_some() || tool.is_some() || category.is_some(),
        next,
    };
    views::render(&page, StatusCode::OK)
}

fn category_label(category: Category) -> String {
    views::t(&format!("category-{}", category.as_str().to_lowercase()))
}

fn tool_label(state: &AppState, id: &str) -> String {
    state
        .catalog
        .get(id)
        .map_or_else(|| id.to_owned(), |tool| tool.label.clone())
}

/// The URL of an integration's page.
pub(crate) fn detail_href(environment: &Environment, id: &IntegrationId) -> String {
    let id: String =
        url::form_urlencoded::byte_serialize(id.as_str().as_bytes()).collect::<String>();
    format!("/dashboard/{}/integrations/{id}", environment.name.as_str())
}

/// The integration a path names, in the page's environment.
async fn find(
    state: &AppState,
    environment: &Environment,
    raw: &str,
) -> Result<Integration, DomainError> {
    let id = IntegrationId::parse(raw)
        .ok_or_else(|| DomainError::NotFound(Missing::Integration(raw.to_owned())))?;
    integrations::get(state, environment, &id).await
}

/// How the integration's credentials were given, and what the page may say of its tokens.
struct CredentialsView {
    /// "API key" or "OAuth sign-in", and the field names (never values).
    kind: String,
    /// For a signed-in integration: when the access token expires.
    token_expires: Option<String>,
    /// When the access token was issued (the last refresh).
    token_issued: Option<String>,
    /// Whether a refresh token is kept.
    refreshable: Option<bool>,
}

/// One audit entry on an integration's page.
struct AuditRow {
    when: String,
    action: String,
    actor: String,
}

/// One event about the integration, with its deliveries: its status history and what its
/// webhooks received.
struct EventRow {
    when: String,
    event_type: String,
    /// The status it changed to, for `integration-state-changed`.
    state: Option<String>,
    deliveries: Vec<DeliveryLink>,
}

/// A delivery of an event, linked to its page.
struct DeliveryLink {
    href: String,
    text: String,
    class: &'static str,
}

/// One passthrough call on an integration's page.
struct RequestRow {
    when: String,
    method: String,
    path: String,
    api: String,
    outcome: String,
    failed: bool,
    duration_ms: u32,
}

#[derive(Template)]
#[template(path = "dashboard/integration.html")]
struct DetailPage {
    ui: Ui,
    id: String,
    base: String,
    organization: String,
    email: String,
    origin_id: String,
    tool: String,
    category: String,
    status: StatusBadge,
    enabled: bool,
    created: String,
    updated: String,
    failing_since: Option<String>,
    next_check: Option<String>,
    last_checked: Option<String>,
    credentials: CredentialsView,
    audit: Vec<AuditRow>,
    requests: Vec<RequestRow>,
    events: Vec<EventRow>,
    relink_url: Option<String>,
}

/// Query of an integration's page.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DetailQuery {
    /// A confirmation of the last action.
    done: Option<String>,
}

/// `GET /dashboard/{env}/integrations/{id}`.
pub(crate) async fn detail(
    State(state): State<AppState>,
    signed: Signed,
    Env(environment): Env,
    Path((_, raw)): Path<(String, String)>,
    query: Result<Query<DetailQuery>, QueryRejection>,
) -> Response {
    let done = query.ok().and_then(|Query(query)| query.done);
    match detail_page(&state, &signed, &environment, &raw, None).await {
        Ok(page) => {
            let page = DetailPage {
                ui: page.ui.notice(done.as_deref()),
                ..page
            };
            views::render(&page, StatusCode::OK)
        }
        Err(error) => views::problem(&state, &signed.signed_in, error),
    }
}

async fn detail_page(
    state: &AppState,
    signed: &Signed,
    environment: &Environment,
    raw: &str,
    relink_url: Option<String>,
) -> Result<DetailPage, DomainError> {
    let integration = find(state, environment, raw).await?;
    let id = integration.id.clone();
    let health = state
        .store
        .integration_health(&environment.id, &id)
        .await?
        .unwrap_or_default();
    let credentials = credentials_view(state, &integration).await;
    let audit_filter = AuditFilter {
        target: Some(format!("integration:{id}")),
        ..AuditFilter::default()
    };
    let audit = state
        .store
        .list_audit_events(&environment.id, &audit_filter, None, LOG_ROWS)
        .await?
        .into_iter()
        .map(|event| AuditRow {
            when: when(event.created_at),
            action: event.action,
            actor: event.actor,
        })
        .collect();
    let requests = state
        .store
        .list_requests(
            &environment.id,
            &id,
            &RequestFilter::default(),
            None,
            LOG_ROWS,
        )
        .await?
        .into_iter()
        .map(|entry| RequestRow {
            when: when(entry.created_at),
            method: entry.method,
            path: entry.path,
            api: entry.api,
            failed: entry.error.is_some() || entry.remote_status.is_none_or(|s| s >= 400),
            outcome: entry
                .remote_status
                .map(|status| status.to_string())
                .or(entry.error)
                .unwrap_or_default(),
            duration_ms: entry.duration_ms,
        })
        .collect();
    let events = events_of(state, environment, &id).await?;
    let title = integration.end_user.organization_name.clone();
    let rest = format!(
        "/integrations/{}",
        url::form_urlencoded::byte_serialize(id.as_str().as_bytes()).collect::<String>()
    );
    Ok(DetailPage {
        ui: Ui::new(
            state,
            Some(&signed.signed_in),
            Some((environment, &rest)),
            "integrations",
            title,
        ),
        base: detail_href(environment, &id),
        id: id.to_string(),
        tool: tool_label(state, &integration.tool),
        category: category_label(integration.category),
        status: StatusBadge::of(integration.status, health.failing_since.is_some()),
        enabled: integration.status != IntegrationStatus::Inactive,
        created: when(integration.created_at),
        updated: when(integration.updated_at),
        failing_since: health.failing_since.map(when),
        next_check: health.next_check_at.map(when),
        last_checked: health.last_checked_at.map(when),
        credentials,
        audit,
        requests,
        events,
        relink_url,
        organization: integration.end_user.organization_name,
        email: integration.end_user.email.unwrap_or_default(),
        origin_id: integration.end_user.origin_id.unwrap_or_default(),
    })
}

/// The integration's newest events, each with its deliveries.
async fn events_of(
    state: &AppState,
    environment: &Environment,
    id: &IntegrationId,
) -> Result<Vec<EventRow>, DomainError> {
    let events = state
        .store
        .integration_events(&environment.id, id.as_str(), LOG_ROWS)
        .await?;
    let mut deliveries = state
        .store
        .integration_deliveries(&environment.id, id.as_str(), LOG_ROWS)
        .await?;
    Ok(events
        .into_iter()
        .map(|event| {
            let state = (event.event_type == "integration-state-changed")
                .then(|| serde_json::from_str::<serde_json::Value>(&event.payload).ok())
                .flatten()
                .and_then(|payload| payload["data"]["state"].as_str().map(str::to_owned));
            let mine: Vec<_> = deliveries
                .extract_if(.., |delivery| delivery.event_id == event.id)
                .collect();
            EventRow {
                when: when(event.created_at),
                event_type: event.event_type,
                state,
                deliveries: mine
                    .into_iter()
                    .map(|delivery| {
                        let badge = DeliveryBadge::of(delivery.status, delivery.attempts);
                        DeliveryLink {
                            href: delivery_href(environment, &delivery.id),
                            text: badge.text,
                            class: badge.class,
                        }
                    })
                    .collect(),
            }
        })
        .collect())
}

/// What the page shows of the credentials: their kind and field names, and for OAuth the
/// token times. Values never leave the vault for a page.
async fn credentials_view(state: &AppState, integration: &Integration) -> CredentialsView {
    let opened = match open_credentials(state.store.as_ref(), &state.vault, &integration.id).await {
        Ok(opened) => opened,
        Err(error) => {
            tracing::error!(integration_id = %integration.id, %error, "opening credentials for the dashboard");
            return CredentialsView {
                kind: views::t("credentials-unreadable"),
                token_expires: None,
                token_issued: None,
                refreshable: None,
            };
        }
    };
    match TokenSet::from_credentials(opened.get()) {
        Some(tokens) => CredentialsView {
            kind: views::t("credentials-oauth"),
            token_expires: Some(
                tokens
                    .expires_at
                    .map_or_else(|| views::t("token-no-expiry"), when),
            ),
            token_issued: Some(when(tokens.issued_at)),
            refreshable: Some(tokens.refresh_token.is_some()),
        },
        None => {
            let fields: Vec<&str> = opened.get().keys().map(String::as_str).collect();
            CredentialsView {
                kind: views::t_with("credentials-fields", &[("fields", &fields.join(", "))]),
                token_expires: None,
                token_issued: None,
                refreshable: None,
            }
        }
    }
}

/// The enable/disable form.
#[derive(Debug, Deserialize)]
pub(crate) struct EnabledForm {
    /// `true` or `false`.
    enabled: String,
}

/// `POST /dashboard/{env}/integrations/{id}/enabled`.
pub(crate) async fn set_enabled(
    State(state): State<AppState>,
    Env(environment): Env,
    Path((_, raw)): Path<(String, String)>,
    AdminPost(posted): AdminPost<EnabledForm>,
) -> Response {
    let enabled = posted.form.enabled == "true";
    let caller = posted.signed.caller();
    let result = async {
        let integration = find(&state, &environment, &raw).await?;
        integrations::set_enabled(&state, &environment, &integration.id, enabled, &caller).await?;
        Ok::<_, DomainError>(integration)
    }
    .await;
    match result {
        Ok(integration) => {
            let done = if enabled { "enabled" } else { "disabled" };
            views::see_other(&format!(
                "{}?done={done}",
                detail_href(&environment, &integration.id)
            ))
        }
        Err(error) => views::problem(&state, &posted.signed.signed_in, error),
    }
}

/// `POST /dashboard/{env}/integrations/{id}/check`: the credentials are verified within
/// moments by the connection checker.
pub(crate) async fn check_now(
    State(state): State<AppState>,
    Env(environment): Env,
    Path((_, raw)): Path<(String, String)>,
    AdminPost(posted): AdminPost<views::NoFields>,
) -> Response {
    let caller = posted.signed.caller();
    let result = async {
        let integration = find(&state, &environment, &raw).await?;
        checks::check_now(&state, &environment, &integration.id, &caller).await?;
        Ok::<_, DomainError>(integration)
    }
    .await;
    match result {
        Ok(integration) => views::see_other(&format!(
            "{}?done=check-scheduled",
            detail_href(&environment, &integration.id)
        )),
        Err(error) => views::problem(&state, &posted.signed.signed_in, error),
    }
}

/// `POST /dashboard/{env}/integrations/{id}/relink`: a magic link through which the end user
/// enters new credentials, shown on the integration's page to copy.
pub(crate) async fn relink(
    State(state): State<AppState>,
    Env(environment): Env,
    Path((_, raw)): Path<(String, String)>,
    AdminPost(posted): AdminPost<views::NoFields>,
) -> Response {
    let signed = &posted.signed;
    let result = async {
        let integration = find(&state, &environment, &raw).await?;
        let request = LinkRequest::relink(integration, None, LinkType::MagicLink, None);
        let url = links::create(&state, &environment, request, &signed.caller()).await?;
        detail_page(&state, signed, &environment, &raw, Some(url)).await
    }
    .await;
    match result {
        Ok(page) => views::render(&page, StatusCode::OK),
        Err(error) => views::problem(&state, &signed.signed_in, error),
    }
}

/// The delete form: the organisation's name typed again.
#[derive(Debug, Deserialize)]
pub(crate) struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

/// `POST /dashboard/{env}/integrations/{id}/delete`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Env(environment): Env,
    Path((_, raw)): Path<(String, String)>,
    AdminPost(posted): AdminPost<DeleteForm>,
) -> Response {
    let caller = posted.signed.caller();
    let result = async {
        let integration = find(&state, &environment, &raw).await?;
        if posted.form.confirm.trim() != integration.end_user.organization_name.trim() {
            return Err(DomainError::invalid(
                "confirm",
                views::t_with(
                    "delete-confirm-mismatch",
                    &[("name", &integration.end_user.organization_name)],
                ),
            ));
        }
        integrations::delete(&state, &environment, &integration.id, &caller).await
    }
    .await;
    match result {
        Ok(()) => views::see_other(&format!(
            "/dashboard/{}/integrations?done=deleted",
            environment.name.as_str()
        )),
        Err(error) => views::problem(&state, &posted.signed.signed_in, error),
    }
}
