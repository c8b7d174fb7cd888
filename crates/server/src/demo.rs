//! `plugboard serve --demo`: the whole loop in one browser tab.
//!
//! A demo "customer app" at `/` with the embedded-flow guide's back end built in: its routes
//! are the guide's (`POST /integrations/kombo/init`, `POST /integrations/kombo/activate`,
//! `POST /webhooks/kombo`), and they call Plugboard's API over HTTP with a development API key
//! exactly as an operator's back end would. The page loads the SDK from Plugboard's own path,
//! like the guide's script-tag option. A webhook endpoint points at the demo's inbox, which
//! verifies each delivery's signatures and keeps only verified ones, at most [`KEPT`];
//! `GET /demo/state` feeds the page's live lists.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use askama::Template;
use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use plugboard_store::EnvironmentName;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::{AppState, audit::Caller, events::format_time, lock, webhooks};

/// Name of the API key the demo creates (earlier ones are revoked on start).
const KEY_NAME: &str = "demo";

/// The customer the demo app connects tools for.
const CUSTOMER: (&str, &str, &str) = ("admin@acme.example", "Acme, Inc.", "acme");

/// How many webhooks and integrations the demo keeps to show (the newest): its inbox is on
/// the same address as the flow, so anyone may post to it, and memory must stay bounded.
pub const KEPT: usize = 100;

/// Adds `entry` at the front of `list`, dropping the oldest beyond [`KEPT`].
fn keep(list: &Mutex<Vec<Value>>, entry: Value) {
    let mut list = lock(list);
    list.insert(0, entry);
    list.truncate(KEPT);
}

/// What the demo keeps in memory.
pub struct Demo {
    /// Plugboard's API, as the demo's back end reaches it.
    api: String,
    key: Zeroizing<String>,
    secret: Zeroizing<String>,
    client: reqwest::Client,
    integrations: Mutex<Vec<Value>>,
    webhooks: Mutex<Vec<Value>>,
}

impl std::fmt::Debug for Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demo")
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

/// Prepares the demo for a server listening on `address`: a fresh development API key (older
/// demo keys are revoked) and a webhook endpoint pointing at the demo's inbox (replacing the
/// one a previous run made). Prints the address and the key on stdout.
pub async fn prepare(state: &AppState, address: SocketAddr) -> anyhow::Result<Arc<Demo>> {
    let port = address.port();
    // The demo's back end and the webhook worker run in this process: loopback always works.
    let local = format!("http://127.0.0.1:{port}");
    let development = state.environments.development.clone();
    for key in state.store.list_api_keys(Some(&development.id)).await? {
        if key.name == KEY_NAME && key.revoked_at.is_none() {
            crate::api_keys::revoke(state, &key.id, &Caller::cli()).await?;
        }
    }
    let (_, key) = crate::api_keys::create(
        state,
        EnvironmentName::Development,
        KEY_NAME,
        &Caller::cli(),
    )
    .await?;
    let inbox = format!("{local}/webhooks/kombo");
    for endpoint in state
        .store
        .list_webhook_endpoints(Some(&development.id))
        .await?
    {
        if endpoint.url == inbox {
            webhooks::delete_endpoint(state, &development, &endpoint.id, &Caller::cli()).await?;
        }
    }
    let (_, secret) =
        webhooks::create_endpoint(state, &development, &inbox, None, &Caller::cli()).await?;
    crate::operators::ensure_demo_operator(state).await?;
    let base = state.config.public_url.as_str().trim_end_matches('/');
    println!(
        "\n  Plugboard demo: open {base}/ and click \"Connect HRIS\" (choose Sandbox).\n  \
         The operator dashboard: {base}/demo/dashboard (signed in as the demo operator).\n  \
         Development API key (for curl and Kombo's SDKs): {key}\n",
    );
    Ok(Arc::new(Demo {
        api: format!("{local}/v1"),
        key: Zeroizing::new(key),
        secret,
        client: crate::net::client(std::time::Duration::from_secs(15), false),
        integrations: Mutex::default(),
        webhooks: Mutex::default(),
    }))
}

#[derive(Template)]
#[template(path = "demo/index.html")]
struct Page {
    sdk: String,
    organization: &'static str,
}

