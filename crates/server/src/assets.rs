//! The stylesheets and scripts of the flow and the dashboard, compiled into the binary and
//! served by Plugboard itself (no CDN). URLs carry a hash of the content, so browsers may cache
//! them forever and still never see a stale file after an upgrade. The flow's files are under
//! `/connect/assets/`, the dashboard's under `/dashboard/assets/`, so each page's
//! `Content-Security-Policy` can name its own path.

use std::sync::OnceLock;

use axum::{
    extract::Path,
    http::{HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// Every file: its name, where it is served and its content type, and its content.
const FILES: [(&str, &str, &str, &str); 4] = [
    (
        "flow.css",
        "/connect/assets",
        CSS,
        include_str!("../static/flow.css"),
    ),
    (
        "flow.js",
        "/connect/assets",
        JS,
        include_str!("../static/flow.js"),
    ),
    (
        "dashboard.css",
        "/dashboard/assets",
        CSS,
        include_str!("../static/dashboard.css"),
    ),
    (
        "dashboard.js",
        "/dashboard/assets",
        JS,
        include_str!("../static/dashboard.js"),
    ),
];

fn file(name: &str, under: &str) -> Option<(&'static str, &'static str)> {
    FILES
        .iter()
        .find(|(file, prefix, _, _)| *file == name && under.starts_with(prefix))
        .map(|(_, _, content_type, body)| (*body, *content_type))
}

fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let digest = FILES
            .iter()
            .fold(Sha256::new(), |digest, (_, _, _, body)| {
                digest.chain_update(body)
            })
            .finalize();
        digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
    })
}

/// The versioned URL path of `file`.
pub fn url(file: &str) -> String {
    let prefix = FILES
        .iter()
        .find(|(name, _, _, _)| *name == file)
        .map_or("/connect/assets", |(_, prefix, _, _)| *prefix);
    format!("{prefix}/{}/{file}", version())
}

/// `GET /connect/assets/{version}/{file}` and `GET /dashboard/assets/{version}/{file}`: each
/// serves its own files only.
pub async fn serve(uri: Uri, Path((requested, file)): Path<(String, String)>) -> Response {
    let Some((body, content_type)) = self::file(&file, uri.path()) else {
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
