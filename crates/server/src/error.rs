//! Errors, one type per layer, and the Kombo error envelope at the HTTP edge.
//!
//! The rule, in the manner of the registry app's `util/errors.rs`:
//!
//! 1. **Storage** returns [`plugboard_store::StoreError`]: the database's failures in terms a
//!    caller acts on (unavailable, the link already used, anything else).
//! 2. **Domain operations** (`api_keys`, `links`, `integrations`, `webhooks`: the functions the
//!    API, the CLI and the flow share) return [`DomainError`]: what went wrong in the product's
//!    words, never an HTTP status. An operation validates its input, does the work and writes
//!    its audit entry itself, with the [`crate::audit::Caller`] it is given.
//! 3. **Each surface maps** [`DomainError`] once: the API through `From<DomainError> for
//!    ApiError` (below), the CLI through its `Display` (anyhow), the flow to a localised page
//!    (`flow::Problem`). Internal errors are logged once, where they become opaque
//!    ([`ApiError::internal`], or the flow's "something went wrong" page).
//!
//! The envelope is `{"status":"error","error":{"code","title","message","log_url"}}`, all four
//! keys present. Connect and general endpoints may only use the codes of Kombo's
//! `KomboGeneralError` enum (or `null`), or Kombo's SDK raises a validation error instead of
//! the typed one. Internal errors reach the client as an opaque `PLATFORM.UNKNOWN_ERROR`.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use plugboard_store::StoreError;
use serde::Serialize;

/// An error answer of the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or breaks a rule; the message says what to fix. 400.
    #[error("{0}")]
    InputInvalid(String),
    /// The body is larger than the limit. 413 with `PLATFORM.INPUT_INVALID`.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body is not JSON. 415 with `PLATFORM.INPUT_INVALID`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Missing, malformed, unknown or revoked API key. 401.
    #[error("{0}")]
    AuthenticationInvalid(String),
    /// No such integration (or activation token) in the caller's environment. 404.
    #[error("{0}")]
    IntegrationNotFound(String),
    /// No such route or resource outside Kombo's vocabulary. 404 with a `null` code.
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not for this method. 405 with a `null` code.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A rate limit refused the request: the API key's requests, or the client's failed
    /// authentications. 429 with `PLATFORM.RATE_LIMIT_EXCEEDED` and `Retry-After`.
    #[error(
        "{}: the limit is {limit} a minute. Retry in {retry_after} s.",
        scope.what()
    )]
    RateLimited {
        /// Which limit.
        scope: crate::ratelimit::Scope,
        /// The limit, per minute.
        limit: u32,
        /// Whole seconds until the next request is allowed (at least 1).
        retry_after: u64,
    },
    /// An integration has as many passthrough calls in flight as allowed. 429 with
    /// `PLATFORM.CONCURRENCY_LIMIT_EXCEEDED`, `Concurrency-Limit` and `Concurrency-Remaining: 0`.
    #[error("{message}")]
    ConcurrencyLimited {
        /// What happened.
        message: String,
        /// The limit, for the header.
        limit: u32,
    },
    /// A passthrough call took longer than its timeout. 504 with `PLATFORM.TASK_TIMED_OUT`.
    #[error("{0}")]
    TimedOut(String),
    /// The tool behind a passthrough call could not be reached, refused to log Plugboard in,
    /// or answered more than Plugboard reads. 502 with `PLATFORM.UNKNOWN_ERROR` and a message
    /// that says which.
    #[error("{0}")]
    Tool(String),
    /// The database is unreachable; retry shortly. 503 with `Retry-After`.
    #[error("service temporarily unavailable")]
    Unavailable,
    /// A bug or an unexpected failure, already logged. 500.
    #[error("internal error")]
    Internal,
}

/// The wire envelope of an error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    /// Always `"error"`.
    #[schema(example = "error")]
    pub status: &'static str,
    /// What went wrong.
    pub error: ErrorBody,
}

/// The `error` object of the envelope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Machine-readable code such as `PLATFORM.INPUT_INVALID`; branch on this, not on the
    /// HTTP status. `null` for errors outside the API's vocabulary (an unknown route).
    pub code: Option<&'static str>,
    /// A static, human-readable label of the code.
    pub title: Option<&'static str>,
    /// What happened and, for input errors, what to fix.
    pub message: String,
    /// The request log entry of a failed passthrough call
    /// (`GET /v1/integrations/{id}/requests/{request_id}`); `null` for other errors.
    pub log_url: Option<String>,
}

