//! The vendor's side of a sign-in: its endpoints (the catalog's templates filled with what the
//! end user typed, or the operator's overrides), the authorization URL, and the two token
//! requests (code exchange and refresh), made with the `oauth2` crate on Plugboard's outbound
//! HTTP client.
//!
//! Token endpoints are reached through the guarded client (public addresses only, no
//! redirects), unless the operator overrode them (`PLUGBOARD_TOOL_BASE_URLS` keys
//! `<tool>/authorize` and `<tool>/token`), which are trusted as the other overrides are.

use std::time::Duration;

use chrono::{DateTime, Utc};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope,
    TokenResponse, TokenUrl,
    basic::{BasicClient, BasicErrorResponseType},
};
use plugboard_catalog::{ClientAuth, OauthSettings, Tool, fill_url};
use plugboard_store::OauthApp;
use zeroize::Zeroizing;

use super::TokenSet;
use crate::{config::Config, integrations::Credentials, net};

/// How long a code exchange may take (the end user waits on the callback page).
pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(15);

/// How long a refresh may take. It holds the integration's lock meanwhile, on SQLite the
/// database's write lock: shorter than SQLite's 5-second busy timeout, so another process's
/// write waits for it rather than failing.
pub const REFRESH_TIMEOUT: Duration = Duration::from_secs(4);

/// The longest lifetime believed of an access token; a vendor that says more (or sends a
/// number that would overflow a date) gets this.
const MAX_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

/// A tool's endpoints for one end user: filled and checked.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Where the browser is sent.
    pub authorize: url::Url,
    /// Where codes and refresh tokens are exchanged.
    pub token: url::Url,
    /// The issuer expected in the authorization response's `iss`.
    pub issuer: String,
    /// Whether the vendor is known to send `iss` (the catalog names its issuer): then a
    /// response without one is refused (RFC 9207 §2.4).
    pub issuer_required: bool,
    /// Whether the operator overrode the token endpoint (trusted: it may be a private
    /// address). Only its own override trusts it: the catalog's token URL, filled with the
    /// end user's values, stays guarded whatever else is overridden.
    pub token_trusted: bool,
}

/// Why the endpoints could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// The tool has no `[oauth]` section.
    #[error("the tool has no OAuth sign-in")]
    NotOauth,
    /// A value the end user typed does not fit the URL.
    #[error("a value does not fit the sign-in URL: {0}")]
    Value(String),
}

/// The endpoints of `tool` for `values` (what the end user typed before signing in) and the
/// operator's `app` (its settings, such as Rippling's app name).
pub fn endpoints(
    config: &Config,
    tool: &Tool,
    values: &Credentials,
    app: &OauthApp,
) -> Result<Endpoints, EndpointError> {
    let settings = tool.oauth.as_ref().ok_or(EndpointError::NotOauth)?;
    let overridden = |which: &str| config.tool_base_urls.get(&format!("{}/{which}", tool.id));
    let fill = |template: &str| {
        fill_url(template, &tool.fields, |name| {
            (values.get(name).or_else(|| app.settings.get(name))).map(String::as_str)
        })
        .map_err(|error| EndpointError::Value(error.to_string()))
    };
    let authorize_override = overridden("authorize");
    let token_override = overridden("token");
    let authorize = fill(authorize_override.unwrap_or(&settings.authorize_url))?;
    let token = fill(token_override.unwrap_or(&settings.token_url))?;
    for (url, overridden) in [(&authorize, authorize_override), (&token, token_override)] {
        if overridden.is_none() && url.scheme() != "https" {
            return Err(EndpointError::Value(format!("{url} is not https")));
        }
    }
    // An overridden vendor (an on-premise one, the test suite's authorization server) names
    // its own origin as issuer; the catalog's issuer belongs to the real vendor.
    let issuer = match (&settings.issuer, authorize_override) {
        (Some(issuer), None) => issuer.clone(),
        _ => authorize.origin().ascii_serialization(),
    };
    Ok(Endpoints {
        authorize,
        token,
        issuer_required: settings.issuer.is_some() && authorize_override.is_none(),
        issuer,
        token_trusted: token_override.is_some(),
    })
}

type Configured =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The `oauth2` client for `app` at `endpoints`.
fn client(
    settings: &OauthSettings,
    endpoints: &Endpoints,
    app: &OauthApp,
    secret: &str,
    redirect_uri: &str,
) -> Result<Configured, TokenError> {
    let bad = |e: url::ParseError| TokenError::Failed(format!("an endpoint is not a URL: {e}"));
    let client = BasicClient::new(ClientId::new(app.client_id.clone()))
        .set_client_secret(ClientSecret::new(secret.to_owned()))
        .set_auth_uri(AuthUrl::from_url(endpoints.authorize.clone()))
        .set_token_uri(TokenUrl::from_url(endpoints.token.clone()))
        .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned()).map_err(bad)?)
        .set_auth_type(match settings.client_auth {
            ClientAuth::Basic => AuthType::BasicAuth,
            ClientAuth::Body => AuthType::RequestBody,
        });
    Ok(client)
}

