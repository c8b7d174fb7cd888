//! API keys of an environment: the list (name, prefix, created, last used, revoked), creating
//! one (the key is shown once), revoking one.

use askama::Template;
use axum::{
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::Response,
};
use chrono::Utc;
use plugboard_store::Environment;
use serde::Deserialize;

use super::{
    Env,
    session::{AdminPost, Signed},
    views::{self, Ui, ago, when},
};
use crate::{
    AppState, api_keys,
    error::{DomainError, Missing},
};

/// One key in the list.
struct Row {
    id: String,
    name: String,
    prefix: String,
    created: String,
    last_used: String,
    revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/keys.html")]
struct KeysPage {
    ui: Ui,
    rows: Vec<Row>,
    name: String,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    signed: &Signed,
    environment: &Environment,
    name: String,
    error: Option<String>,
) -> Result<KeysPage, DomainError> {
    let now = Utc::now();
    let rows = state
        .store
        .list_api_keys(Some(&environment.id))
        .await?
        .into_iter()
        .map(|key| Row {
            created: when(key.created_at),
            last_used: key
                .last_used_at
                .map_or_else(|| views::t("key-never-used"), |at| ago(at, now)),
            revoked: key.revoked_at.map(when),
            id: key.id,
            name: key.name,
            prefix: key.prefix,
        })
        .collect();
    Ok(KeysPage {
        ui: Ui::new(
            state,
            Some(&signed.signed_in),
            Some((environment, "/api-keys")),
            "keys",
            views::t("keys-title"),
        ),
        rows,
        name,
        error,
    })
}

/// `GET /dashboard/{env}/api-keys`.
pub(crate) async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Env(environment): Env,
    query: Result<Query<views::DoneQuery>, QueryRejection>,
) -> Response {
    let done = query.ok().and_then(|Query(query)| query.done);
    match page(&state, &signed, &environment, String::new(), None).await {
        Ok(page) => {
            let page = KeysPage {
                ui: page.ui.notice(done.as_deref()),
                ..page
            };
            views::render(&page, StatusCode::OK)
        }
        Err(error) => views::problem(&state, &signed.signed_in, error),
    }
}

/// The create form.
#[derive(Debug, Deserialize)]
pub(crate) struct CreateForm {
    #[serde(default)]
    name: String,
}

/// `POST /dashboard/{env}/api-keys`: a new key, shown once.
pub(crate) async fn create(
    State(state): State<AppState>,
    Env(environment): Env,
    AdminPost(posted): AdminPost<CreateForm>,
) -> Response {
    let signed = &posted.signed;
    let name = posted.form.name;
    match api_keys::create(&state, environment.name, &name, &signed.caller()).await {
        Ok((record, key)) => views::shown_once(
            Ui::new(
                &state,
                Some(&signed.signed_in),
                Some((&environment, "/api-keys")),
                "keys",
                views::t("key-created-title"),
            ),
            views::t_with("key-created", &[("name", &record.name)]),
            zeroize::Zeroizing::new(key),
            (
                format!("/dashboard/{}/api-keys", environment.name.as_str()),
                views::t("key-continue"),
            ),
        ),
        Err(DomainError::Invalid { message, .. }) => {
            let error = Some(format!("{}: {message}", views::t("field-key-name")));
            views::render_or_problem(
                &state,
                &signed.signed_in,
                page(&state, signed, &environment, name, error).await,
                StatusCode::BAD_REQUEST,
            )
        }
        Err(error) => views::problem(&state, &signed.signed_in, error),
    }
}

/// `POST /dashboard/{env}/api-keys/{id}/revoke`: a key of this environment only.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Env(environment): Env,
    Path((_, id)): Path<(String, String)>,
    AdminPost(posted): AdminPost<views::NoFields>,
) -> Response {
    let caller = posted.signed.caller();
    let result = async {
        let ours = state
            .store
            .list_api_keys(Some(&environment.id))
            .await?
            .iter()
            .any(|key| key.id == id && key.revoked_at.is_none());
        if !ours {
            return Err(DomainError::NotFound(Missing::ApiKey(id.clone())));
        }
        api_keys::revoke(&state, &id, &caller).await
    }
    .await;
    match result {
        Ok(()) => views::see_other(&format!(
            "/dashboard/{}/api-keys?done=key-revoked",
            environment.name.as_str()
        )),
        Err(error) => views::problem(&state, &posted.signed.signed_in, error),
    }
}
