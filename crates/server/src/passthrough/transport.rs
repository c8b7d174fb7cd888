//! Sending a prepared passthrough request to the tool: the access token of a token login
//! (cached, renewed once on 401), the opt-in retries on 429/503 within the budget, and the
//! answer read whole within the size limit, over HTTP or, for the sandbox, in process.

use std::{sync::Arc, time::Duration};

use plugboard_catalog::Auth;
use reqwest::{StatusCode, header::HeaderMap};
use zeroize::Zeroizing;

use super::{
    CallMethod, Failure, Traffic,
    cache::Key,
    payload::Payload,
    target::{self, Target},
};
use crate::{
    AppState,
    integrations::Opened,
    net,
    tool_auth::{self, ExchangeError},
};

/// A request ready to be sent.
pub(super) struct Prepared {
    pub(super) method: CallMethod,
    pub(super) url: url::Url,
    pub(super) headers: HeaderMap,
    pub(super) payload: Payload,
}

/// The tool's answer as received, before it is decoded for the caller.
pub(super) struct Received {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn exchange_with_retries(
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
    let mut refused: Option<Arc<Zeroizing<String>>> = None;
    // The 401 that made us log in again: the answer when logging in again fails.
    let mut unauthorized: Option<Received> = None;
    loop {
        let stale = refused.as_deref().map(|t| t.as_str());
        let token = match token(state, target, key, credentials, stale).await {
            Ok(token) => token,
            Err(failure) => match unauthorized.take() {
                Some(received) => {
                    warnings.push(format!(
                        "The tool refused the access token, and a new one could not be had ({}); this is the tool's answer.",
                        failure
                    ));
                    return Ok(received);
                }
                None => return Err(failure),
            },
        };
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
        traffic.response_bytes = received.body.len() as u64;
        let status = received.status;
        if status == StatusCode::UNAUTHORIZED
            && matches!(target.auth, Auth::Token(_) | Auth::Oauth)
            && !logged_in_again
        {
            // The token may have been revoked early: the next request logs in again (an OAuth
            // token is refreshed, unless another refresh already replaced it). Only a request
            // that cannot do anything twice is repeated at once; a POST or PATCH gets the 401
            // back (a gateway may have passed it on before refusing).
            logged_in_again = true;
            passthrough.caches.forget_token(key, &target.api.id);
            refused = token.clone();
            if request.method.idempotent() {
                unauthorized = Some(received);
                continue;
            }
            if let (Auth::Oauth, Some(token)) = (target.auth, &token) {
                state.oauth_tokens.mark_refused(&key.integration, token);
            }
            warnings.push(
                "The tool refused the access token; a new one is fetched for the next call. This request was not repeated, as it is not idempotent."
                    .into(),
            );
        }
        let retryable = matches!(status.as_u16(), 429 | 503) && request.method.idempotent();
        if retryable && retried < retries {
            let wait = received
                .headers
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

/// The access token of a token scheme (cached, or from a fresh login), or of an integration
/// connected by signing in (fresh, refreshed when near expiry or when `stale` was refused).
pub(super) async fn token(
    state: &AppState,
    target: &Target<'_>,
    key: &Key,
    credentials: &Opened,
    stale: Option<&str>,
) -> Result<Option<Arc<Zeroizing<String>>>, Failure> {
    let spec = match target.auth {
        Auth::Token(spec) => spec,
        Auth::Oauth => return oauth_token(state, target, key, stale).await.map(Some),
        _ => return Ok(None),
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
    let trusted = target.relative_trusted(&spec.url);
    target::check_guarded(&url, trusted)?;
    match tool_auth::exchange(
        target::client(&state.passthrough, trusted),
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
            super::LOGIN_REFUSED,
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

/// A fresh OAuth access token for the integration (`oauth/tokens.rs`).
async fn oauth_token(
    state: &AppState,
    target: &Target<'_>,
    key: &Key,
    stale: Option<&str>,
) -> Result<Arc<Zeroizing<String>>, Failure> {
    let id = plugboard_store::ids::IntegrationId::parse(&key.integration).ok_or_else(|| {
        Failure::Internal(format!("{} is not an integration id", key.integration))
    })?;
    crate::oauth::tokens::access_token(state, &id, key.version, target.tool, stale)
        .await
        .map_err(|error| {
            use crate::oauth::tokens::RefreshError;
            let class = match &error {
                RefreshError::Revoked => super::LOGIN_REFUSED,
                RefreshError::App(_) => "oauth_app_refused",
                RefreshError::Failed(_) | RefreshError::BackingOff(_) => "refresh_failed",
                RefreshError::Internal(detail) => return Failure::Internal(detail.clone()),
            };
            Failure::Tool(format!("{}: {error}", target.tool.label), class)
        })
}

/// Sends the request once and reads the answer within the size limit.
pub(super) async fn send_once(
    state: &AppState,
    target: &Target<'_>,
    credentials: &Opened,
    request: &Prepared,
    token: Option<&str>,
) -> Result<Received, Failure> {
    let passthrough = &state.passthrough;
    let mut builder = target
        .client(passthrough)
        .request(request.method.http(), request.url.clone())
        .headers(request.headers.clone());
    builder = tool_auth::apply(builder, target.auth, credentials.get(), token);
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
        headers,
        body,
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
pub(super) async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, ReadError> {
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