/// The authorization request of one attempt.
pub struct Authorization {
    /// Where to send the browser.
    pub url: url::Url,
    /// The PKCE verifier to keep for the code exchange (`None` when the tool has PKCE off).
    pub verifier: Option<Zeroizing<String>>,
}

/// The authorization URL for `state`, with a fresh PKCE S256 challenge unless the tool turns
/// PKCE off, the scopes joined as the vendor wants, and the tool's extra parameters.
pub fn authorization(
    settings: &OauthSettings,
    endpoints: &Endpoints,
    app: &OauthApp,
    scopes: &[String],
    redirect_uri: &str,
    state: &str,
) -> Result<Authorization, TokenError> {
    // The secret plays no part in the authorization request.
    let client = client(settings, endpoints, app, "", redirect_uri)?;
    let mut request = client.authorize_url(|| CsrfToken::new(state.to_owned()));
    if !scopes.is_empty() {
        request = request.add_scope(Scope::new(scopes.join(&settings.scope_separator)));
    }
    let mut verifier = None;
    if settings.pkce {
        let (challenge, pkce) = PkceCodeChallenge::new_random_sha256();
        request = request.set_pkce_challenge(challenge);
        verifier = Some(Zeroizing::new(pkce.secret().clone()));
    }
    for (name, value) in &settings.authorize_params {
        request = request.add_extra_param(name.as_str(), value.as_str());
    }
    let (url, _) = request.url();
    Ok(Authorization { url, verifier })
}

/// Why a token request gave no tokens.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The vendor refused the grant for good (`invalid_grant`: the code was used or expired,
    /// the refresh token was revoked or rotated away).
    #[error("the vendor refused the grant (invalid_grant)")]
    InvalidGrant,
    /// The vendor refused the client (`invalid_client`, `unauthorized_client`): the operator's
    /// app is wrong or was deleted at the vendor.
    #[error("the vendor refused the OAuth app ({0})")]
    Client(String),
    /// The vendor answered with another error, or something that is not a token response.
    #[error("{0}")]
    Failed(String),
    /// The vendor could not be reached (network, timeout, guard): worth trying again later.
    #[error("the token endpoint could not be reached: {}", .0.detail)]
    Unreachable(net::Failure),
}

impl TokenError {
    /// A short, secret-free name for logs, events and the request log.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidGrant => "invalid_grant",
            Self::Client(_) => "invalid_client",
            Self::Failed(_) => "token_request_failed",
            Self::Unreachable(_) => "token_endpoint_unreachable",
        }
    }
}

type OauthResult = Result<
    oauth2::basic::BasicTokenResponse,
    oauth2::RequestTokenError<
        oauth2::HttpClientError<reqwest::Error>,
        oauth2::basic::BasicErrorResponse,
    >,
>;

/// Reads a token response, or says why there is none. The error's body can hold tokens, so
/// only the vendor's error code and the path of a parse error are kept.
fn tokens_of(
    result: OauthResult,
    app: &OauthApp,
    previous_refresh: Option<&str>,
    now: DateTime<Utc>,
) -> Result<TokenSet, TokenError> {
    let response = result.map_err(|error| match error {
        oauth2::RequestTokenError::ServerResponse(response) => match response.error() {
            BasicErrorResponseType::InvalidGrant => TokenError::InvalidGrant,
            code @ (BasicErrorResponseType::InvalidClient
            | BasicErrorResponseType::UnauthorizedClient) => TokenError::Client(code.to_string()),
            code => TokenError::Failed(format!("the vendor answered {code}")),
        },
        oauth2::RequestTokenError::Request(oauth2::HttpClientError::Reqwest(error)) => {
            TokenError::Unreachable(net::classify(&error))
        }
        oauth2::RequestTokenError::Request(error) => {
            TokenError::Failed(format!("the token request failed: {error}"))
        }
        oauth2::RequestTokenError::Parse(error, _body) => TokenError::Failed(format!(
            "the token endpoint's answer is not a token response (at {})",
            error.path()
        )),
        oauth2::RequestTokenError::Other(detail) => {
            let shown: String = detail.chars().take(120).collect();
            TokenError::Failed(format!("the token endpoint answered: {shown}"))
        }
    })?;
    // No lifetime, or zero, means "unknown": the token is used until the tool refuses it.
    let expires_at = response
        .expires_in()
        .filter(|lifetime| !lifetime.is_zero())
        .and_then(|lifetime| chrono::Duration::from_std(lifetime.min(MAX_LIFETIME)).ok())
        .and_then(|lifetime| now.checked_add_signed(lifetime));
    Ok(TokenSet {
        access_token: response.access_token().secret().clone(),
        // A vendor that does not rotate answers a refresh without a new refresh token: the
        // one just used stays valid.
        refresh_token: response
            .refresh_token()
            .map(|token| token.secret().clone())
            .or_else(|| previous_refresh.map(str::to_owned)),
        expires_at,
        issued_at: now,
        app: app.id.clone(),
    })
}

