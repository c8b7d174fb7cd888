//! The audit trail of an environment: newest first, filtered by action, actor, target or link,
//! in cursor pages. The production trail also holds the operators' own entries (sign-ins,
//! accounts), which are deployment-wide.

use askama::Template;
use axum::{
    extract::{Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::Response,
};
use chrono::{DateTime, Utc};
use plugboard_store::audit::AuditFilter;
use serde::Deserialize;

use super::{
    Env,
    session::Signed,
    views::{self, Ui, when},
};
use crate::{AppState, audit::Action};

/// Entries on one page.
const PAGE: u32 = 100;

/// Query of the trail.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TrailQuery {
    action: Option<String>,
    actor: Option<String>,
    target: Option<String>,
    link: Option<String>,
    /// `<created_at millis>.<id>` of the last entry on the previous page.
    before: Option<String>,
}

/// One entry.
struct Row {
    when: String,
    action: String,
    actor: String,
    target: String,
    ip: String,
    detail: String,
}

/// An action in the filter's `<select>`.
struct Choice {
    value: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "dashboard/audit.html")]
struct TrailPage {
    ui: Ui,
    actions: Vec<Choice>,
    actor: String,
    target: String,
    link: String,
    rows: Vec<Row>,
    filtered: bool,
    next: Option<String>,
}

fn text(value: Option<String>) -> Option<String> {
    value
        .map(|value| value.trim().chars().take(200).collect::<String>())
        .filter(|value| !value.is_empty())
}

/// `GET /dashboard/{env}/audit`.
pub(crate) async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Env(environment): Env,
    query: Result<Query<TrailQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let action = text(query.action).filter(|a| Action::ALL.iter().any(|k| k.as_str() == a));
    let filter = AuditFilter {
        action: action.clone(),
        actor: text(query.actor),
        target: text(query.target),
        link_id: text(query.link),
        since: None,
        until: None,
    };
    let before = query.before.as_deref().and_then(|text| {
        let (millis, id) = text.split_once('.')?;
        Some((
            DateTime::<Utc>::from_timestamp_millis(millis.parse().ok()?)?,
            id.chars().take(100).collect::<String>(),
        ))
    });
    let mut entries = match state
        .store
        .list_audit_events(
            &environment.id,
            &filter,
            before.as_ref().map(|(at, id)| (*at, id.as_str())),
            PAGE + 1,
        )
        .await
    {
        Ok(entries) => entries,
        Err(error) => return views::store_problem(&state, Some(&signed.signed_in), error),
    };
    let next = (entries.len() > PAGE as usize).then(|| {
        entries.truncate(PAGE as usize);
        let last = &entries[entries.len() - 1];
        let mut params = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("action", &filter.action),
            ("actor", &filter.actor),
            ("target", &filter.target),
            ("link", &filter.link_id),
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
    let rows = entries
        .into_iter()
        .map(|entry| Row {
            when: when(entry.created_at),
            action: entry.action,
            actor: entry.actor,
            target: entry.target.unwrap_or_default(),
            ip: entry.ip.unwrap_or_default(),
            detail: if entry.detail == "{}" {
                String::new()
            } else {
                entry.detail
            },
        })
        .collect();
    let page = TrailPage {
        ui: Ui::new(
            &state,
            Some(&signed.signed_in),
            Some((&environment, "/audit")),
            "audit",
            views::t("audit-title"),
        ),
        actions: Action::ALL
            .iter()
            .map(|known| Choice {
                value: known.as_str(),
                selected: action.as_deref() == Some(known.as_str()),
            })
            .collect(),
        filtered: filter.action.is_some()
            || filter.actor.is_some()
            || filter.target.is_some()
            || filter.link_id.is_some(),
        actor: filter.actor.unwrap_or_default(),
        target: filter.target.unwrap_or_default(),
        link: filter.link_id.unwrap_or_default(),
        rows,
        next,
    };
    views::render(&page, StatusCode::OK)
}
