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
use plugboard_catalog::{Api, Auth, Tool};
use plugboard_store::{
    Environment, Integration, IntegrationStatus, Store, ids::IntegrationId,
    request_log::RequestLogEntry,
};
use reqwest::{
    Method, StatusCode,
    header::{CONTENT_TYPE, HeaderMap, HeaderValue},
};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::{
    AppState,
    config::PassthroughConfig,
    error::{DomainError, Missing},
    net,
    tool_auth::{self, ExchangeError},
    vault::Purpose,
};

pub mod body;
pub mod cache;
pub mod concurrency;
pub mod headers;
pub mod log;
pub mod path;

use body::{FormPart, FormValue, Outgoing};
use cache::{Key, Opened};
use concurrency::Concurrency;
use headers::HeaderValueOut;
use log::RequestLogWriter;

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
    overrides: BTreeMap<String, String>,
    config: PassthroughConfig,
    /// Calls in flight per integration.
    pub concurrency: Concurrency,
    caches: cache::Caches,
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
        Self {
            guarded: net::client(config.timeout, true),
            trusted: net::client(config.timeout, false),
            overrides,
            config: config.clone(),
            concurrency: Concurrency::new(config.concurrency),
            caches: cache::Caches::default(),
            log: RequestLogWriter::spawn(store),
        }
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
    let integration = state
        .store
        .integration(&environment.id, id)
        .await
        .map_err(|e| unlogged(DomainError::Store(e).into()))?
        .ok_or_else(|| {
            unlogged(DomainError::NotFound(Missing::Integration(id.to_string())).into())
        })?;
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
    let deadline = state.passthrough.config.timeout;
    let outcome =
        match tokio::time::timeout(deadline, attempt(state, &context, call, &mut traffic)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure::TimedOut(deadline)),
        };
    let log_id = record(state, &context, &traffic, outcome.as_ref().err()).await;
    let refused = match &outcome {
        Ok(answer) => matches!(answer.status, 401 | 403),
        Err(failure) => failure.class() == "login_refused",
    };
    if refused {
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
        method: format!("{:?}", context.method).to_ascii_uppercase(),
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
    tracing::info!(
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

/// Where a call goes and how it authenticates, resolved from the catalog and configuration.
struct Target<'a> {
    tool: &'a Tool,
    api: &'a Api,
    /// The tool's base URL template (override, catalog, or Plugboard's own for the sandbox).
    tool_base: String,
    /// The API's base URL, filled.
    base: url::Url,
    /// Whether the operator chose the URL (an override) or Plugboard serves it: no guard.
    trusted: bool,
    /// Whether the sandbox API, served in process.
    sandbox: bool,
}

fn resolve<'a>(
    state: &'a AppState,
    passthrough: &Passthrough,
    tool: &'a Tool,
    api: &'a Api,
    credentials: &Opened,
) -> Result<Target<'a>, Failure> {
    let sandbox = tool.id == crate::sandbox::TOOL;
    let tool_override = passthrough.overrides.get(&tool.id);
    let tool_base = match (tool_override, sandbox) {
        (Some(url), _) => url.clone(),
        (None, true) => state
            .config
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_owned(),
        (None, false) => tool.base_url.clone().unwrap_or_default(),
    };
    let api_override = passthrough
        .overrides
        .get(&format!("{}/{}", tool.id, api.id));
    let template = api_override.map_or(api.base_url.as_str(), String::as_str);
    let base = tool_auth::endpoint(&tool_base, template, &tool.fields, credentials.get())
        .map_err(|error| {
            Failure::Tool(
                format!(
                    "the integration's stored values do not make a valid URL for this API ({error}); \
                     relink the integration"
                ),
                "stored_values_invalid",
            )
        })?;
    let trusted = tool_override.is_some() || api_override.is_some() || sandbox;
    if !trusted {
        if base.scheme() != "https" {
            return Err(Failure::Tool(
                "the API's URL is not https".into(),
                "blocked",
            ));
        }
        if let Err(blocked) = net::check_literal_host(&base) {
            return Err(Failure::Tool(blocked.to_string(), "blocked"));
        }
    }
    Ok(Target {
        tool,
        api,
        tool_base,
        base,
        trusted,
        sandbox,
    })
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
    let tool = state.catalog.get(&integration.tool).ok_or_else(|| {
        Failure::Internal(format!("tool {} is not in the catalog", integration.tool))
    })?;
    let api = tool.api(context.api).ok_or_else(|| {
        let known: Vec<&str> = tool.apis.iter().map(|api| api.id.as_str()).collect();
        Failure::Input(if known.is_empty() {
            format!(
                "{} has no passthrough API in Plugboard's catalog",
                tool.label
            )
        } else {
            format!(
                "{} has no passthrough API {:?}; its APIs are: {}",
                tool.label,
                context.api,
                known.join(", ")
            )
        })
    })?;
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
    let target = resolve(state, passthrough, tool, api, &credentials)?;
    let url = path::join(
        &target.base,
        &call.path,
        call.params.as_ref().unwrap_or(&BTreeMap::new()),
    )
    .map_err(|problem| Failure::Input(problem.to_string()))?;
    let mut protected: Vec<String> = api.headers.keys().map(|h| h.to_ascii_lowercase()).collect();
    protected.extend(api.auth.header_name());
    let (mut caller_headers, mut warnings) = headers::outgoing(
        call.headers.as_ref().unwrap_or(&BTreeMap::new()),
        &protected,
    )
    .map_err(|problem| Failure::Input(problem.to_string()))?;
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
            caller_headers.insert(name, value);
        }
    }
    let payload = Payload::prepare(state, &call, &mut caller_headers, &mut warnings).await?;
    traffic.request_bytes = payload.len();
    let request = Prepared {
        method: call.method,
        url,
        headers: caller_headers,
        payload,
    };
    let mut answer = exchange_with_retries(
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
    answer.warnings.append(&mut warnings);
    answer.concurrency_remaining = permit.remaining;
    answer.url = shown_url(&request.url, &api.auth);
    answer.data = body::incoming(
        &answer.raw_headers,
        &answer.raw_body,
        call.response_as_base64.unwrap_or(false),
        &mut answer.warnings,
    );
    Ok(answer.into_answer())
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

/// The URL as the caller is shown it: the one the tool was sent, with a credential that the
/// auth scheme puts in the query shown as `[redacted]`.
fn shown_url(url: &url::Url, auth: &Auth) -> String {
    let Some(secret) = tool_auth::query_secret(auth) else {
        return url.to_string();
    };
    let mut shown = url.clone();
    shown.query_pairs_mut().append_pair(secret, "[redacted]");
    shown.to_string()
}

/// Opens the integration's credentials, from the cache when the same version was opened
/// recently.
async fn open(state: &AppState, key: &Key, id: &IntegrationId) -> Result<Arc<Opened>, Failure> {
    if let Some(opened) = state.passthrough.caches.credentials(key) {
        return Ok(opened);
    }
    let sealed = state
        .store
        .integration_credentials(id)
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?
        .ok_or_else(|| Failure::Internal(format!("integration {id} has no credentials")))?;
    let plaintext = state
        .vault
        .open(Purpose::Credentials, id.as_str(), &sealed)
        .map_err(|e| Failure::Internal(format!("opening the credentials of {id}: {e}")))?;
    let credentials: crate::integrations::Credentials = serde_json::from_slice(&plaintext)
        .map_err(|e| Failure::Internal(format!("the credentials of {id} are not a map: {e}")))?;
    let opened = Arc::new(Opened::new(credentials));
    state
        .passthrough
        .caches
        .keep_credentials(key.clone(), opened.clone());
    Ok(opened)
}

/// A body ready to be sent, as many times as retries need.
enum Payload {
    Empty,
    Bytes(Vec<u8>),
    Multipart(Vec<(String, Part)>),
}

enum Part {
    Text(String),
    File {
        name: String,
        content_type: Option<String>,
        bytes: Vec<u8>,
    },
}

impl Payload {
    async fn prepare(
        state: &AppState,
        call: &Call,
        headers: &mut HeaderMap,
        warnings: &mut Vec<String>,
    ) -> Result<Self, Failure> {
        let Some(parts) = call.multipart_form_data.as_ref().filter(|p| !p.is_empty()) else {
            return Ok(match body::outgoing(call.data.as_ref()) {
                Outgoing::Empty => Self::Empty,
                Outgoing::Bytes { body, content_type } => {
                    body::default_content_type(headers, content_type);
                    Self::Bytes(body)
                }
            });
        };
        if call.data.as_ref().is_some_and(|d| !d.is_null()) {
            warnings.push("data was not sent: the request is multipart_form_data.".into());
        }
        // reqwest sets the multipart content type with its boundary.
        headers.remove(CONTENT_TYPE);
        let limit = state.passthrough.config.max_request_body;
        let mut prepared = Vec::with_capacity(parts.len());
        let mut total = 0usize;
        for (index, part) in parts.iter().enumerate() {
            let field = format!("multipart_form_data[{index}]");
            let value = match &part.value {
                FormValue::Text(text) => Part::Text(text.clone()),
                FormValue::File(file) => {
                    if let Some(content_type) = &file.content_type
                        && !body::is_media_type(content_type)
                    {
                        return Err(Failure::Input(format!(
                            "{field}.value.content_type must be a media type such as application/pdf"
                        )));
                    }
                    let bytes = match (&file.data, &file.data_url) {
                        (Some(data), None) => {
                            if file.content_type.is_none() {
                                return Err(Failure::Input(format!(
                                    "{field}.value.content_type is required with data"
                                )));
                            }
                            body::decode_file(data).ok_or_else(|| {
                                Failure::Input(format!("{field}.value.data is not base64"))
                            })?
                        }
                        (None, Some(url)) => fetch_file(state, &field, url, limit).await?,
                        _ => {
                            return Err(Failure::Input(format!(
                                "{field}.value needs exactly one of data and data_url"
                            )));
                        }
                    };
                    Part::File {
                        name: file.name.clone(),
                        content_type: file.content_type.clone(),
                        bytes,
                    }
                }
            };
            total += match &value {
                Part::Text(text) => text.len(),
                Part::File { bytes, .. } => bytes.len(),
            };
            if total > limit {
                return Err(Failure::Input(format!(
                    "the multipart body is larger than {limit} bytes (PLUGBOARD_PASSTHROUGH_MAX_REQUEST_BODY)"
                )));
            }
            prepared.push((part.name.clone(), value));
        }
        Ok(Self::Multipart(prepared))
    }

    fn len(&self) -> u64 {
        let len = match self {
            Self::Empty => 0,
            Self::Bytes(bytes) => bytes.len(),
            Self::Multipart(parts) => parts
                .iter()
                .map(|(_, part)| match part {
                    Part::Text(text) => text.len(),
                    Part::File { bytes, .. } => bytes.len(),
                })
                .sum(),
        };
        len as u64
    }

    fn attach(&self, request: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, Failure> {
        Ok(match self {
            Self::Empty => request,
            Self::Bytes(bytes) => request.body(bytes.clone()),
            Self::Multipart(parts) => {
                let mut form = reqwest::multipart::Form::new();
                for (name, part) in parts {
                    form = match part {
                        Part::Text(text) => form.text(name.clone(), text.clone()),
                        Part::File {
                            name: file_name,
                            content_type,
                            bytes,
                        } => {
                            let mut file = reqwest::multipart::Part::bytes(bytes.clone())
                                .file_name(file_name.clone());
                            if let Some(content_type) = content_type {
                                file = file.mime_str(content_type).map_err(|_| {
                                    Failure::Input(format!("{content_type:?} is not a media type"))
                                })?;
                            }
                            form.part(name.clone(), file)
                        }
                    };
                }
                request.multipart(form)
            }
        })
    }
}

/// Downloads a multipart file from `data_url` through the guarded client (never the trusted
/// one: the URL is the caller's), at most `limit` bytes.
async fn fetch_file(
    state: &AppState,
    field: &str,
    url: &str,
    limit: usize,
) -> Result<Vec<u8>, Failure> {
    let parsed = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http"))
        .ok_or_else(|| Failure::Input(format!("{field}.value.data_url must be an http(s) URL")))?;
    if let Err(blocked) = net::check_literal_host(&parsed) {
        return Err(Failure::Input(format!("{field}.value.data_url: {blocked}")));
    }
    let response = state
        .passthrough
        .guarded
        .get(parsed)
        .send()
        .await
        .map_err(|error| {
            Failure::Input(format!(
                "{field}.value.data_url could not be downloaded: {}",
                net::classify(&error).detail
            ))
        })?;
    if !response.status().is_success() {
        return Err(Failure::Input(format!(
            "{field}.value.data_url answered {}",
            response.status()
        )));
    }
    read_limited(response, limit).await.map_err(|error| match error {
        ReadError::TooLarge => Failure::Input(format!(
            "{field}.value.data_url is larger than {limit} bytes (PLUGBOARD_PASSTHROUGH_MAX_REQUEST_BODY)"
        )),
        ReadError::Broken(detail) => {
            Failure::Input(format!("{field}.value.data_url broke off: {detail}"))
        }
    })
}

/// A request ready to be sent.
struct Prepared {
    method: CallMethod,
    url: url::Url,
    headers: HeaderMap,
    payload: Payload,
}

/// The tool's answer as received, before it is decoded for the caller.
struct Received {
    status: StatusCode,
    raw_headers: HeaderMap,
    raw_body: Vec<u8>,
    url: String,
    data: Option<serde_json::Value>,
    warnings: Vec<String>,
    concurrency_remaining: u32,
}

impl Received {
    fn into_answer(self) -> Answer {
        Answer {
            url: self.url,
            status: self.status.as_u16(),
            headers: headers::incoming(&self.raw_headers),
            data: self.data,
            warnings: self.warnings,
            concurrency_remaining: self.concurrency_remaining,
            log_id: String::new(),
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn exchange_with_retries(
    state: &AppState,
    target: &Target<'_>,
    key: &Key,
    credentials: &Opened,
    request: &Prepared,
    retries: u32,
    traffic: &mut Traffic,
    warnings: &mut Vec<String>,
) -> Result<Received, Failure> {
    let passthrough = &state.passthrough;
    let mut budget = passthrough.config.retry_budget;
    let mut retried = 0;
    let mut logged_in_again = false;
    loop {
        let token = token(state, target, key, credentials).await?;
        traffic.attempts += 1;
        let received = send_once(
            state,
            target,
            credentials,
            request,
            token.as_deref().map(|t| t.as_str()),
        )
        .await?;
        traffic.status = Some(received.status.as_u16());
        traffic.response_bytes = received.raw_body.len() as u64;
        let status = received.status;
        if status == StatusCode::UNAUTHORIZED
            && matches!(target.api.auth, Auth::Token(_))
            && !logged_in_again
        {
            // The cached token may have been revoked early: log in once more. A 401 means the
            // tool did nothing, so this is safe for every method.
            logged_in_again = true;
            passthrough.caches.forget_token(key, &target.api.id);
            continue;
        }
        let retryable = matches!(status.as_u16(), 429 | 503) && request.method.idempotent();
        if retryable && retried < retries {
            let wait = received
                .raw_headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(net::parse_retry_after)
                .unwrap_or(Duration::from_secs(1) * 2u32.pow(retried));
            if wait <= budget {
                budget -= wait;
                retried += 1;
                tokio::time::sleep(wait).await;
                continue;
            }
            warnings.push(format!(
                "The tool asked to wait {} s, more than the retry budget left ({} s); its answer is returned as it is.",
                wait.as_secs(),
                budget.as_secs()
            ));
        }
        if retried > 0 {
            warnings.push(format!(
                "The tool was asked {} times; this is its last answer.",
                retried + 1
            ));
        }
        return Ok(received);
    }
}

/// The access token of a token scheme: cached, or from a fresh login.
async fn token(
    state: &AppState,
    target: &Target<'_>,
    key: &Key,
    credentials: &Opened,
) -> Result<Option<Arc<Zeroizing<String>>>, Failure> {
    let Auth::Token(spec) = &target.api.auth else {
        return Ok(None);
    };
    let caches = &state.passthrough.caches;
    if let Some(token) = caches.token(key, &target.api.id) {
        return Ok(Some(token));
    }
    let url = tool_auth::endpoint(
        &target.tool_base,
        &spec.url,
        &target.tool.fields,
        credentials.get(),
    )
    .map_err(|error| {
        Failure::Tool(
            format!("the token endpoint's URL is invalid ({error}); relink the integration"),
            "stored_values_invalid",
        )
    })?;
    let client = if target.trusted {
        &state.passthrough.trusted
    } else {
        &state.passthrough.guarded
    };
    match tool_auth::exchange(
        client,
        url,
        spec,
        credentials.get(),
        state.passthrough.config.timeout,
    )
    .await
    {
        Ok(token) => {
            let value = Arc::new(token.value);
            caches.keep_token(key, &target.api.id, value.clone(), token.lifetime);
            Ok(Some(value))
        }
        Err(ExchangeError::Rejected(status)) => Err(Failure::Tool(
            format!(
                "{} refused the integration's credentials at login ({status}); they may have been revoked: relink the integration",
                target.tool.label
            ),
            "login_refused",
        )),
        Err(ExchangeError::Failed(detail)) => Err(Failure::Tool(
            format!("{}'s login failed: {detail}", target.tool.label),
            "login_failed",
        )),
        Err(ExchangeError::Unreachable(failure)) => Err(Failure::Tool(
            format!(
                "{}'s login endpoint could not be reached: {}",
                target.tool.label, failure.detail
            ),
            failure.cause.as_str(),
        )),
    }
}

/// Sends the request once and reads the answer within the size limit.
async fn send_once(
    state: &AppState,
    target: &Target<'_>,
    credentials: &Opened,
    request: &Prepared,
    token: Option<&str>,
) -> Result<Received, Failure> {
    let passthrough = &state.passthrough;
    let client = if target.trusted {
        &passthrough.trusted
    } else {
        &passthrough.guarded
    };
    let mut builder = client
        .request(request.method.http(), request.url.clone())
        .headers(request.headers.clone());
    builder = tool_auth::apply(builder, &target.api.auth, credentials.get(), token);
    builder = request.payload.attach(builder)?;
    let limit = passthrough.config.max_response_body;
    let (status, headers, body) = if target.sandbox {
        let built = builder
            .build()
            .map_err(|e| Failure::Internal(e.to_string()))?;
        crate::sandbox::call(built, limit)
            .await
            .map_err(|error| match error {
                ReadError::TooLarge => Failure::TooLarge(limit),
                ReadError::Broken(detail) => Failure::Internal(detail),
            })?
    } else {
        let response = builder.send().await.map_err(|error| {
            let failure = net::classify(&error);
            if failure.cause == net::Cause::Timeout {
                return Failure::TimedOut(passthrough.config.timeout);
            }
            Failure::Tool(
                format!(
                    "{} could not be reached: {}",
                    target.tool.label, failure.detail
                ),
                failure.cause.as_str(),
            )
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_limited(response, limit)
            .await
            .map_err(|error| match error {
                ReadError::TooLarge => Failure::TooLarge(limit),
                ReadError::Broken(detail) => Failure::Tool(
                    format!("{}'s answer broke off: {detail}", target.tool.label),
                    "unreachable",
                ),
            })?;
        (status, headers, body)
    };
    Ok(Received {
        status,
        raw_headers: headers,
        raw_body: body,
        url: String::new(),
        data: None,
        warnings: Vec::new(),
        concurrency_remaining: 0,
    })
}

/// Why a body could not be read whole.
#[derive(Debug)]
pub enum ReadError {
    /// It is larger than the limit.
    TooLarge,
    /// The connection broke.
    Broken(String),
}

/// Reads a response body, failing as soon as it passes `limit` bytes.
async fn read_limited(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, ReadError> {
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ReadError::Broken(net::classify(&e).detail))?
    {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
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

    #[test]
    fn query_credentials_are_redacted_in_the_shown_url() {
        let url = url::Url::parse("https://api.example.com/v1/jobs?page=2").expect("url");
        let auth = Auth::Query {
            name: "apikey".into(),
            value: "{api_key}".into(),
        };
        assert_eq!(
            shown_url(&url, &auth),
            "https://api.example.com/v1/jobs?page=2&apikey=%5Bredacted%5D"
        );
        assert_eq!(shown_url(&url, &Auth::None), url.to_string());
    }
}
