//! Connection links: create a magic link for a customer (shown once, to copy), the list of
//! magic links with how far each end user got (not opened, opened, refused at verification and
//! why, used, expired, revoked), a link's page with every step the end user took, and revoking.
//!
//! Embedded links are made by the operator's app for each page view and stored nowhere, so
//! only magic links (and relink links made as magic links) are listed.

use askama::Template;
use axum::{
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::Response,
};
use chrono::{DateTime, Utc};
use plugboard_catalog::Category;
use plugboard_store::{EndUser, Environment, LinkProgress, MagicLink, audit::AuditFilter};
use serde::Deserialize;

use super::{
    Env,
    integrations::detail_href,
    session::{AdminPost, Signed},
    views::{self, Ui, ago, when},
};
use crate::{
    AppState,
    error::{DomainError, Missing},
    links::{self, Language, LinkKind, LinkRequest, LinkType},
};

/// Links on one page of the list.
const PAGE: u32 = 50;

/// Where a link stands, as a badge.
struct LinkState {
    text: String,
    class: &'static str,
}

/// What the list and the link's page say of a link's state, from its record and progress.
fn link_state(
    link: &MagicLink,
    used: bool,
    opened: bool,
    last_step: Option<&str>,
    last_detail: Option<&str>,
    now: DateTime<Utc>,
) -> LinkState {
    let (text, class) = if link.revoked_at.is_some() {
        (views::t("link-revoked"), "inactive")
    } else if used {
        (views::t("link-used"), "active")
    } else if link.expires_at <= now {
        (views::t("link-expired"), "inactive")
    } else if last_step == Some("link.verification_failed") {
        let outcome = outcome_of(last_detail);
        (
            views::t_with("link-failed", &[("why", &outcome)]),
            "invalid",
        )
    } else if opened {
        (views::t("link-opened"), "failing")
    } else {
        (views::t("link-not-opened"), "inactive")
    };
    LinkState { text, class }
}

/// Why a verification failed, in the operator's words, from an audit entry's detail.
fn outcome_of(detail: Option<&str>) -> String {
    let outcome = detail
        .and_then(|detail| serde_json::from_str::<serde_json::Value>(detail).ok())
        .and_then(|detail| detail["outcome"].as_str().map(str::to_owned));
    match outcome.as_deref() {
        Some(
            known @ ("invalid_credentials"
            | "missing_permission"
            | "wrong_instance"
            | "rate_limited"
            | "unreachable"),
        ) => views::t(&format!("outcome-{known}")),
        Some(other) => other.to_owned(),
        None => views::t("outcome-unknown"),
    }
}

/// One link in the list.
struct Row {
    href: String,
    organization: String,
    email: String,
    relink: bool,
    offers: String,
    state: LinkState,
    last_step: String,
    created: String,
    created_ago: String,
}

/// A choice in a `<select>`.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// What the create form holds (kept when it is refused).
#[derive(Default)]
struct Draft {
    organization: String,
    email: String,
    origin_id: String,
    category: Option<String>,
    tool: Option<String>,
    language: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/links.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<Row>,
    next: Option<String>,
    draft: Draft,
    categories: Vec<Choice>,
    tools: Vec<Choice>,
    languages: Vec<Choice>,
    error: Option<String>,
    created: Option<String>,
}

/// Query of the list.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    /// `<created_at millis>.<id>` of the last link on the previous page.
    before: Option<String>,
    done: Option<String>,
}

fn step_label(action: &str) -> String {
    let step = action
        .strip_prefix("link.")
        .unwrap_or(action)
        .replace('_', "-");
    match step.as_str() {
        "opened"
        | "tool-chosen"
        | "credentials-submitted"
        | "verification-failed"
        | "verification-succeeded"
        | "completed"
        | "signin-started" => views::t(&format!("step-{step}")),
        _ => action.to_owned(),
    }
}

