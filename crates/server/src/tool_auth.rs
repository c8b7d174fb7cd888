//! How requests to a tool present the stored credentials: the catalog's templates filled with
//! the end user's values, and its auth scheme ([`Auth`]) applied. The verification request,
//! passthrough calls and connection checks all go through here, so a scheme means the same
//! thing everywhere.
//!
//! Values are inserted verbatim into headers and form bodies and escaped as JSON string
//! contents in JSON bodies; URLs are filled by [`plugboard_catalog::fill_url`], which keeps
//! each value in its own segment or host label.

use std::time::Duration;

use base64::Engine;
use plugboard_catalog::{Auth, BasicPair, Field, TokenExchange, fill_url, spans};
use reqwest::{RequestBuilder, StatusCode};
use zeroize::Zeroizing;

use crate::{integrations::Credentials, net};

/// `template` with every `{field}` replaced by the stored value, verbatim.
pub fn fill_raw(template: &str, credentials: &Credentials) -> String {
    fill(template, |name| {
        credentials.get(name).cloned().unwrap_or_default()
    })
}

/// A JSON template filled with values escaped as JSON string contents.
pub fn fill_json(template: &str, credentials: &Credentials) -> String {
    fill(template, |name| {
        let value = credentials
            .get(name)
            .map(String::as_str)
            .unwrap_or_default();
        let quoted = serde_json::to_string(value).unwrap_or_default();
        quoted[1..quoted.len() - 1].to_owned()
    })
}

/// Fills every placeholder in one pass, so a value that itself looks like `{other_field}` is
/// inserted as it is, never filled in turn.
fn fill(template: &str, mut value_of: impl FnMut(&str) -> String) -> String {
    let mut filled = String::with_capacity(template.len());
    let mut copied = 0;
    for (range, name) in spans(template) {
        filled.push_str(&template[copied..range.start]);
        filled.push_str(&value_of(name));
        copied = range.end;
    }
    filled.push_str(&template[copied..]);
    filled
}

/// The `Authorization: Basic` value of a username and password, built by hand rather than
/// with reqwest's `basic_auth` so that an empty password stays `user:`.
fn basic(pair: &BasicPair, credentials: &Credentials) -> Zeroizing<String> {
    let joined = Zeroizing::new(format!(
        "{}:{}",
        fill_raw(&pair.username, credentials),
        fill_raw(&pair.password, credentials)
    ));
    Zeroizing::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(joined.as_bytes())
    ))
}

/// Applies `auth` to `request`. `token` is the access token an [`Auth::Token`] scheme
/// obtained with [`exchange`]; the other schemes ignore it.
pub fn apply(
    request: RequestBuilder,
    auth: &Auth,
    credentials: &Credentials,
    token: Option<&str>,
) -> RequestBuilder {
    match auth {
        Auth::None => request,
        Auth::Basic { username, password } => {
            let pair = BasicPair {
                username: username.clone(),
                password: password.clone(),
            };
            request.header("authorization", basic(&pair, credentials).as_str())
        }
        Auth::Bearer { token } => request.bearer_auth(fill_raw(token, credentials)),
        Auth::Header { name, value } => request.header(name.as_str(), fill_raw(value, credentials)),
        Auth::Query { name, value } => {
            request.query(&[(name.as_str(), fill_raw(value, credentials).as_str())])
        }
        Auth::Token(exchange) => match token {
            Some(token) => request.header("authorization", format!("{}{token}", exchange.prefix)),
            None => request,
        },
        // The access token: the one refreshed for this request, else the stored one.
        Auth::Oauth => match token.or_else(|| crate::oauth::access_token(credentials)) {
            Some(token) => request.bearer_auth(token),
            None => request,
        },
    }
}

/// The scheme a request of an integration uses: an integration connected by signing in
/// sends its access token whatever the catalog's API-key scheme (`declared`) says.
pub fn effective<'a>(declared: &'a Auth, credentials: &Credentials) -> &'a Auth {
    static OAUTH: Auth = Auth::Oauth;
    if crate::oauth::signed_in(credentials) {
        &OAUTH
    } else {
        declared
    }
}

/// The value a [`Auth::Query`] scheme puts in URLs, which answers and logs must not show.
pub fn query_secret(auth: &Auth) -> Option<&str> {
    match auth {
        Auth::Query { name, .. } => Some(name),
        _ => None,
    }
}

/// An access token from a token endpoint. The value is wiped from memory when dropped.
pub struct AccessToken {
    /// The token.
    pub value: Zeroizing<String>,
    /// How long it lives, as the endpoint said or the catalog assumes.
    pub lifetime: Duration,
}

