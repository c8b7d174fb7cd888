//! An environment's settings: the product name the flow shows and the origins allowed to
//! frame it, each falling back to the configuration when left empty.

use askama::Template;
use axum::{
    extract::{Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::Response,
};
use plugboard_store::{Environment, EnvironmentName};
use serde::Deserialize;

use super::{
    Env,
    session::{AdminPost, Signed},
    views::{self, Ui, when},
};
use crate::{
    AppState,
    error::DomainError,
    settings::{self, SettingsInput},
};

#[derive(Template)]
#[template(path = "dashboard/settings.html")]
struct SettingsPage {
    ui: Ui,
    product_name: String,
    frame_ancestors: String,
    configured_product_name: String,
    configured_frame_ancestors: String,
    effective_frame_ancestors: String,
    framing_open: bool,
    saved: Option<String>,
    error: Option<String>,
}

fn page(
    state: &AppState,
    signed: &Signed,
    environment: &Environment,
    form: Option<(String, String)>,
    error: Option<String>,
) -> SettingsPage {
    let saved = settings::saved(state, environment);
    let (product_name, frame_ancestors) = form.unwrap_or_else(|| {
        let saved = saved.clone();
        (
            saved
                .as_ref()
                .and_then(|s| s.product_name.clone())
                .unwrap_or_default(),
            saved.and_then(|s| s.frame_ancestors).unwrap_or_default(),
        )
    });
    let configured_frame_ancestors = match environment.name {
        EnvironmentName::Production => state.config.frame_ancestors_production.clone(),
        EnvironmentName::Development => state.config.frame_ancestors_development.clone(),
    };
    let effective_frame_ancestors = settings::frame_ancestors(state, environment);
    SettingsPage {
        ui: Ui::new(
            state,
            Some(&signed.signed_in),
            Some((environment, "/settings")),
            "settings",
            views::t("settings-title"),
        ),
        product_name,
        frame_ancestors,
        configured_product_name: state
            .config
            .branding(environment.name)
            .product_name
            .unwrap_or_default(),
        configured_frame_ancestors,
        framing_open: environment.name == EnvironmentName::Production
            && effective_frame_ancestors
                .split_whitespace()
                .any(|s| s == "*"),
        effective_frame_ancestors,
        saved: saved.map(|s| when(s.updated_at)),
        error,
    }
}

/// `GET /dashboard/{env}/settings`.
pub(crate) async fn show(
    State(state): State<AppState>,
    signed: Signed,
    Env(environment): Env,
    query: Result<Query<views::DoneQuery>, QueryRejection>,
) -> Response {
    let done = query.ok().and_then(|Query(query)| query.done);
    let page = page(&state, &signed, &environment, None, None);
    let page = SettingsPage {
        ui: page.ui.notice(done.as_deref()),
        ..page
    };
    views::render(&page, StatusCode::OK)
}

/// The form's fields.
#[derive(Debug, Deserialize)]
pub(crate) struct SettingsForm {
    #[serde(default)]
    product_name: String,
    #[serde(default)]
    frame_ancestors: String,
}

/// `POST /dashboard/{env}/settings`.
pub(crate) async fn save(
    State(state): State<AppState>,
    Env(environment): Env,
    AdminPost(posted): AdminPost<SettingsForm>,
) -> Response {
    let signed = &posted.signed;
    let form = posted.form;
    let input = SettingsInput {
        product_name: form.product_name.clone(),
        frame_ancestors: form.frame_ancestors.clone(),
    };
    match settings::save(&state, &environment, input, &signed.caller()).await {
        Ok(_) => views::see_other(&format!(
            "/dashboard/{}/settings?done=settings-saved",
            environment.name.as_str()
        )),
        Err(DomainError::Invalid { field, message }) => {
            let label = views::t(&format!("settings-{}", field.replace('_', "-")));
            let form = Some((form.product_name, form.frame_ancestors));
            let page = page(
                &state,
                signed,
                &environment,
                form,
                Some(format!("{label}: {message}")),
            );
            views::render(&page, StatusCode::BAD_REQUEST)
        }
        Err(error) => views::problem(&state, &signed.signed_in, error),
    }
}
