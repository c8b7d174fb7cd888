//! Passthrough: a product's back end calls the customer's tool through Plugboard with the
//! integration's stored credentials (`POST /v1/passthrough/{tool}/{api}`, Kombo's endpoint).
//!
//! One call, in order: the integration is looked up in the caller's environment and must be of
//! the named tool and not disabled; the API comes from the catalog ([`plugboard_catalog::Api`]);
//! a place among the integration's calls in flight is taken ([`concurrency`]); the
//! credentials are opened (cached, [`cache`]); the URL is the API's base, filled with the
//! stored values, plus the caller's path, which cannot leave it ([`path`]); the caller's
//! headers pass except those carrying credentials or describing the connection ([`headers`]);
//! the body is JSON, raw text or multipart ([`body`]); the catalog's auth scheme is applied
//! (`crate::tool_auth`), logging in first for token schemes. The request goes through the
//! guarded client (public addresses only; the operator's base-URL overrides are trusted), and
//! redirects are returned, not followed. A 401 to a token scheme logs in again once; a 429
//! or 503 is retried only when the caller asked (`api_options.retries`), for idempotent
//! methods, within the retry budget. Whatever the tool answers is a success for Plugboard
//! (its status is in `data.status`); the whole call is bounded by the timeout and the answer
//! by the size limit. Every call that reached an integration is written to the request log
//! ([`log`]) without bodies or credentials, and counted in the metrics.
//!
//! A 401 or 403 from the tool (or a refused login) brings the integration's connection check
//! forward (`crate::checks`), which decides whether the credentials are broken.
//!
//! The sandbox tool's API is Plugboard's own (`crate::sandbox`), called in process.

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use plugboard_store::{
    Environment, Integration, IntegrationStatus, Store, ids::IntegrationId,
    request_log::RequestLogEntry,
};
use reqwest::{Method, header::HeaderValue};
use serde::Deserialize;

use crate::{
    AppState,
    config::PassthroughConfig,
    error::{DomainError, Missing},
    net, tool_auth,
};

pub mod body;
pub mod cache;
pub mod concurrency;
pub mod headers;
pub mod log;
pub mod path;
mod payload;
mod target;
mod transport;

use payload::Payload;
use target::{Target, resolve, shown_url};
pub use transport::ReadError;
use transport::{Prepared, exchange_with_retries};

use crate::integrations::Opened;
use body::FormPart;
use cache::Key;
use concurrency::Concurrency;
use headers::HeaderValueOut;
use log::RequestLogWriter;

/// The error class of a token login the tool refused: the credentials may be revoked.
pub const LOGIN_REFUSED: &str = "login_refused";

/// The most retries a call may ask for.
pub const MAX_RETRIES: u32 = 5;

/// The HTTP methods Kombo's passthrough accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum CallMethod {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl CallMethod {
    fn http(self) -> Method {
        match self {
            Self::Get => Method::GET,
            Self::Post => Method::POST,
            Self::Put => Method::PUT,
            Self::Patch => Method::PATCH,
            Self::Delete => Method::DELETE,
        }
    }

    /// Whether repeating the request cannot do anything twice (RFC 9110 §9.2.2).
    fn idempotent(self) -> bool {
        matches!(self, Self::Get | Self::Put | Self::Delete)
    }
}

/// A passthrough request, in Kombo's shape (`PostPassthroughToolApiRequestBody`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// The HTTP method sent to the tool.
    pub method: CallMethod,
    /// The path under the API's base URL, which Plugboard prepends; may carry a query. It
    /// cannot leave the API: absolute URLs, `..` (however encoded), `@` and backslashes are
    /// refused.
    #[schema(example = "/company/employees")]
    pub path: String,
    /// Headers for the tool. Authentication headers are Plugboard's: the integration's
    /// credentials are applied, and a caller's `Authorization` is dropped with a warning.
    #[serde(default)]
    pub headers: Option<BTreeMap<String, String>>,
    /// Query parameters, in addition to those in `path`.
    #[serde(default)]
    pub params: Option<BTreeMap<String, String>>,
    /// The body: an object or array is sent as JSON, a string as it is (SOAP envelopes).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
    /// Return the tool's answer base64-encoded (binary files such as PDFs).
    #[serde(default)]
    pub response_as_base64: Option<bool>,
    /// A `multipart/form-data` body, instead of `data`.
    #[serde(default)]
    pub multipart_form_data: Option<Vec<FormPart>>,
    /// Options of the passthrough adapter. Plugboard reads `retries` ("0" to "5"): how often
    /// a GET, PUT or DELETE answered with 429 or 503 is retried, waiting as the tool's
    /// `Retry-After` says, within `PLUGBOARD_PASSTHROUGH_RETRY_BUDGET`.
    #[serde(default)]
    pub api_options: Option<BTreeMap<String, String>>,
}

