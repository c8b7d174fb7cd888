//! Stand-ins for third-party tools on loopback (the only parts of the world the tests replace),
//! shared by the passthrough, catalog-tool, SDK and connection-check tests. A test points the
//! catalog's base-URL override (`tool_base_urls`) at one of these.

use std::sync::{Arc, Mutex};

use axum::{
    Router,
    body::Bytes,
    extract::Request,
    http::HeaderMap,
    response::{IntoResponse, Response},
};

/// One request a fake vendor received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `GET`, `POST`, ….
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// Every header.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

/// Serves `app` on a free loopback port until the test ends; returns `http://127.0.0.1:<port>`.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

/// A vendor that records every request and answers with `answer`; returns its base URL and the
/// requests so far.
pub async fn recording(
    answer: impl Fn(&Seen) -> Response + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let answer = Arc::new(answer);
    let app = Router::new().fallback(move |request: Request| {
        let (record, answer) = (record.clone(), answer.clone());
        async move {
            let (parts, body) = request.into_parts();
            let body: Bytes = axum::body::to_bytes(body, 1 << 24)
                .await
                .unwrap_or_default();
            let seen = Seen {
                method: parts.method.to_string(),
                uri: parts.uri.to_string(),
                headers: parts.headers,
                body: body.to_vec(),
            };
            let response = answer(&seen);
            record.lock().expect("lock").push(seen);
            response
        }
    });
    (serve(app).await, seen)
}

/// A `200` with `value` as JSON.
pub fn ok_json(value: serde_json::Value) -> Response {
    axum::Json(value).into_response()
}
