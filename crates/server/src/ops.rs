//! Operational endpoints: health, readiness, metrics, the OpenAPI document, and tool images.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{AppState, error::ApiError, openapi};

/// `/healthz`: the process is up and serving.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `/readyz`: the database answered the health watch's last probe (at most 250 ms ago); load
/// balancers should route traffic here only then. The answer comes from the watch, not a new
/// query, so during an outage a probe learns it at once instead of after a connect timeout.
pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    if *state.database_up.borrow() {
        Ok("ready")
    } else {
        Err(ApiError::Unavailable)
    }
}

/// `/metrics` on the public listener: only with `PLUGBOARD_METRICS_TOKEN`, and then only for
/// requests bearing it. Otherwise a 404, as if there were no such route: the listener that
/// serves the flow to the internet does not publish the service's internals.
pub async fn public_metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let authorized = state.config.metrics_token.as_ref().is_some_and(|token| {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .is_some_and(|candidate| token.matches(candidate.trim()))
    });
    if authorized {
        metrics(State(state)).await
    } else {
        ApiError::NotFound("There is no endpoint at /metrics. The API lives under /v1.".into())
            .into_response()
    }
}

/// `/metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    (
        [(header::CONTENT_TYPE, content_type)],
        state.metrics.render(),
    )
        .into_response()
}

/// `/openapi.json`: the API's OpenAPI 3.1 document.
pub async fn openapi_json() -> Json<serde_json::Value> {
    Json(openapi::document())
}

/// `/assets/tools/{tool}/{file}`: each tool's images: the operator's own
/// (`PLUGBOARD_TOOL_LOGOS_DIR`), else its CC0 logo, else Plugboard's monogram.
pub async fn tool_asset(
    State(state): State<AppState>,
    Path((tool, file)): Path<(String, String)>,
) -> Response {
    if state.catalog.get(&tool).is_none() {
        return ApiError::NotFound(format!("There is no tool {tool:?}.")).into_response();
    }
    let Some(image) = state.catalog.image(&tool, &file) else {
        return ApiError::NotFound(format!("There is no image {file:?}.")).into_response();
    };
    image_response(image.content_type, image.body)
}

/// An image with the headers every served image gets: cacheable for a day, and a policy under
/// which an SVG opened directly can neither run script nor load anything, even if an
/// operator's file were hostile.
pub(crate) fn image_response(content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response =
        (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    response
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(public_metrics))
        .route("/openapi.json", get(openapi_json))
        .route("/assets/tools/{tool}/{file}", get(tool_asset))
        .route("/assets/brand/{file}", get(crate::branding::brand_asset))
}

/// The router of `PLUGBOARD_METRICS_LISTEN`: `/metrics` without a token (that address is meant
/// for an internal network) and `/healthz`.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(state)
}

/// The page at `/` of a server without the demo: says what is running here and where its
/// documentation is, instead of the API's JSON 404 that a curious visitor would otherwise see.
#[derive(askama::Template)]
#[template(path = "home/index.html")]
struct HomePage {
    version: &'static str,
    sdk_script: String,
    sdk_tarball: String,
    docs: &'static str,
}

/// `GET /` (not in demo mode, where `/` is the demo app).
pub async fn home(State(state): State<AppState>) -> Response {
    use askama::Template;
    let page = HomePage {
        version: env!("CARGO_PKG_VERSION"),
        sdk_script: crate::sdk::path(),
        sdk_tarball: state.config.public(&crate::sdk::tarball_path()),
        // The workspace's `repository`.
        docs: "https://github.com/plugboard-dev/plugboard#readme",
    };
    match page.render() {
        Ok(html) => (
            [(
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
                 frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            )],
            axum::response::Html(html),
        )
            .into_response(),
        Err(_) => ApiError::Internal.into_response(),
    }
}

/// The route of [`home`], merged only when the demo does not own `/`.
pub fn home_router() -> Router<AppState> {
    Router::new().route("/", get(home))
}