impl ApiError {
    /// Wraps any unexpected error: logs it (once, here) and answers an opaque 500.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Self::Internal
    }

    fn parts(&self) -> (StatusCode, Option<&'static str>, Option<&'static str>) {
        const INPUT: &str = "PLATFORM.INPUT_INVALID";
        match self {
            Self::InputInvalid(_) => (StatusCode::BAD_REQUEST, Some(INPUT), Some("Invalid input")),
            Self::PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                Some(INPUT),
                Some("Payload too large"),
            ),
            Self::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Some(INPUT),
                Some("Unsupported media type"),
            ),
            Self::AuthenticationInvalid(_) => (
                StatusCode::UNAUTHORIZED,
                Some("PLATFORM.AUTHENTICATION_INVALID"),
                Some("Invalid authentication"),
            ),
            Self::IntegrationNotFound(_) => (
                StatusCode::NOT_FOUND,
                Some("PLATFORM.INTEGRATION_NOT_FOUND"),
                Some("Integration not found"),
            ),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, None, Some("Not found")),
            Self::MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                None,
                Some("Method not allowed"),
            ),
            Self::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                Some("PLATFORM.RATE_LIMIT_EXCEEDED"),
                Some("Rate limit exceeded"),
            ),
            Self::ConcurrencyLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                Some("PLATFORM.CONCURRENCY_LIMIT_EXCEEDED"),
                Some("Concurrency limit exceeded"),
            ),
            Self::TimedOut(_) => (
                StatusCode::GATEWAY_TIMEOUT,
                Some("PLATFORM.TASK_TIMED_OUT"),
                Some("Task timed out"),
            ),
            Self::Tool(_) => (
                StatusCode::BAD_GATEWAY,
                Some("PLATFORM.UNKNOWN_ERROR"),
                Some("The tool could not be used"),
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                Some("PLATFORM.UNKNOWN_ERROR"),
                Some("Service unavailable"),
            ),
            Self::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Some("PLATFORM.UNKNOWN_ERROR"),
                Some("Unknown error"),
            ),
        }
    }

    /// The envelope this error becomes, with its HTTP status.
    pub fn envelope(&self) -> (StatusCode, ErrorEnvelope) {
        let (status, code, title) = self.parts();
        let message = match self {
            Self::Unavailable => {
                "Plugboard cannot reach its database right now. Retry in a moment.".into()
            }
            Self::Internal => "Something went wrong on our side. The error has been logged.".into(),
            other => other.to_string(),
        };
        (
            status,
            ErrorEnvelope {
                status: "error",
                error: ErrorBody {
                    code,
                    title,
                    message,
                    log_url: None,
                },
            },
        )
    }
}

/// What a domain operation can fail with (rule 2 above). Each surface turns it into its own
/// words; the messages are written for the operator and name the field to fix.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The input breaks a rule. `field` is the name the API and the CLI both use for it
    /// (`end_user_email`, `url`, `events`), so each surface can point at it.
    #[error("{field}: {message}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// What is wrong and what to do instead.
        message: String,
    },
    /// Nothing of this kind has this id in the environment (or it is no longer there).
    #[error("{0}")]
    NotFound(Missing),
    /// A connection link cannot be used (`links::check`).
    #[error(transparent)]
    Link(#[from] crate::links::LinkProblem),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An invariant did not hold (a record kept changing under a compare-and-set loop). A bug
    /// or extreme contention; surfaces log it and answer opaquely.
    #[error("{0}")]
    Internal(String),
}

