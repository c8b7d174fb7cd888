//! Extractors: they authenticate and parse, so handlers receive typed, trusted values, and
//! every rejection is the API's error envelope rather than axum's plain-text default.

use std::net::{IpAddr, SocketAddr};

use axum::{
    body::Bytes,
    extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request},
    http::{StatusCode, header, request::Parts},
};
use plugboard_store::{Environment, ids::IntegrationId};
use serde::de::DeserializeOwned;

use crate::{
    AppState, audit,
    error::{ApiError, DomainError, Missing},
    tokens,
};

/// The largest request body the API accepts.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body. Unknown fields are ignored; errors name the offending field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        json_content_type(&request)?;
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(format!(
                        "The request body is larger than {BODY_LIMIT} bytes."
                    ))
                } else {
                    ApiError::InputInvalid(format!(
                        "The request body could not be read: {rejection}"
                    ))
                }
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Kombo's SDK always sends application/json; a missing type is tolerated for curl users, but
/// a body declared as something else is refused rather than guessed at.
fn json_content_type(request: &Request) -> Result<(), ApiError> {
    if let Some(value) = request.headers().get(header::CONTENT_TYPE) {
        let essence = value
            .to_str()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim();
        let json = essence.eq_ignore_ascii_case("application/json")
            || essence.to_ascii_lowercase().ends_with("+json");
        if !json {
            return Err(ApiError::UnsupportedMediaType(format!(
                "The request body must be JSON (Content-Type: application/json), not {essence:?}."
            )));
        }
    }
    Ok(())
}

/// A JSON body up to `PLUGBOARD_PASSTHROUGH_MAX_REQUEST_BODY` rather than [`BODY_LIMIT`]: a
/// passthrough request carries files and SOAP envelopes.
pub struct PassthroughJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for PassthroughJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        json_content_type(&request)?;
        let limit = state.config.passthrough.max_request_body;
        let bytes = axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|_| {
                ApiError::PayloadTooLarge(format!(
                    "The request body is larger than {limit} bytes (PLUGBOARD_PASSTHROUGH_MAX_REQUEST_BODY), or it could not be read."
                ))
            })?;
        parse_json(&bytes).map(PassthroughJson)
    }
}

/// Parses a JSON body, naming the field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Every body of this API is an object; serde would otherwise fill a struct from an array.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::InputInvalid(
            "The request body must be a JSON object.".into(),
        ));
    }
    if may_escape_nul(bytes) && value_has_nul(bytes) {
        return Err(ApiError::InputInvalid(NUL_MESSAGE.into()));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() {
            not_json(&inner)
        } else if path == "." {
            format!("The request body must be a JSON object: {inner}")
        } else {
            format!("{path}: {inner}")
        };
        ApiError::InputInvalid(message)
    })?;
    // One document and nothing after it (the fuzzer found `{…}"more"` accepted).
    deserializer
        .end()
        .map_err(|error| ApiError::InputInvalid(not_json(&error)))?;
    Ok(value)
}

/// The message for a body that is not (only) one JSON document.
fn not_json(error: &serde_json::Error) -> String {
    format!("The request body is not valid JSON: {error}")
}

const NUL_MESSAGE: &str = "The request must not contain the NUL character (U+0000).";

/// Whether `bytes` may spell a NUL character as a JSON escape (`\u0000`): a fast scan that
/// lets almost every body skip the exact check.
fn may_escape_nul(bytes: &[u8]) -> bool {
    bytes
        .windows(6)
        .any(|w| w[0] == b'\\' && w[1] == b'u' && &w[2..] == b"0000")
}

/// Whether a string or key of the JSON document `bytes` contains a NUL character. Text with
/// NUL has no use here, and PostgreSQL cannot store it.
fn value_has_nul(bytes: &[u8]) -> bool {
    fn walk(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(text) => text.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(walk),
            serde_json::Value::Object(map) => map
                .iter()
                .any(|(key, value)| key.contains('\0') || walk(value)),
            _ => false,
        }
    }
    serde_json::from_slice::<serde_json::Value>(bytes).is_ok_and(|value| walk(&value))
}

/// Whether a raw (percent-encoded) path or query carries a NUL character.
fn uri_has_nul(text: &str) -> bool {
    text.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// A path parameter, with errors in the envelope: a segment that is not UTF-8 or carries a NUL
/// character is invalid input.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if uri_has_nul(parts.uri.path()) {
            return Err(ApiError::InputInvalid(NUL_MESSAGE.into()));
        }
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|rejection| {
                ApiError::InputInvalid(format!("Invalid path: {}", rejection.body_text()))
            })
    }
}

/// Query parameters, with errors in the envelope.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if parts.uri.query().is_some_and(uri_has_nul) {
            return Err(ApiError::InputInvalid(NUL_MESSAGE.into()));
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| {
                ApiError::InputInvalid(format!("Invalid query string: {}", rejection.body_text()))
            })
    }
}