/// The vendor's side of one token request: who asks, where, with what.
pub struct TokenRequest<'a> {
    /// The tool's `[oauth]` settings.
    pub settings: &'a OauthSettings,
    /// Its endpoints for this integration.
    pub endpoints: &'a Endpoints,
    /// The app revision the tokens belong to.
    pub app: &'a OauthApp,
    /// Its client secret, opened for this request.
    pub secret: &'a str,
    /// The deployment's redirect URI (sent with the code, and by vendors such as Deel with
    /// refreshes too).
    pub redirect_uri: &'a str,
}

impl TokenRequest<'_> {
    fn http(&self, timeout: Duration) -> reqwest::Client {
        net::client(timeout, !self.endpoints.token_trusted)
    }

    fn checked(&self) -> Result<(), TokenError> {
        if !self.endpoints.token_trusted
            && let Err(blocked) = net::check_literal_host(&self.endpoints.token)
        {
            return Err(TokenError::Unreachable(net::Failure {
                cause: net::Cause::Blocked,
                detail: blocked.to_string(),
            }));
        }
        Ok(())
    }

    /// Exchanges an authorization `code` (with its PKCE `verifier`) for tokens.
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: Option<&str>,
    ) -> Result<TokenSet, TokenError> {
        self.checked()?;
        let client = client(
            self.settings,
            self.endpoints,
            self.app,
            self.secret,
            self.redirect_uri,
        )?;
        let mut request = client.exchange_code(AuthorizationCode::new(code.to_owned()));
        if let Some(verifier) = verifier {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()));
        }
        for (name, value) in &self.settings.token_params {
            request = request.add_extra_param(name.as_str(), value.as_str());
        }
        let http = self.http(TOKEN_TIMEOUT);
        let result = request.request_async(&http).await;
        tokens_of(result, self.app, None, Utc::now())
    }

    /// Exchanges `refresh_token` for new tokens; keeps it when the vendor issues no new one.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenSet, TokenError> {
        self.checked()?;
        let client = client(
            self.settings,
            self.endpoints,
            self.app,
            self.secret,
            self.redirect_uri,
        )?;
        let token = RefreshToken::new(refresh_token.to_owned());
        let mut request = client.exchange_refresh_token(&token);
        for (name, value) in &self.settings.token_params {
            request = request.add_extra_param(name.as_str(), value.as_str());
        }
        let http = self.http(REFRESH_TIMEOUT);
        let result = request.request_async(&http).await;
        tokens_of(result, self.app, Some(refresh_token), Utc::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(settings: &[(&str, &str)]) -> OauthApp {
        OauthApp {
            id: "oapp_1".into(),
            environment_id: "env".into(),
            tool: "rippling".into(),
            revision: 1,
            client_id: "client".into(),
            client_secret: plugboard_store::Sealed {
                key_id: "k".into(),
                nonce: Vec::new(),
                ciphertext: Vec::new(),
            },
            scopes: None,
            settings: settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            created_at: Utc::now(),
            retired_at: None,
        }
    }

    #[test]
    fn endpoints_take_the_apps_settings_and_the_end_users_values() {
        let catalog = plugboard_catalog::Catalog::builtin().expect("catalog");
        let config = Config::defaults();
        let rippling = catalog.get("rippling").expect("rippling");
        let found = endpoints(
            &config,
            rippling,
            &Credentials::new(),
            &app(&[("app_name", "acme-hr")]),
        )
        .expect("endpoints");
        assert_eq!(
            found.authorize.as_str(),
            "https://app.rippling.com/apps/PLATFORM/acme-hr/authorize"
        );
        assert_eq!(found.issuer, "https://app.rippling.com");
        assert!(!found.token_trusted);
        assert!(!found.issuer_required);
        // A value cannot leave its host label.
        let bamboohr = catalog.get("bamboohr").expect("bamboohr");
        let values: Credentials = [("subdomain".to_owned(), "acme".to_owned())].into();
        let found = endpoints(&config, bamboohr, &values, &app(&[])).expect("endpoints");
        assert_eq!(found.authorize.host_str(), Some("acme.bamboohr.com"));
        for evil in [
            "evil.example/x",
            "a.b",
            "x@evil.example",
            "%2e%2e",
            "acme.evil.example#",
        ] {
            let values: Credentials = [("subdomain".to_owned(), evil.to_owned())].into();
            assert!(
                endpoints(&config, bamboohr, &values, &app(&[])).is_err(),
                "{evil}"
            );
        }
    }
}
