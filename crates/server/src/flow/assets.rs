//! The flow's stylesheet and script, compiled into the binary and served by Plugboard itself
//! (no CDN). URLs carry a hash of the content, so browsers may cache them forever and still
//! never see a stale file after an upgrade.

use std::sync::OnceLock;

use axum::{
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

const CSS: &str = include_str!("../../static/flow.css");
const JS: &str = include_str!("../../static/flow.js");

fn content(file: &str) -> Option<(&'static str, &'static str)> {
    match file {
        "flow.css" => Some((CSS, "text/css; charset=utf-8")),
        "flow.js" => Some((JS, "text/javascript; charset=utf-8")),
        _ => None,
    }
}

fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let digest = Sha256::new().chain_update(CSS).chain_update(JS).finalize();
        digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
    })
}

/// The versioned URL path of `file`.
pub fn url(file: &str) -> String {
    format!("/connect/assets/{}/{file}", version())
}

/// `GET /connect/assets/{version}/{file}`.
pub async fn serve(Path((requested, file)): Path<(String, String)>) -> Response {
    let Some((body, content_type)) = content(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let cache = if requested == version() {
        "public, max-age=31536000, immutable"
    } else {
        // An old page asking for an old version gets the current file, briefly cached.
        "public, max-age=300"
    };
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}