/// Where a step comes in the flow, for steps recorded in the same millisecond.
fn stage(action: &str) -> u8 {
    match action {
        "link.completed" => 5,
        "link.verification_failed" | "link.verification_succeeded" => 4,
        "link.credentials_submitted" | "link.signin_started" => 3,
        "link.tool_chosen" => 2,
        _ => 1,
    }
}

fn link_href(environment: &Environment, id: &str) -> String {
    format!("/dashboard/{}/links/{id}", environment.name.as_str())
}

async fn list_page(
    state: &AppState,
    signed: &Signed,
    environment: &Environment,
    before: Option<String>,
    draft: Draft,
    error: Option<String>,
    created: Option<String>,
) -> Result<ListPage, DomainError> {
    let cursor = before.as_deref().and_then(|text| {
        let (millis, id) = text.split_once('.')?;
        Some((
            DateTime::<Utc>::from_timestamp_millis(millis.parse().ok()?)?,
            id.chars().take(100).collect::<String>(),
        ))
    });
    let mut found = state
        .store
        .list_link_progress(
            &environment.id,
            cursor.as_ref().map(|(at, id)| (*at, id.as_str())),
            PAGE + 1,
        )
        .await?;
    let next = (found.len() > PAGE as usize).then(|| {
        found.truncate(PAGE as usize);
        let last = &found[found.len() - 1].link;
        format!(
            "/dashboard/{}/links?before={}.{}",
            environment.name.as_str(),
            last.created_at.timestamp_millis(),
            last.id
        )
    });
    let now = Utc::now();
    let rows = found
        .into_iter()
        .map(|progress: LinkProgress| {
            let badge = link_state(
                &progress.link,
                progress.used,
                progress.opened_at.is_some(),
                progress.last_step.as_deref(),
                progress.last_detail.as_deref(),
                now,
            );
            let link = progress.link;
            Row {
                href: link_href(environment, &link.id),
                relink: link.integration_id.is_some(),
                offers: offers(
                    tool_label(&state.catalog, link.tool.as_deref()),
                    link.category,
                ),
                state: badge,
                last_step: progress
                    .last_step
                    .as_deref()
                    .map(step_label)
                    .unwrap_or_default(),
                created: when(link.created_at),
                created_ago: ago(link.created_at, now),
                organization: link.end_user.organization_name,
                email: link.end_user.email.unwrap_or_default(),
            }
        })
        .collect();
    let categories = Category::ALL
        .iter()
        .map(|category| Choice {
            value: category.as_str().to_owned(),
            label: views::t(&format!("category-{}", category.as_str().to_lowercase())),
            selected: draft.category.as_deref() == Some(category.as_str()),
        })
        .collect();
    let mut tools: Vec<Choice> = state
        .catalog
        .tools()
        .filter(|tool| {
            !tool.development_only
                || environment.name == plugboard_store::EnvironmentName::Development
        })
        .map(|tool| Choice {
            value: tool.id.clone(),
            label: tool.label.clone(),
            selected: draft.tool.as_deref() == Some(tool.id.as_str()),
        })
        .collect();
    tools.sort_by_key(|choice| choice.label.to_lowercase());
    let languages = [
        ("en", "English"),
        ("de", "Deutsch"),
        ("fr", "Français"),
        ("it", "Italiano"),
        ("es", "Español"),
    ]
    .into_iter()
    .map(|(value, label)| Choice {
        value: value.to_owned(),
        label: label.to_owned(),
        selected: draft.language.as_deref() == Some(value),
    })
    .collect();
    Ok(ListPage {
        ui: Ui::new(
            state,
            Some(&signed.signed_in),
            Some((environment, "/links")),
            "links",
            views::t("links-title"),
        ),
        rows,
        next,
        draft,
        categories,
        tools,
        languages,
        error,
        created,
    })
}

/// The label of a link's tool, if it names one.
fn tool_label(catalog: &plugboard_catalog::Catalog, tool: Option<&str>) -> Option<String> {
    tool.map(|id| {
        catalog
            .get(id)
            .map_or_else(|| id.to_owned(), |tool| tool.label.clone())
    })
}

