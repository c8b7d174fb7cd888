//! The operator dashboard at `/dashboard`: what an operator does with Plugboard, in a
//! browser. Pages are rendered on the server (askama, texts from Fluent) and work without
//! JavaScript; `dashboard.js` only adds copy buttons and confirmations. Every action calls the
//! same domain operation as the API, with the operator as the audit trail's actor.
//!
//! Paths name the environment (`/dashboard/production/integrations`), so a page can be
//! shared, the environment is always visible, and switching it is a link to the same page in
//! the other one. Sessions, CSRF and roles: `session.rs`; signing in: `signin.rs`.

use axum::{
    Router,
    extract::{FromRequestParts, State},
    http::{StatusCode, request::Parts},
    response::Response,
    routing::{get, post},
};
use plugboard_store::{Environment, EnvironmentName};

use crate::AppState;

mod audit;
mod integrations;
mod keys;
mod links;
mod oauth_apps;
mod overview;
mod session;
mod settings;
mod signin;
mod views;
mod webhooks;

pub(crate) use session::session_cookie;

/// The environment a page's path names (`/dashboard/{env}/…`).
pub(crate) struct Env(pub Environment);

impl FromRequestParts<AppState> for Env {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let segment = parts
            .uri
            .path()
            .strip_prefix("/dashboard/")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default();
        match EnvironmentName::parse(segment) {
            Some(name) => Ok(Self(state.environments.get(name).clone())),
            None => Err(views::message(
                state,
                None,
                StatusCode::NOT_FOUND,
                "error-not-found-title",
                views::t("error-no-page"),
            )),
        }
    }
}

/// Refuses a dashboard address whose path or query holds a control character (a NUL that
/// PostgreSQL cannot compare, a line break that no header may carry): the client's mistake,
/// answered as one before any handler reads it.
async fn reject_control_characters(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let raw = request
        .uri()
        .path_and_query()
        .map_or("", |path| path.as_str());
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    if decoded.chars().any(char::is_control) {
        return views::message(
            &state,
            None,
            StatusCode::BAD_REQUEST,
            "error-invalid-title",
            views::t("error-control-characters"),
        );
    }
    next.run(request).await
}

/// `GET /dashboard`: the overview of production.
async fn home(_: session::Signed) -> Response {
    views::see_other("/dashboard/production")
}

/// `GET /dashboard/{env}/…` for a page that does not exist.
async fn not_found(State(state): State<AppState>, signed: session::Signed) -> Response {
    views::message(
        &state,
        Some(&signed.signed_in),
        StatusCode::NOT_FOUND,
        "error-not-found-title",
        views::t("error-no-page"),
    )
}

/// The dashboard's routes.
fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(home))
        .route("/dashboard/sign-in", get(signin::page).post(signin::submit))
        .route(
            crate::operators::WELCOME_PATH,
            get(signin::welcome).post(signin::choose),
        )
        .route("/dashboard/sign-out", post(signin::sign_out))
        .route("/dashboard/oidc/start", get(signin::sso_start))
        .route(crate::oidc::CALLBACK_PATH, get(signin::sso_callback))
        .route(
            "/dashboard/assets/{version}/{file}",
            get(crate::assets::serve),
        )
        .route("/dashboard/{env}", get(overview::page))
        .route("/dashboard/{env}/integrations", get(integrations::list))
        .route(
            "/dashboard/{env}/integrations/{id}",
            get(integrations::detail),
        )
        .route(
            "/dashboard/{env}/integrations/{id}/enabled",
            post(integrations::set_enabled),
        )
        .route(
            "/dashboard/{env}/integrations/{id}/check",
            post(integrations::check_now),
        )
        .route(
            "/dashboard/{env}/integrations/{id}/relink",
            post(integrations::relink),
        )
        .route(
            "/dashboard/{env}/integrations/{id}/delete",
            post(integrations::delete),
        )
        .route(
            "/dashboard/{env}/links",
            get(links::list).post(links::create),
        )
        .route("/dashboard/{env}/links/{id}", get(links::detail))
        .route("/dashboard/{env}/links/{id}/revoke", post(links::revoke))
        .route(
            "/dashboard/{env}/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/dashboard/{env}/webhooks/{id}",
            get(webhooks::detail).post(webhooks::update),
        )
        .route(
            "/dashboard/{env}/webhooks/{id}/enabled",
            post(webhooks::set_enabled),
        )
        .route(
            "/dashboard/{env}/webhooks/{id}/rotate",
            post(webhooks::rotate),
        )
        .route("/dashboard/{env}/webhooks/{id}/test", post(webhooks::test))
        .route(
            "/dashboard/{env}/webhooks/{id}/delete",
            post(webhooks::delete),
        )
        .route(
            "/dashboard/{env}/webhooks/deliveries/{id}",
            get(webhooks::delivery),
        )
        .route(
            "/dashboard/{env}/webhooks/deliveries/{id}/retry",
            post(webhooks::redeliver),
        )
        .route(
            "/dashboard/{env}/api-keys",
            get(keys::list).post(keys::create),
        )
        .route("/dashboard/{env}/api-keys/{id}/revoke", post(keys::revoke))
        .route("/dashboard/{env}/oauth-apps", get(oauth_apps::list))
        .route(
            "/dashboard/{env}/oauth-apps/{tool}",
            get(oauth_apps::detail).post(oauth_apps::save),
        )
        .route(
            "/dashboard/{env}/oauth-apps/{tool}/remove",
            post(oauth_apps::remove),
        )
        .route("/dashboard/{env}/audit", get(audit::page))
        .route(
            "/dashboard/{env}/settings",
            get(settings::show).post(settings::save),
        )
        .route("/dashboard/{env}/{*rest}", get(not_found))
}

/// [`routes`] with the check every dashboard address passes first.
pub fn router_with(state: &AppState) -> Router<AppState> {
    routes().route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        reject_control_characters,
    ))
}