/// Why a token endpoint gave no token.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The endpoint refused the credentials (400, 401 or 403): they are wrong or revoked.
    #[error("the token endpoint refused the credentials ({0})")]
    Rejected(StatusCode),
    /// The endpoint answered something else, or no token.
    #[error("the token endpoint answered {0}")]
    Failed(String),
    /// The endpoint could not be reached.
    #[error("the token endpoint could not be reached: {}", .0.detail)]
    Unreachable(net::Failure),
}

/// The URL of a token endpoint or API base: `template` appended to `base` when it is a path,
/// else taken as a whole, and filled with the stored values.
pub fn endpoint(
    base: &str,
    template: &str,
    fields: &[Field],
    credentials: &Credentials,
) -> Result<url::Url, plugboard_catalog::FillError> {
    endpoint_with(base, template, fields, |name| {
        credentials.get(name).map(String::as_str)
    })
}

/// [`endpoint`], with the values from `value_of` (stored values and a passthrough API's
/// options).
pub fn endpoint_with<'a>(
    base: &str,
    template: &str,
    fields: &[Field],
    value_of: impl Fn(&str) -> Option<&'a str>,
) -> Result<url::Url, plugboard_catalog::FillError> {
    let whole = if template.starts_with('/') {
        format!("{}{template}", base.trim_end_matches('/'))
    } else {
        template.to_owned()
    };
    fill_url(&whole, fields, value_of)
}

/// Logs in at `url` as `spec` describes and reads the token from the answer.
pub async fn exchange(
    client: &reqwest::Client,
    url: url::Url,
    spec: &TokenExchange,
    credentials: &Credentials,
    timeout: Duration,
) -> Result<AccessToken, ExchangeError> {
    let mut request = client
        .post(url)
        .timeout(timeout)
        .header("accept", "application/json");
    if let Some(pair) = &spec.basic {
        request = request.header("authorization", basic(pair, credentials).as_str());
    }
    if let Some(json) = &spec.json {
        request = request
            .header("content-type", "application/json")
            .body(fill_json(json, credentials));
    } else {
        let form: Vec<(&str, Zeroizing<String>)> = spec
            .form
            .iter()
            .map(|(name, value)| (name.as_str(), Zeroizing::new(fill_raw(value, credentials))))
            .collect();
        let pairs: Vec<(&str, &str)> = form.iter().map(|(n, v)| (*n, v.as_str())).collect();
        request = request.form(&pairs);
    }
    let response = request
        .send()
        .await
        .map_err(|error| ExchangeError::Unreachable(net::classify(&error)))?;
    let status = response.status();
    if matches!(status.as_u16(), 400 | 401 | 403) {
        return Err(ExchangeError::Rejected(status));
    }
    if !status.is_success() {
        return Err(ExchangeError::Failed(status.to_string()));
    }
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|_| ExchangeError::Failed("a body that is not JSON".into()))?;
    let value = body
        .pointer(&spec.token)
        .and_then(serde_json::Value::as_str)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| ExchangeError::Failed(format!("no token at {}", spec.token)))?;
    let seconds = body
        .pointer(&spec.expires_in)
        .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
        .unwrap_or(spec.lifetime);
    Ok(AccessToken {
        value: Zeroizing::new(value.to_owned()),
        lifetime: Duration::from_secs(seconds),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_for_where_they_go() {
        let credentials: Credentials = [
            ("subdomain".into(), "a b/../x".into()),
            ("api_key".into(), "k\"ey".into()),
        ]
        .into();
        assert_eq!(
            fill_json(r#"{"key":"{api_key}"}"#, &credentials),
            r#"{"key":"k\"ey"}"#
        );
        assert_eq!(fill_raw("{api_key}:", &credentials), "k\"ey:");
    }

    #[test]
    fn a_value_is_never_filled_in_turn() {
        let credentials: Credentials = [
            ("user".into(), "{secret}".into()),
            ("secret".into(), "s3cret".into()),
        ]
        .into();
        assert_eq!(fill_raw("{user}:{secret}", &credentials), "{secret}:s3cret");
    }

    #[test]
    fn an_empty_basic_password_stays_empty() {
        let credentials: Credentials = [("api_key".into(), "key".into())].into();
        let pair = BasicPair {
            username: "{api_key}".into(),
            password: String::new(),
        };
        // base64("key:")
        assert_eq!(basic(&pair, &credentials).as_str(), "Basic a2V5Og==");
    }
}