/// What the tool answered.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The URL the request went to, with any credential in the query shown as `[redacted]`.
    pub url: String,
    /// The tool's HTTP status.
    pub status: u16,
    /// The tool's headers.
    pub headers: BTreeMap<String, HeaderValueOut>,
    /// The tool's body: JSON, text, or base64.
    pub data: Option<serde_json::Value>,
    /// What the caller should know (headers dropped, retries made, …).
    pub warnings: Vec<String>,
    /// Concurrency places left for the integration when the call started.
    pub concurrency_remaining: u32,
    /// The request log entry's id.
    pub log_id: String,
}

/// Why a passthrough call failed on Plugboard's side. Each is recorded under
/// [`Failure::class`] when it happened to an existing integration.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// A domain error (no such integration).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The request is malformed or breaks a rule; the message says what to fix.
    #[error("{0}")]
    Input(String),
    /// The integration is `INACTIVE`.
    #[error(
        "integration {0} is disabled; enable it with PUT /v1/integrations/{{id}}/enabled before calling its tool"
    )]
    Disabled(String),
    /// The integration has the limit of calls in flight.
    #[error(
        "integration has {limit} passthrough calls in flight, the most allowed; retry when one has finished"
    )]
    Concurrency {
        /// The limit.
        limit: u32,
    },
    /// The call took longer than the timeout.
    #[error("the call did not finish within {0:?}")]
    TimedOut(Duration),
    /// The tool could not be reached, or refused to log Plugboard in.
    #[error("{0}")]
    Tool(String, &'static str),
    /// The tool's answer is larger than the limit.
    #[error(
        "the tool's answer is larger than {0} bytes (PLUGBOARD_PASSTHROUGH_MAX_RESPONSE_BODY); ask for less, e.g. with a page size"
    )]
    TooLarge(usize),
    /// Something broke inside Plugboard; already logged.
    #[error("{0}")]
    Internal(String),
}

impl Failure {
    /// The error class recorded in the request log and the metrics.
    pub fn class(&self) -> &'static str {
        match self {
            Self::Domain(_) | Self::Internal(_) => "internal",
            Self::Input(_) => "input_invalid",
            Self::Disabled(_) => "disabled",
            Self::Concurrency { .. } => "concurrency_limit",
            Self::TimedOut(_) => "timeout",
            Self::Tool(_, class) => class,
            Self::TooLarge(_) => "response_too_large",
        }
    }
}

/// A failed call, with its log entry's id when it was recorded.
#[derive(Debug)]
pub struct Failed {
    /// What went wrong.
    pub failure: Failure,
    /// The request log entry's id.
    pub log_id: Option<String>,
}

/// Passthrough's long-lived parts: clients, caches, limits and the log writer.
#[derive(Debug)]
pub struct Passthrough {
    guarded: reqwest::Client,
    trusted: reqwest::Client,
    /// For multipart `data_url` downloads: public addresses and the operator's
    /// `PLUGBOARD_PASSTHROUGH_DOWNLOAD_NETWORKS`.
    downloads: reqwest::Client,
    download_networks: net::Allowed,
    overrides: BTreeMap<String, String>,
    config: PassthroughConfig,
    /// Calls in flight per integration.
    pub concurrency: Concurrency,
    caches: Arc<cache::Caches>,
    /// The request log's writer.
    pub log: RequestLogWriter,
}