async fn page() -> Response {
    let page = Page {
        sdk: crate::sdk::path(),
        organization: CUSTOMER.1,
    };
    match page.render() {
        // Its own scripts and the SDK from this server, the flow framed from this server, one
        // inline style block; nothing may frame the demo itself.
        Ok(html) => (
            [(
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                 frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            )],
            Html(html),
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../static/demo.js"),
    )
        .into_response()
}

/// Body of the demo's init route.
#[derive(Debug, Default, Deserialize)]
struct InitIn {
    /// `HRIS` (default) or `ATS`.
    category: Option<String>,
}

/// Body of the demo's activate route (the guide posts `{token}`).
#[derive(Debug, Deserialize)]
struct ActivateIn {
    token: String,
}

/// A failure of the demo's back end, shown on the page.
fn failure(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// Calls Plugboard's API as an operator's back end does.
async fn call(demo: &Demo, request: reqwest::RequestBuilder) -> Result<Value, Response> {
    let response = request
        .bearer_auth(demo.key.as_str())
        .send()
        .await
        .map_err(|e| failure(StatusCode::BAD_GATEWAY, format!("Plugboard's API: {e}")))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| failure(StatusCode::BAD_GATEWAY, format!("Plugboard's API: {e}")))?;
    if !status.is_success() {
        let message = body["error"]["message"]
            .as_str()
            .unwrap_or("error")
            .to_owned();
        return Err(failure(StatusCode::BAD_GATEWAY, message));
    }
    Ok(body["data"].clone())
}

/// `POST /integrations/kombo/init`: the guide's first route.
async fn init(State(demo): State<Arc<Demo>>, body: Bytes) -> Response {
    let input: InitIn = serde_json::from_slice(&body).unwrap_or_default();
    let category = match input.category.as_deref() {
        None | Some("HRIS") => "HRIS",
        Some("ATS") => "ATS",
        Some(other) => {
            return failure(
                StatusCode::BAD_REQUEST,
                format!("unknown category {other:?}"),
            );
        }
    };
    let request = demo
        .client
        .post(format!("{}/connect/create-link", demo.api))
        .json(&json!({
            "end_user_email": CUSTOMER.0,
            "end_user_organization_name": CUSTOMER.1,
            "end_user_origin_id": CUSTOMER.2,
            "integration_category": category,
        }));
    match call(&demo, request).await {
        Ok(data) => Json(json!({ "link": data["link"] })).into_response(),
        Err(response) => response,
    }
}

/// `POST /integrations/kombo/activate`: the guide's second route.
async fn activate(State(demo): State<Arc<Demo>>, body: Bytes) -> Response {
    let Ok(input) = serde_json::from_slice::<ActivateIn>(&body) else {
        return failure(StatusCode::BAD_REQUEST, "send {\"token\": \"…\"}");
    };
    let token: String = input
        .token
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let request = demo
        .client
        .get(format!("{}/connect/integration-by-token/{token}", demo.api));
    match call(&demo, request).await {
        Ok(integration) => {
            keep(
                &demo.integrations,
                json!({
                    "id": integration["id"],
                    "tool": integration["tool"],
                    "origin_id": integration["end_user_origin_id"],
                    "activated_at": format_time(chrono::Utc::now()),
                }),
            );
            StatusCode::OK.into_response()
        }
        Err(response) => response,
    }
}

/// `POST /webhooks/kombo`: the guide's webhook route, verifying both signatures on the raw
/// body before trusting it. Anything unsigned or badly signed is refused (401) and not kept;
/// of the verified ones, the newest [`KEPT`] are.
async fn webhook(State(demo): State<Arc<Demo>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let kombo = constant_time_eq(
        &webhooks::sign::kombo_signature(&demo.secret, &body),
        &header("x-kombo-signature"),
    );
    let id = header("webhook-id");
    let timestamp = header("webhook-timestamp")
        .parse::<i64>()
        .unwrap_or_default();
    let fresh = (chrono::Utc::now().timestamp() - timestamp).abs() <= 300;
    let standard = fresh
        && webhooks::sign::standard_signature(&demo.secret, &id, timestamp, &body).is_some_and(
            |expected| {
                header("webhook-signature")
                    .split(' ')
                    .any(|given| constant_time_eq(&expected, given))
            },
        );
    if !(kombo && standard) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    keep(
        &demo.webhooks,
        json!({
            "id": id,
            "type": event["type"],
            "data": event["data"],
            "verified": true,
            "received_at": format_time(chrono::Utc::now()),
        }),
    );
    StatusCode::OK.into_response()
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// What the page shows.
#[derive(Serialize)]
struct StateOut {
    integrations: Vec<Value>,
    webhooks: Vec<Value>,
}

/// `GET /demo/state`.
async fn state(State(demo): State<Arc<Demo>>) -> Json<StateOut> {
    Json(StateOut {
        integrations: lock(&demo.integrations).clone(),
        webhooks: lock(&demo.webhooks).clone(),
    })
}

/// `GET /demo/dashboard`: signs the browser in as the demo operator and opens the dashboard
/// on development. Followed from the demo page or typed; a request another site started
/// (`Sec-Fetch-Site: cross-site`) is refused, so no page elsewhere can sign a visitor in.
async fn dashboard(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: HeaderMap,
    client: crate::audit::Client,
) -> Response {
    let cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes() == b"cross-site");
    if cross_site {
        return failure(
            StatusCode::FORBIDDEN,
            "open /demo/dashboard from the demo page",
        );
    }
    match crate::operators::start_demo_session(&state, client).await {
        Ok(session) => {
            let mut response =
                axum::response::Redirect::to("/dashboard/development").into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                crate::dashboard::session_cookie(&state, &session.id),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "starting the demo operator's session");
            failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not sign in the demo operator",
            )
        }
    }
}

/// The demo's routes.
pub fn router(demo: Arc<Demo>) -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/demo/app.js", get(script))
        .route("/demo/state", get(state))
        .route("/integrations/kombo/init", post(init))
        .route("/integrations/kombo/activate", post(activate))
        .route("/webhooks/kombo", post(webhook))
        .with_state(demo)
        .route("/demo/dashboard", get(dashboard))
}