impl DomainError {
    /// An [`DomainError::Invalid`] for `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// A record that was looked up and is not there, by kind. Its `Display` is the message the
/// API answers, so every surface reports a missing thing the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// An integration, by id.
    Integration(String),
    /// A webhook endpoint, by id.
    WebhookEndpoint(String),
    /// A webhook delivery, by id.
    WebhookDelivery(String),
    /// A magic link that is not there or already revoked, by id.
    MagicLink(String),
    /// An API key that is not there or already revoked, by id.
    ApiKey(String),
    /// No current OAuth app for this tool in the environment, by tool id.
    OauthApp(String),
    /// An activation token that is unknown, expired, redeemed or of another environment:
    /// deliberately one case, so a guessed or replayed token reveals nothing.
    ActivationToken,
    /// A dashboard operator, by id or e-mail address.
    Operator(String),
    /// An operator's sign-in link that is unknown, used or expired: one case, like
    /// activation tokens.
    SigninToken,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, id, max) = match self {
            Self::Integration(id) => ("integration", id, 80),
            Self::WebhookEndpoint(id) => ("webhook endpoint", id, 40),
            Self::WebhookDelivery(id) => ("webhook delivery", id, 40),
            Self::MagicLink(id) => ("unrevoked magic link", id, 40),
            Self::ApiKey(id) => ("active API key", id, 40),
            Self::OauthApp(tool) => {
                let shown: String = tool.chars().take(40).collect();
                return write!(
                    f,
                    "No OAuth app is registered for tool {shown:?} in this environment."
                );
            }
            Self::Operator(who) => {
                let shown: String = who.chars().take(254).collect();
                return write!(f, "No operator is called {shown:?}.");
            }
            Self::SigninToken => {
                return f.write_str(
                    "This sign-in link is unknown, used or expired (links live three days); \
                     ask an administrator for a new one (`plugboard operators reset`).",
                );
            }
            Self::ActivationToken => {
                return f.write_str(
                    "No integration for this activation token: it is unknown, expired (tokens \
                     live 10 minutes), already redeemed, or belongs to another environment.",
                );
            }
        };
        // Ids come from the client: shown cut, so a huge one cannot bloat the answer.
        let shown: String = id.chars().take(max).collect();
        write!(f, "No {what} with id {shown:?} exists in this environment.")
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::Invalid { .. } => Self::InputInvalid(error.to_string()),
            DomainError::NotFound(
                missing @ (Missing::Integration(_) | Missing::ActivationToken),
            ) => Self::IntegrationNotFound(missing.to_string()),
            DomainError::NotFound(missing) => Self::NotFound(missing.to_string()),
            DomainError::Link(problem) => Self::InputInvalid(problem.to_string()),
            DomainError::Store(error) => error.into(),
            DomainError::Internal(message) => Self::internal(message),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable");
                Self::Unavailable
            }
            other => Self::internal(other),
        }
    }
}

impl From<crate::ratelimit::Refused> for ApiError {
    fn from(refused: crate::ratelimit::Refused) -> Self {
        Self::RateLimited {
            scope: refused.scope,
            limit: refused.limit,
            retry_after: refused.retry_after,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.with_log_url(None)
    }
}

impl ApiError {
    /// The response, with `log_url` pointing at the request log entry the error was
    /// recorded under.
    pub fn with_log_url(self, log_url: Option<String>) -> Response {
        let (status, mut envelope) = self.envelope();
        envelope.error.log_url = log_url;
        let retry_after = match self {
            Self::Unavailable => Some(1),
            Self::RateLimited { retry_after, .. } => Some(retry_after),
            _ => None,
        };
        let mut response = (status, Json(envelope)).into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Self::ConcurrencyLimited { limit, .. } = self {
            headers.insert("concurrency-limit", HeaderValue::from(limit));
            headers.insert("concurrency-remaining", HeaderValue::from(0));
        }
        response
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_in_kombos_general_error_enum() {
        let allowed = [
            "PLATFORM.RATE_LIMIT_EXCEEDED",
            "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
            "PLATFORM.INTEGRATION_NOT_FOUND",
            "PLATFORM.INPUT_INVALID",
            "PLATFORM.UNKNOWN_ERROR",
            "PLATFORM.IP_NOT_WHITELISTED",
            "PLATFORM.AUTHENTICATION_INVALID",
            "PLATFORM.TASK_TIMED_OUT",
        ];
        let errors = [
            ApiError::InputInvalid(String::new()),
            ApiError::PayloadTooLarge(String::new()),
            ApiError::UnsupportedMediaType(String::new()),
            ApiError::AuthenticationInvalid(String::new()),
            ApiError::IntegrationNotFound(String::new()),
            ApiError::NotFound(String::new()),
            ApiError::MethodNotAllowed(String::new()),
            ApiError::RateLimited {
                scope: crate::ratelimit::Scope::ApiKey,
                limit: 1,
                retry_after: 1,
            },
            ApiError::ConcurrencyLimited {
                message: String::new(),
                limit: 30,
            },
            ApiError::TimedOut(String::new()),
            ApiError::Tool(String::new()),
            ApiError::Unavailable,
            ApiError::Internal,
        ];
        for error in errors {
            let (_, envelope) = error.envelope();
            if let Some(code) = envelope.error.code {
                assert!(allowed.contains(&code), "{code}");
            }
        }
    }

    #[test]
    fn envelope_has_all_four_keys() {
        let (status, envelope) =
            ApiError::InputInvalid("end_user_email: missing".into()).envelope();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let json = serde_json::to_value(envelope).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"status": "error", "error": {
                "code": "PLATFORM.INPUT_INVALID", "title": "Invalid input",
                "message": "end_user_email: missing", "log_url": null}})
        );
    }
}