impl Passthrough {
    /// Builds the clients and starts the log writer on `store`.
    pub fn new(
        config: &PassthroughConfig,
        overrides: BTreeMap<String, String>,
        store: Arc<dyn Store>,
    ) -> Self {
        let caches = Arc::new(cache::Caches::default());
        cache::spawn_pruning(&caches);
        let download_networks = net::Allowed {
            loopback: false,
            networks: config.download_networks.clone(),
        };
        Self {
            guarded: net::client(config.timeout, true),
            trusted: net::client(config.timeout, false),
            downloads: net::guarded_client(config.timeout, download_networks.clone()),
            download_networks,
            overrides,
            config: config.clone(),
            concurrency: Concurrency::new(config.concurrency),
            caches,
            log: RequestLogWriter::spawn(store),
        }
    }

    /// Forgets what calls keep of an integration this process just disabled, deleted or
    /// relinked (the integration, its credentials, its tokens), so its next call sees the
    /// change.
    pub fn forget_integration(&self, id: &IntegrationId) {
        self.caches.forget_integration(id);
    }
}

/// What one call knows once the integration is found: for the log entry.
struct Context<'a> {
    environment: &'a Environment,
    integration: &'a Integration,
    tool: &'a str,
    api: &'a str,
    method: CallMethod,
    path: String,
    started: Instant,
}

/// What was sent and received, for the log entry.
#[derive(Default)]
struct Traffic {
    status: Option<u16>,
    request_bytes: u64,
    response_bytes: u64,
    attempts: u32,
}

/// Calls `tool`'s API `api` for integration `id` of `environment`.
pub async fn send(
    state: &AppState,
    environment: &Environment,
    id: &IntegrationId,
    tool_id: &str,
    api_id: &str,
    call: Call,
) -> Result<Answer, Failed> {
    let timeout = state.passthrough.config.timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    let integration = tokio::time::timeout_at(deadline, lookup(state, environment, id))
        .await
        .map_err(|_| unlogged(Failure::TimedOut(timeout)))??;
    let context = Context {
        environment,
        integration: &integration,
        tool: tool_id,
        api: api_id,
        method: call.method,
        path: loggable_path(&call.path),
        started: Instant::now(),
    };
    let mut traffic = Traffic::default();
    let outcome = tokio::time::timeout_at(deadline, attempt(state, &context, call, &mut traffic))
        .await
        .unwrap_or(Err(Failure::TimedOut(timeout)));
    let log_id = record(state, &context, &traffic, outcome.as_ref().err()).await;
    let refused = match &outcome {
        Ok(answer) => matches!(answer.status, 401 | 403),
        Err(failure) => matches!(failure, Failure::Tool(_, LOGIN_REFUSED)),
    };
    if refused && state.passthrough.caches.first_refusal(&integration.id) {
        // The credentials may have been revoked: check them now rather than at the next
        // scheduled check (a check, not this call, decides whether the integration is INVALID).
        crate::checks::soon(state, &integration.id).await;
    }
    match outcome {
        Ok(mut answer) => {
            answer.log_id = log_id;
            Ok(answer)
        }
        Err(failure) => {
            // The error's log_url must open at once: a failed call waits for its entry.
            state.passthrough.log.flush().await;
            Err(Failed {
                failure,
                log_id: Some(log_id),
            })
        }
    }
}

/// The integration, from the cache when it was read in the last two seconds.
async fn lookup(
    state: &AppState,
    environment: &Environment,
    id: &IntegrationId,
) -> Result<Arc<Integration>, Failed> {
    if let Some(cached) = state.passthrough.caches.integration(&environment.id, id) {
        return Ok(cached);
    }
    let read = state
        .store
        .integration(&environment.id, id)
        .await
        .map_err(|e| unlogged(DomainError::Store(e).into()))?
        .ok_or_else(|| {
            unlogged(DomainError::NotFound(Missing::Integration(id.to_string())).into())
        })?;
    let read = Arc::new(read);
    state.passthrough.caches.keep_integration(read.clone());
    Ok(read)
}

fn unlogged(failure: Failure) -> Failed {
    Failed {
        failure,
        log_id: None,
    }
}

/// The path for the log: query parameter names kept, values dropped (they may be personal
/// data or, for some tools, keys).
pub fn loggable_path(path: &str) -> String {
    let path: String = path.chars().take(path::MAX_PATH).collect();
    match path.split_once('?') {
        None => path,
        Some((before, query)) => {
            let names: Vec<&str> = query
                .split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| pair.split('=').next().unwrap_or_default())
                .collect();
            format!("{before}?{}", names.join("&"))
        }
    }
}

