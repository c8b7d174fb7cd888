//! The Kombo-compatible `/v1` API and Plugboard's extensions to it. One module per resource
//! holds its wire types and handlers; [`routes()`] below is the one list of endpoints, from
//! which both the `/v1` router and the OpenAPI document are built.

use axum::{Json, Router};
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;

pub mod audit;
pub mod connect;
pub mod events;
pub mod general;
pub mod integrations;
pub mod links;
pub mod oauth_apps;
pub mod page;
pub mod passthrough;
pub mod tools;
pub mod webhooks;

/// Kombo's success envelope: `{"status":"success","data":{…}}`, always with HTTP 200 (the SDK
/// treats 201 and 204 as errors).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Success<T> {
    /// Always `"success"`.
    #[schema(example = "success")]
    pub status: &'static str,
    /// The operation's result, whose shape each operation documents.
    pub data: T,
}

/// Wraps `data` in the success envelope.
pub fn success<T: Serialize>(data: T) -> Json<Success<T>> {
    Json(Success {
        status: "success",
        data,
    })
}

/// An empty `data` object, for operations with nothing to return.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Empty {}

/// Every `/v1` endpoint, each registered with the method and path of its handler's
/// `#[utoipa::path]`, so that a handler without one does not compile here and the router cannot
/// drift from the document (`crate::openapi::document`). One `routes!` per path: `routes!`
/// routes every handler it is given on every path among them.
#[allow(deprecated)] // `activate_integration` is deprecated for clients, not removed.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // The Kombo Connect API, as Kombo's SDKs call it.
        .routes(routes!(connect::create_link))
        .routes(routes!(connect::integration_by_token))
        .routes(routes!(connect::activate_integration))
        .routes(routes!(
            integrations::get_integration,
            integrations::delete_integration
        ))
        .routes(routes!(integrations::set_enabled))
        .routes(routes!(integrations::relink))
        .routes(routes!(integrations::setup_link))
        .routes(routes!(tools::get_tools))
        .routes(routes!(general::check_api_key))
        .routes(routes!(passthrough::send_passthrough_request))
        // Plugboard extensions: what Kombo offers in its dashboard, or not at all.
        .routes(routes!(integrations::list_integrations))
        .routes(routes!(links::list_links))
        .routes(routes!(links::revoke_link))
        .routes(routes!(events::get_event))
        .routes(routes!(
            webhooks::endpoints::create_webhook,
            webhooks::endpoints::list_webhooks
        ))
        .routes(routes!(
            webhooks::endpoints::get_webhook,
            webhooks::endpoints::update_webhook,
            webhooks::endpoints::delete_webhook
        ))
        .routes(routes!(webhooks::endpoints::rotate_secret))
        .routes(routes!(webhooks::endpoints::send_test))
        .routes(routes!(webhooks::deliveries::list_deliveries))
        .routes(routes!(webhooks::deliveries::get_delivery))
        .routes(routes!(webhooks::deliveries::retry_delivery))
        .routes(routes!(
            oauth_apps::put_oauth_app,
            oauth_apps::get_oauth_app,
            oauth_apps::delete_oauth_app
        ))
        .routes(routes!(oauth_apps::list_oauth_apps))
        .routes(routes!(audit::list_audit_events))
        .routes(routes!(passthrough::list_requests))
        .routes(routes!(passthrough::get_request))
}

/// The `/v1` router: [`routes()`] without the document.
pub fn router() -> Router<AppState> {
    routes().into()
}