/// What a link offers: its tool, or any tool of its category.
fn offers(tool: Option<String>, category: Category) -> String {
    tool.unwrap_or_else(|| {
        views::t_with(
            "link-any-tool",
            &[(
                "category",
                &views::t(&format!("category-{}", category.as_str().to_lowercase())),
            )],
        )
    })
}

/// `GET /dashboard/{env}/links`.
pub(crate) async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Env(environment): Env,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let draft = Draft {
        category: Some(Category::Hris.as_str().to_owned()),
        ..Draft::default()
    };
    match list_page(
        &state,
        &signed,
        &environment,
        query.before,
        draft,
        None,
        None,
    )
    .await
    {
        Ok(page) => {
            let page = ListPage {
                ui: page.ui.notice(query.done.as_deref()),
                ..page
            };
            views::render(&page, StatusCode::OK)
        }
        Err(error) => views::problem(&state, &signed.signed_in, error),
    }
}

/// The create form's fields.
#[derive(Debug, Deserialize)]
pub(crate) struct CreateForm {
    #[serde(default)]
    organization: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    origin_id: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    tool: String,
    #[serde(default)]
    language: String,
}

fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// `POST /dashboard/{env}/links`: a magic link, shown on the list to copy.
pub(crate) async fn create(
    State(state): State<AppState>,
    Env(environment): Env,
    AdminPost(posted): AdminPost<CreateForm>,
) -> Response {
    let signed = &posted.signed;
    let form = posted.form;
    let draft = Draft {
        organization: form.organization.trim().to_owned(),
        email: form.email.trim().to_owned(),
        origin_id: form.origin_id.trim().to_owned(),
        category: optional(&form.category),
        tool: optional(&form.tool),
        language: optional(&form.language),
    };
    let result = async {
        let category = Category::parse(&form.category).ok_or_else(|| {
            DomainError::invalid("integration_category", views::t("link-choose-category"))
        })?;
        let language = match optional(&form.language) {
            None => None,
            Some(code) => Some(
                serde_json::from_value::<Language>(serde_json::Value::String(code)).map_err(
                    |_| DomainError::invalid("language", views::t("link-choose-language")),
                )?,
            ),
        };
        let request = LinkRequest {
            kind: LinkKind::Connect,
            integration_id: None,
            category,
            tool: draft.tool.clone(),
            remote_environment: None,
            language,
            link_type: LinkType::MagicLink,
            end_user: EndUser {
                email: optional(&draft.email),
                organization_name: draft.organization.clone(),
                origin_id: optional(&draft.origin_id),
            },
            scope_config_id: None,
        };
        links::create(&state, &environment, request, &signed.caller()).await
    }
    .await;
    let (status, error, created, draft) = match result {
        Ok(url) => (
            StatusCode::OK,
            None,
            Some(url),
            Draft {
                category: draft.category,
                ..Draft::default()
            },
        ),
        Err(DomainError::Invalid { field, message }) => {
            let label = views::t(&format!("link-field-{}", field.replace('_', "-")));
            (
                StatusCode::BAD_REQUEST,
                Some(format!("{label}: {message}")),
                None,
                draft,
            )
        }
        Err(error) => return views::problem(&state, &signed.signed_in, error),
    };
    match list_page(&state, signed, &environment, None, draft, error, created).await {
        Ok(page) => views::render(&page, status),
        Err(error) => views::problem(&state, &signed.signed_in, error),
    }
}

/// One step of the end user.
struct StepRow {
    when: String,
    step: String,
    detail: String,
    failed: bool,
}

#[derive(Template)]
#[template(path = "dashboard/link.html")]
struct LinkPage {
    ui: Ui,
    base: String,
    id: String,
    state: LinkState,
    revocable: bool,
    email: String,
    origin_id: String,
    offers: String,
    integration: Option<String>,
    created: String,
    expires: String,
    steps: Vec<StepRow>,
}