async fn record(
    state: &AppState,
    context: &Context<'_>,
    traffic: &Traffic,
    failure: Option<&Failure>,
) -> String {
    let elapsed = context.started.elapsed();
    let entry = RequestLogEntry {
        id: plugboard_store::ids::new_id(),
        environment_id: context.environment.id.clone(),
        integration_id: context.integration.id.clone(),
        tool: context.tool.to_owned(),
        api: context.api.to_owned(),
        method: context.method.http().as_str().to_owned(),
        path: context.path.clone(),
        remote_status: traffic.status,
        error: failure.map(|f| f.class().to_owned()),
        duration_ms: u32::try_from(elapsed.as_millis()).unwrap_or(u32::MAX),
        request_bytes: traffic.request_bytes,
        response_bytes: traffic.response_bytes,
        attempts: traffic.attempts,
        created_at: Utc::now(),
    };
    let outcome = match (failure, traffic.status) {
        (Some(failure), _) => failure.class(),
        (None, Some(status)) => status_class(status),
        (None, None) => "internal",
    };
    state
        .metrics
        .passthrough_call(&context.integration.tool, outcome, elapsed);
    tracing::debug!(
        integration_id = %context.integration.id,
        api = context.api,
        method = %entry.method,
        path = %entry.path,
        status = ?entry.remote_status,
        error = ?entry.error,
        duration_ms = entry.duration_ms,
        "passthrough call"
    );
    let id = entry.id.clone();
    state.passthrough.log.record(entry).await;
    id
}

fn status_class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}

/// The part of a call after the integration is known, bounded by the timeout.
async fn attempt(
    state: &AppState,
    context: &Context<'_>,
    call: Call,
    traffic: &mut Traffic,
) -> Result<Answer, Failure> {
    let passthrough = &state.passthrough;
    let integration = context.integration;
    if integration.tool != context.tool {
        return Err(Failure::Input(format!(
            "integration {} is a {} integration, not {}: call /v1/passthrough/{}/{{api}}",
            integration.id, integration.tool, context.tool, integration.tool
        )));
    }
    let (tool, api) = find_api(state, &integration.tool, context.api)?;
    if integration.status == IntegrationStatus::Inactive {
        return Err(Failure::Disabled(integration.id.to_string()));
    }
    let retries = retries(&call)?;
    let permit = passthrough
        .concurrency
        .acquire(integration.id.as_str())
        .map_err(|full| Failure::Concurrency { limit: full.limit })?;
    let key = Key {
        integration: integration.id.to_string(),
        version: integration.updated_at.timestamp_millis(),
    };
    let credentials = open(state, &key, &integration.id).await?;
    let no_options = BTreeMap::new();
    let options = call.api_options.as_ref().unwrap_or(&no_options);
    let target = resolve(state, passthrough, tool, api, &credentials, options)?;
    let (url, mut warnings) = request_url(&target, &call)?;
    let mut caller_headers = outgoing_headers(&target, &call, &credentials, &mut warnings)?;
    let payload = Payload::prepare(state, &call, &mut caller_headers, &mut warnings).await?;
    traffic.request_bytes = payload.len();
    let request = Prepared {
        method: call.method,
        url,
        headers: caller_headers,
        payload,
    };
    let received = exchange_with_retries(
        state,
        &target,
        &key,
        &credentials,
        &request,
        retries,
        traffic,
        &mut warnings,
    )
    .await?;
    let data = body::incoming(
        &received.headers,
        &received.body,
        call.response_as_base64.unwrap_or(false),
        &mut warnings,
    );
    Ok(Answer {
        url: shown_url(&request.url, target.auth),
        status: received.status.as_u16(),
        headers: headers::incoming(&received.headers),
        data,
        warnings,
        concurrency_remaining: permit.remaining,
        log_id: String::new(),
    })
}

