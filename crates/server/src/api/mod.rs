//! The Kombo-compatible `/v1` API and Plugboard's extensions to it. One module per resource,
//! each with its wire types, handlers and `router()`; they are merged here.

use axum::{Json, Router};
use serde::Serialize;

use crate::AppState;

pub mod audit;
pub mod connect;
pub mod events;
pub mod general;
pub mod integrations;
pub mod links;
pub mod page;
pub mod tools;
pub mod webhooks;

/// Kombo's success envelope: `{"status":"success","data":{…}}`, always with HTTP 200 (the SDK
/// treats 201 and 204 as errors).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Success<T> {
    /// Always `"success"`.
    #[schema(example = "success")]
    pub status: &'static str,
    /// The result.
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

/// The `/v1` router.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(connect::router())
        .merge(integrations::router())
        .merge(tools::router())
        .merge(general::router())
        .merge(events::router())
        .merge(links::router())
        .merge(webhooks::router())
        .merge(audit::router())
}