/// What an end user's step adds to its name: the tool chosen, why a verification failed.
fn step_detail(state: &AppState, action: &str, detail: &str) -> String {
    let detail: serde_json::Value = serde_json::from_str(detail).unwrap_or_default();
    if action == "link.verification_failed" {
        return outcome_of(Some(&detail.to_string()));
    }
    let tool = detail["tool"].as_str().map(|id| {
        state
            .catalog
            .get(id)
            .map_or_else(|| id.to_owned(), |tool| tool.label.clone())
    });
    match (tool, detail["mode"].as_str()) {
        (Some(tool), Some(mode)) => format!("{tool} ({mode})"),
        (Some(tool), None) => tool,
        (None, _) => String::new(),
    }
}

/// `GET /dashboard/{env}/links/{id}`.
pub(crate) async fn detail(
    State(state): State<AppState>,
    signed: Signed,
    Env(environment): Env,
    Path((_, id)): Path<(String, String)>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let done = query.ok().and_then(|Query(query)| query.done);
    let result = async {
        let link = state
            .store
            .magic_link(&id)
            .await?
            .filter(|link| link.environment_id == environment.id)
            .ok_or_else(|| DomainError::NotFound(Missing::MagicLink(id.clone())))?;
        let used = state.store.link_consumed(&link.id).await?;
        let filter = AuditFilter {
            link_id: Some(link.id.clone()),
            ..AuditFilter::default()
        };
        let mut entries = state
            .store
            .list_audit_events(&environment.id, &filter, None, 200)
            .await?;
        // Oldest first; steps written in the same millisecond in the flow's order (as the
        // store's list of links orders them).
        entries.sort_by_key(|entry| (entry.created_at, stage(&entry.action)));
        Ok::<_, DomainError>((link, used, entries))
    }
    .await;
    let (link, used, entries) = match result {
        Ok(found) => found,
        Err(error) => return views::problem(&state, &signed.signed_in, error),
    };
    let now = Utc::now();
    let steps: Vec<StepRow> = entries
        .iter()
        .map(|entry| StepRow {
            when: when(entry.created_at),
            step: if entry.actor == "end_user" {
                step_label(&entry.action)
            } else {
                views::t_with("step-by-operator", &[("action", &entry.action)])
            },
            detail: step_detail(&state, &entry.action, &entry.detail),
            failed: entry.action == "link.verification_failed",
        })
        .collect();
    let last = entries.iter().rev().find(|entry| entry.actor == "end_user");
    let opened = entries.iter().any(|entry| entry.action == "link.opened");
    let state_badge = link_state(
        &link,
        used,
        opened,
        last.map(|entry| entry.action.as_str()),
        last.map(|entry| entry.detail.as_str()),
        now,
    );
    let page = LinkPage {
        ui: Ui::new(
            &state,
            Some(&signed.signed_in),
            Some((&environment, &format!("/links/{}", link.id))),
            "links",
            link.end_user.organization_name.clone(),
        )
        .notice(done.as_deref()),
        base: link_href(&environment, &link.id),
        id: link.id.clone(),
        state: state_badge,
        revocable: link.revoked_at.is_none() && !used && link.expires_at > now,
        offers: offers(
            tool_label(&state.catalog, link.tool.as_deref()),
            link.category,
        ),
        integration: link
            .integration_id
            .as_ref()
            .map(|id| detail_href(&environment, id)),
        created: when(link.created_at),
        expires: when(link.expires_at),
        steps,
        email: link.end_user.email.unwrap_or_default(),
        origin_id: link.end_user.origin_id.unwrap_or_default(),
    };
    views::render(&page, StatusCode::OK)
}

/// `POST /dashboard/{env}/links/{id}/revoke`.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Env(environment): Env,
    Path((_, id)): Path<(String, String)>,
    AdminPost(posted): AdminPost<views::NoFields>,
) -> Response {
    let caller = posted.signed.caller();
    match links::revoke(&state, &environment, &id, &caller).await {
        Ok(()) => views::see_other(&format!(
            "{}?done=link-revoked",
            link_href(&environment, &id)
        )),
        Err(error) => views::problem(&state, &posted.signed.signed_in, error),
    }
}