/// A request authenticated with an API key: the environment it acts in, and which key.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The key's environment.
    pub environment: Environment,
    /// The key's id (never the key), named as the actor in the audit trail.
    pub api_key_id: String,
    /// SHA-256 of the key: what the rate limit counts by.
    pub key_hash: Vec<u8>,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // A client over its limit of failed authentications is refused before its key is even
        // read, so a flood of made-up keys costs no hash and no database read.
        let client = client_ip(parts, state);
        state.limits.auth_failures.admit(client)?;
        let authenticated = match authenticate(parts, state).await {
            Ok(authenticated) => authenticated,
            Err(error @ ApiError::AuthenticationInvalid(_)) => {
                state.limits.auth_failures.failed(client)?;
                return Err(error);
            }
            Err(error) => return Err(error),
        };
        // Counted only for valid keys, so the limiter's memory follows the real keys and a
        // flood of made-up keys cannot push a real one out.
        state.limits.api.check(&authenticated.key_hash)?;
        Ok(authenticated)
    }
}

/// The API key of the request, if it is valid.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Authenticated, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::AuthenticationInvalid(
            "Missing API key: send the header `Authorization: Bearer <API key>`.".into(),
        ));
    };
    let value = value.to_str().unwrap_or_default().trim();
    // Kombo's SDK sends `Bearer <key>`; accept any capitalisation of the scheme.
    let key = match value.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => key.trim(),
        _ => {
            return Err(ApiError::AuthenticationInvalid(
                "The Authorization header must be `Bearer <API key>`.".into(),
            ));
        }
    };
    if !tokens::looks_like_api_key(key) {
        return Err(ApiError::AuthenticationInvalid(
            "The API key is malformed: Plugboard keys start with pb_prod_ or pb_dev_.".into(),
        ));
    }
    crate::api_keys::authenticate(state, key)
        .await?
        .ok_or_else(|| {
            ApiError::AuthenticationInvalid("The API key is unknown or has been revoked.".into())
        })
}

/// The client's address as the audit trail records it (through `PLUGBOARD_TRUSTED_PROXIES`),
/// without reading any other header when no proxy is trusted.
fn client_ip(parts: &Parts, state: &AppState) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    let trusted = &state.config.trusted_proxies;
    if trusted.is_empty() {
        return peer.map(|ip| ip.to_canonical());
    }
    audit::Client::from_request(peer, &parts.headers, trusted).ip
}

/// An integration id from the path (percent-decoded, so `personio%3A…` works). A malformed
/// id names no integration, so it is "not found" like an unknown one.
pub struct IntegrationPath(pub IntegrationId);

impl<S: Send + Sync> FromRequestParts<S> for IntegrationPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| {
                ApiError::InputInvalid(format!("Invalid path: {}", rejection.body_text()))
            })?;
        IntegrationId::parse(&raw)
            .map(IntegrationPath)
            .ok_or_else(|| not_found(&raw))
    }
}

/// The answer for an integration id unknown in the caller's environment, the same words
/// `integrations::get` gives (a malformed id cannot exist, so it is not found either).
fn not_found(id: &str) -> ApiError {
    DomainError::NotFound(Missing::Integration(id.to_owned())).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: Option<u32>,
    }

    fn message(bytes: &[u8]) -> String {
        parse_json::<Body>(bytes).expect_err("invalid").to_string()
    }

    #[test]
    fn json_errors_name_the_field() {
        assert!(message(br#"{"count": 1}"#).contains("missing field `name`"));
        assert!(message(br#"{"name": 5}"#).starts_with("name: invalid type"));
        assert!(message(br#"{"name": "x", "count": -1}"#).starts_with("count: invalid value"));
        assert!(message(b"{\"name\": ").starts_with("The request body is not valid JSON"));
        assert!(message(b"[1]").starts_with("The request body must be a JSON object"));
        assert!(
            message(br#"{"name": "x"}"remote_environment""#).contains("trailing characters"),
            "one document and nothing after it"
        );
        assert!(
            parse_json::<Body>(b"{\"name\": \"x\"}\n  ").is_ok(),
            "trailing whitespace is fine"
        );
        assert_eq!(message(b"  "), "The request body must be a JSON object.");
    }

    #[test]
    fn nul_characters_are_refused_wherever_they_hide() {
        assert!(message(br#"{"name": "a\u0000b"}"#).contains("NUL"));
        assert!(message(br#"{"name": "x", "extra": {"k\u0000": [1]}}"#).contains("NUL"));
        // A backslash followed by the letters u0000 is not a NUL character.
        let body: Body = parse_json(br#"{"name": "\\u0000"}"#).expect("valid");
        assert_eq!(body.name, "\\u0000");
        assert!(uri_has_nul("/v1/webhooks/ab%00c") && !uri_has_nul("/v1/webhooks/ab%20c"));
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let body: Body = parse_json(br#"{"name": "x", "extra": [1, 2]}"#).expect("valid");
        assert_eq!(body.name, "x");
    }
}
