//! The front-end SDK (`sdk/js`): its script-tag bundle (global `PlugboardConnect`) and its npm
//! tarball (`@plugboard/connect` is not on the npm registry: `npm install` takes the tarball's
//! URL), compiled into the binary from the committed build and pack so that the server needs no
//! Node, and served from versioned paths that clients may cache for a year.

use axum::{
    Router,
    extract::Path,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{AppState, error::ApiError};

/// The SDK's version (`sdk/js/package.json`; a test keeps them equal).
pub const VERSION: &str = "0.1.0";

/// The minified bundle.
pub const BUNDLE: &str = include_str!("../../../sdk/js/dist/plugboard-connect.min.js");

/// The npm tarball (`sdk/js/pack`, made by `sdk/js/tarball.mjs`; a test there keeps it fresh).
pub const TARBALL: &[u8] = include_bytes!("../../../sdk/js/pack/plugboard-connect-0.1.0.tgz");

/// The versioned path of the npm tarball, e.g. `/sdk/plugboard-connect-0.1.0.tgz`.
pub fn tarball_path() -> String {
    format!("/sdk/plugboard-connect-{VERSION}.tgz")
}

/// The versioned path of the bundle, e.g. `/sdk/plugboard-connect-0.1.0.min.js`.
pub fn path() -> String {
    format!("/sdk/plugboard-connect-{VERSION}.min.js")
}

/// `GET /sdk/{file}`: the versioned bundle (immutable), `plugboard-connect.min.js`, always the
/// current version (cached for five minutes), or the versioned npm tarball (immutable).
pub async fn bundle(Path(file): Path<String>) -> Response {
    if file == format!("plugboard-connect-{VERSION}.tgz") {
        return (
            [
                (header::CONTENT_TYPE, "application/gzip"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            TARBALL,
        )
            .into_response();
    }
    let cache = if file == format!("plugboard-connect-{VERSION}.min.js") {
        "public, max-age=31536000, immutable"
    } else if file == "plugboard-connect.min.js" {
        "public, max-age=300"
    } else {
        let shown: String = file.chars().take(80).collect();
        return ApiError::NotFound(format!(
            "There is no SDK file {shown:?}; this server has {} and {}.",
            path(),
            tarball_path()
        ))
        .into_response();
    };
    let mut response = (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        BUNDLE,
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // Operators' pages load it from their own origin, also under COEP.
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    response
}

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/sdk/{file}", get(bundle))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_is_the_packages() {
        let package: serde_json::Value =
            serde_json::from_str(include_str!("../../../sdk/js/package.json")).expect("json");
        assert_eq!(package["version"], super::VERSION);
    }
}
