//! Checking credentials against the tool's real API before an integration exists.
//!
//! Each catalog tool declares one cheap request that succeeds only with working credentials.
//! The end user's values are filled into it (each checked against its field's pattern and
//! kept to its own path segment or host label by [`plugboard_catalog::fill_url`]), it is sent
//! through the guarded client (a subdomain field cannot point the request at an internal
//! address), and the answer, or the failure's cause as [`net::classify`] tells it, is mapped
//! to an outcome the end user can act on. Operator-configured base URLs (on-premise instances, the
//! tests' fake vendors) are trusted and may be private addresses.

use std::{collections::BTreeMap, time::Duration};

use plugboard_catalog::{Auth, Method, Tool, Verify, fill_url, host_placeholders, placeholders};
use reqwest::StatusCode;

use crate::{
    integrations::Credentials,
    net,
    tool_auth::{self, ExchangeError, fill_json, fill_raw},
};

/// How long a vendor may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// What the tool said about the credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The credentials work.
    Connected,
    /// The tool rejected the credentials.
    InvalidCredentials,
    /// The credentials work but lack a permission.
    MissingPermission,
    /// The subdomain, instance or account does not exist.
    WrongInstance,
    /// The tool is rate limiting us.
    RateLimited,
    /// The tool did not answer usefully.
    Unreachable,
}

impl Outcome {
    /// The message id of the end user's explanation.
    pub fn message_id(self) -> &'static str {
        match self {
            Self::Connected => "success-title",
            Self::InvalidCredentials => "verify-invalid-credentials",
            Self::MissingPermission => "verify-missing-permission",
            Self::WrongInstance => "verify-wrong-instance",
            Self::RateLimited => "verify-rate-limited",
            Self::Unreachable => "verify-unreachable",
        }
    }

    /// A short name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::InvalidCredentials => "invalid_credentials",
            Self::MissingPermission => "missing_permission",
            Self::WrongInstance => "wrong_instance",
            Self::RateLimited => "rate_limited",
            Self::Unreachable => "unreachable",
        }
    }
}

/// Sends verification requests.
#[derive(Debug, Clone)]
pub struct Verifier {
    guarded: reqwest::Client,
    trusted: reqwest::Client,
    overrides: BTreeMap<String, String>,
}

impl Verifier {
    /// A verifier using `overrides` (tool id → base URL) in place of the catalog's base URLs.
    pub fn new(overrides: BTreeMap<String, String>) -> Self {
        Self {
            guarded: net::client(TIMEOUT, true),
            trusted: net::client(TIMEOUT, false),
            overrides,
        }
    }

    /// Checks `credentials` against `tool`.
    pub async fn verify(&self, tool: &Tool, credentials: &Credentials) -> Outcome {
        if tool.id == "sandbox" {
            return sandbox(credentials).await;
        }
        let Some(spec) = &tool.verify else {
            return Outcome::Unreachable;
        };
        let (base, trusted) = match self.overrides.get(&tool.id) {
            Some(url) => (url.as_str(), true),
            None => (tool.base_url.as_deref().unwrap_or_default(), false),
        };
        // When the URL depends on what the user typed, a 404 means the user's account or
        // instance does not exist; otherwise it is the tool's problem. Only when the user's
        // values build the host does a name that does not resolve mean a typo (the guard's
        // refusals look the same, so the flow cannot be used to probe internal names).
        let user_addressed = !placeholders(base).is_empty();
        let user_host = !host_placeholders(base).is_empty();
        let not_found = if user_addressed {
            Outcome::WrongInstance
        } else {
            Outcome::Unreachable
        };
        let template = format!("{}{}", base.trim_end_matches('/'), spec.path);
        let url = match request_url(tool, &template, credentials, trusted, user_host) {
            Ok(url) => url,
            Err(outcome) => return outcome,
        };
        let client = if trusted {
            &self.trusted
        } else {
            &self.guarded
        };
        // A signed-in integration carries its access token, whatever the key scheme says.
        let auth = tool_auth::effective(&spec.auth, credentials);
        let token = match auth {
            Auth::Token(exchange) => {
                let endpoint =
                    match tool_auth::endpoint(base, &exchange.url, &tool.fields, credentials) {
                        Ok(endpoint) => endpoint,
                        Err(_) => return Outcome::WrongInstance,
                    };
                match tool_auth::exchange(client, endpoint, exchange, credentials, TIMEOUT).await {
                    Ok(token) => Some(token),
                    Err(ExchangeError::Rejected(_)) => return Outcome::InvalidCredentials,
                    Err(ExchangeError::Failed(_)) => return Outcome::Unreachable,
                    Err(ExchangeError::Unreachable(failure)) => {
                        return failed(tool, &failure, user_host);
                    }
                }
            }
            _ => None,
        };
        let token = token.as_ref().map(|token| token.value.as_str());
        match build(client, url, spec, auth, credentials, token)
            .send()
            .await
        {
            Ok(response) => classify(response.status(), not_found),
            Err(error) => failed(tool, &net::classify(&error), user_host),
        }
    }
}