/// The catalog's tool and its passthrough API `api_id`, or an error listing the tool's APIs.
fn find_api<'a>(
    state: &'a AppState,
    tool_id: &str,
    api_id: &str,
) -> Result<(&'a plugboard_catalog::Tool, &'a plugboard_catalog::Api), Failure> {
    let tool = state
        .catalog
        .get(tool_id)
        .ok_or_else(|| Failure::Internal(format!("tool {tool_id} is not in the catalog")))?;
    let api = tool.api(api_id).ok_or_else(|| {
        let known: Vec<&str> = tool.apis.iter().map(|api| api.id.as_str()).collect();
        Failure::Input(if known.is_empty() {
            format!(
                "{} has no passthrough API in Plugboard's catalog",
                tool.label
            )
        } else {
            format!(
                "{} has no passthrough API {api_id:?}; its APIs are: {}",
                tool.label,
                known.join(", ")
            )
        })
    })?;
    Ok((tool, api))
}

/// The request's URL: the caller's path and params under the API's base. A query parameter
/// that carries the credential (a query auth scheme) is Plugboard's to set: the caller's is
/// dropped with a warning, as a caller's `Authorization` header is.
fn request_url(target: &Target<'_>, call: &Call) -> Result<(url::Url, Vec<String>), Failure> {
    let no_params = BTreeMap::new();
    let mut url = path::join(
        &target.base,
        &call.path,
        call.params.as_ref().unwrap_or(&no_params),
    )
    .map_err(|problem| Failure::Input(problem.to_string()))?;
    let mut warnings = Vec::new();
    if let Some(secret) = tool_auth::query_secret(target.auth)
        && url.query_pairs().any(|(name, _)| name == secret)
    {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(name, _)| name != secret)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        url.set_query(None);
        if !kept.is_empty() {
            url.query_pairs_mut().extend_pairs(kept);
        }
        warnings.push(format!(
            "The query parameter {secret} was not sent: Plugboard sets it, with the integration's credentials."
        ));
    }
    Ok((url, warnings))
}

/// The caller's headers that go to the tool (see [`headers::outgoing`]), with the API's fixed
/// headers, which the caller cannot replace.
fn outgoing_headers(
    target: &Target<'_>,
    call: &Call,
    credentials: &Opened,
    warnings: &mut Vec<String>,
) -> Result<reqwest::header::HeaderMap, Failure> {
    let api = target.api;
    let mut protected: Vec<String> = api.headers.keys().map(|h| h.to_ascii_lowercase()).collect();
    protected.extend(target.auth.header_name());
    let (mut map, mut dropped) = headers::outgoing(
        call.headers.as_ref().unwrap_or(&BTreeMap::new()),
        &protected,
    )
    .map_err(|problem| Failure::Input(problem.to_string()))?;
    warnings.append(&mut dropped);
    for (name, value) in &api.headers {
        let value = HeaderValue::from_str(&tool_auth::fill_raw(value, credentials.get())).map_err(
            |_| {
                Failure::Tool(
                    "a stored value cannot be sent in a header; relink the integration".into(),
                    "stored_values_invalid",
                )
            },
        )?;
        if let Ok(name) = reqwest::header::HeaderName::from_bytes(name.as_bytes()) {
            map.insert(name, value);
        }
    }
    Ok(map)
}

/// `api_options.retries`, checked.
fn retries(call: &Call) -> Result<u32, Failure> {
    let Some(value) = call.api_options.as_ref().and_then(|o| o.get("retries")) else {
        return Ok(0);
    };
    match value.trim().parse::<u32>() {
        Ok(n) if n <= MAX_RETRIES => Ok(n),
        _ => Err(Failure::Input(format!(
            "api_options.retries must be a whole number from 0 to {MAX_RETRIES}"
        ))),
    }
}

/// Opens the integration's credentials, from the cache when the same version was opened
/// recently.
async fn open(state: &AppState, key: &Key, id: &IntegrationId) -> Result<Arc<Opened>, Failure> {
    if let Some(opened) = state.passthrough.caches.credentials(key) {
        return Ok(opened);
    }
    let opened = Arc::new(
        crate::integrations::open_credentials(state.store.as_ref(), &state.vault, id)
            .await
            .map_err(|e| Failure::Internal(e.to_string()))?,
    );
    state
        .passthrough
        .caches
        .keep_credentials(key.clone(), opened.clone());
    Ok(opened)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_paths_keep_parameter_names_only() {
        assert_eq!(loggable_path("/employees"), "/employees");
        assert_eq!(
            loggable_path("/employees?email=a@b.c&limit=10&flag"),
            "/employees?email&limit&flag"
        );
    }
}