/// The verification request's URL: `template` filled with the end user's values. A URL the
/// values make unsafe (a refused value, plain HTTP, a literal internal address) is the outcome
/// instead, unless the base URL is the operator's own (`trusted`).
fn request_url(
    tool: &Tool,
    template: &str,
    credentials: &Credentials,
    trusted: bool,
    user_host: bool,
) -> Result<url::Url, Outcome> {
    let url = fill_url(template, &tool.fields, |name| {
        credentials.get(name).map(String::as_str)
    })
    .map_err(|error| {
        tracing::info!(tool = %tool.id, %error, "verification URL refused");
        Outcome::WrongInstance
    })?;
    if !trusted && url.scheme() != "https" {
        return Err(Outcome::WrongInstance);
    }
    if !trusted && let Err(blocked) = net::check_literal_host(&url) {
        let failure = net::Failure {
            cause: net::Cause::Blocked,
            detail: blocked.to_string(),
        };
        return Err(failed(tool, &failure, user_host));
    }
    Ok(url)
}

/// The outcome of a request that got no answer, logged with its cause: only a host the user's
/// values built that does not resolve (or is refused) is the user's to fix.
fn failed(tool: &Tool, failure: &net::Failure, user_host: bool) -> Outcome {
    let outcome = match failure.cause {
        net::Cause::Dns | net::Cause::Blocked if user_host => Outcome::WrongInstance,
        _ => Outcome::Unreachable,
    };
    if outcome == Outcome::Unreachable {
        tracing::warn!(
            tool = %tool.id,
            cause = failure.cause.as_str(),
            error = %failure.detail,
            outcome = outcome.as_str(),
            "verification request failed: the vendor could not be reached"
        );
    } else {
        tracing::info!(
            tool = %tool.id,
            cause = failure.cause.as_str(),
            error = %failure.detail,
            outcome = outcome.as_str(),
            "verification request failed: the host built from the user's values does not resolve"
        );
    }
    outcome
}

fn classify(status: StatusCode, not_found: Outcome) -> Outcome {
    match status.as_u16() {
        200..=299 => Outcome::Connected,
        // Token endpoints answer 400 (`invalid_client`) for wrong client credentials.
        400 | 401 => Outcome::InvalidCredentials,
        403 => Outcome::MissingPermission,
        429 => Outcome::RateLimited,
        300..=399 | 404 | 410 => not_found,
        _ => Outcome::Unreachable,
    }
}

fn build(
    client: &reqwest::Client,
    url: reqwest::Url,
    spec: &Verify,
    auth: &Auth,
    credentials: &Credentials,
    token: Option<&str>,
) -> reqwest::RequestBuilder {
    let mut request = match spec.method {
        Method::Get => client.get(url),
        Method::Post => client.post(url),
    };
    request = tool_auth::apply(request, auth, credentials, token);
    for (name, value) in &spec.headers {
        request = request.header(name.as_str(), fill_raw(value, credentials));
    }
    if !spec.form.is_empty() {
        let form: Vec<(String, String)> = spec
            .form
            .iter()
            .map(|(name, value)| (name.clone(), fill_raw(value, credentials)))
            .collect();
        request = request.form(&form);
    } else if let Some(json) = &spec.json {
        request = request
            .header("content-type", "application/json")
            .body(fill_json(json, credentials));
    }
    request
}

/// The development environment's test tool: the API key decides the outcome, so operators can
/// see every path of their integration without a vendor account.
async fn sandbox(credentials: &Credentials) -> Outcome {
    match credentials.get("api_key").map(|key| key.trim()) {
        Some("invalid") => Outcome::InvalidCredentials,
        Some("missing_scope") => Outcome::MissingPermission,
        Some("rate_limited") => Outcome::RateLimited,
        Some("slow") => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            Outcome::Connected
        }
        Some(key) if !key.is_empty() => Outcome::Connected,
        _ => Outcome::InvalidCredentials,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(text: &str) -> Tool {
        let catalog =
            plugboard_catalog::Catalog::from_files([("acme.toml", text)]).expect("valid tool");
        catalog.get("acme").expect("acme").clone()
    }

    const ACME: &str = r##"
id = "acme"
label = "Acme"
categories = ["HRIS"]
color = "#224488"
auth = "api_key"
base_url = "https://{subdomain}.acme.example/api"
[[fields]]
id = "subdomain"
kind = "text"
label = { en = "Subdomain", de = "Subdomain", fr = "Sous-domaine", it = "Sottodominio", es = "Subdominio" }
[[fields]]
id = "api_key"
kind = "secret"
label = { en = "Key", de = "Schlüssel", fr = "Clé", it = "Chiave", es = "Clave" }
[guide]
en = ["a"]
de = ["a"]
fr = ["a"]
it = ["a"]
es = ["a"]
[verify]
method = "POST"
path = "/users?limit=1&q={subdomain}"
auth = { type = "basic", username = "{api_key}", password = "" }
json = '{"key":"{api_key}"}'
"##;

    #[test]
    fn statuses_map_to_what_the_user_can_do() {
        let wrong = Outcome::WrongInstance;
        let cases = [
            (200, Outcome::Connected),
            (204, Outcome::Connected),
            (400, Outcome::InvalidCredentials),
            (401, Outcome::InvalidCredentials),
            (403, Outcome::MissingPermission),
            (404, wrong),
            (302, wrong),
            (429, Outcome::RateLimited),
            (500, Outcome::Unreachable),
            (503, Outcome::Unreachable),
        ];
        for (status, outcome) in cases {
            assert_eq!(
                classify(StatusCode::from_u16(status).expect("status"), wrong),
                outcome,
                "{status}"
            );
        }
    }

    #[tokio::test]
    async fn user_addressed_hosts_cannot_reach_private_addresses() {
        let acme = tool(&ACME.replace(
            "https://{subdomain}.acme.example/api",
            "https://{subdomain}/api",
        ));
        let verifier = Verifier::new(BTreeMap::new());
        for host in [
            "127.0.0.1",
            "localhost",
            "169.254.169.254",
            "[::1]",
            "10.0.0.1",
        ] {
            let credentials: Credentials = [
                ("subdomain".into(), host.into()),
                ("api_key".into(), "k".into()),
            ]
            .into();
            assert_eq!(
                verifier.verify(&acme, &credentials).await,
                Outcome::WrongInstance,
                "{host}"
            );
        }
    }

    #[tokio::test]
    async fn only_a_user_built_host_that_does_not_resolve_is_a_wrong_instance() {
        let verifier = Verifier::new(BTreeMap::new());
        let credentials: Credentials = [
            ("subdomain".into(), "acme".into()),
            ("api_key".into(), "k".into()),
        ]
        .into();
        // `.invalid` never resolves (RFC 6761).
        let user_host = tool(&ACME.replace(
            "https://{subdomain}.acme.example/api",
            "https://{subdomain}.plugboard-test.invalid/api",
        ));
        assert_eq!(
            verifier.verify(&user_host, &credentials).await,
            Outcome::WrongInstance
        );
        let vendor_host = tool(&ACME.replace(
            "https://{subdomain}.acme.example/api",
            "https://api.plugboard-test.invalid/gateway/{subdomain}",
        ));
        assert_eq!(
            verifier.verify(&vendor_host, &credentials).await,
            Outcome::Unreachable,
            "the vendor's own host not resolving is not the user's typo"
        );
    }

    #[tokio::test]
    async fn a_value_that_would_move_the_request_is_refused() {
        let acme = tool(&ACME.replace(
            "https://{subdomain}.acme.example/api",
            "https://api.plugboard-test.invalid/c/{subdomain}",
        ));
        let verifier = Verifier::new(BTreeMap::new());
        for value in ["..", ".", "evil.example/x", "a.b"] {
            let credentials: Credentials = [
                ("subdomain".into(), value.into()),
                ("api_key".into(), "k".into()),
            ]
            .into();
            let expected = if value.contains('/') || value.contains("a.b") {
                // Encoded into one segment; the (unresolvable) vendor is then unreachable.
                Outcome::Unreachable
            } else {
                Outcome::WrongInstance
            };
            assert_eq!(
                verifier.verify(&acme, &credentials).await,
                expected,
                "{value}"
            );
        }
    }

    #[tokio::test]
    async fn the_sandbox_is_deterministic() {
        let sandbox_tool = plugboard_catalog::Catalog::builtin()
            .expect("catalog")
            .get("sandbox")
            .expect("sandbox")
            .clone();
        let verifier = Verifier::new(BTreeMap::new());
        for (key, outcome) in [
            ("invalid", Outcome::InvalidCredentials),
            ("missing_scope", Outcome::MissingPermission),
            ("rate_limited", Outcome::RateLimited),
            ("anything", Outcome::Connected),
            ("", Outcome::InvalidCredentials),
        ] {
            let credentials: Credentials = [("api_key".into(), key.into())].into();
            assert_eq!(
                verifier.verify(&sandbox_tool, &credentials).await,
                outcome,
                "{key}"
            );
        }
    }
}
