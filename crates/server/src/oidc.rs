//! Operators' OpenID Connect sign-in to the dashboard, for teams with an identity provider
//! (`PLUGBOARD_DASHBOARD_OIDC_*`). The `openidconnect` crate does the protocol: discovery,
//! the authorization URL with PKCE (S256), state and nonce, the code exchange, and the ID
//! token's verification (signature against the provider's keys, issuer, audience, expiry,
//! nonce). What Plugboard adds: the attempt lives in a sealed, ten-minute cookie of the browser
//! that started it (so a callback from another browser is refused), the e-mail address must be
//! verified by the provider, and it signs in only an operator who already has an enabled
//! account with that address (`plugboard operators create`): the provider proves who someone
//! is, the account says what they may do.

use std::time::Duration as StdDuration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
    core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims},
};
use plugboard_store::Sealed;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tokio::sync::Mutex;

use crate::{AppState, config::DashboardConfig, vault::Purpose};

/// How long a sign-in at the provider may take.
pub const ATTEMPT_TTL: Duration = Duration::minutes(10);

/// The path the provider sends the browser back to; register
/// `<PLUGBOARD_PUBLIC_URL>/dashboard/oidc/callback` at the provider.
pub const CALLBACK_PATH: &str = "/dashboard/oidc/callback";

/// How long discovery and token requests may take.
const TIMEOUT: StdDuration = StdDuration::from_secs(10);

/// How long the provider's metadata (and its keys) are kept before they are fetched again,
/// so a key rotation at the provider is picked up.
const METADATA_TTL: StdDuration = StdDuration::from_secs(600);

/// Why an OpenID Connect sign-in did not work. Each is a sentence on the sign-in page; the
/// details go to the log.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// Not configured.
    #[error("single sign-on is not configured")]
    Disabled,
    /// The attempt's cookie is missing, altered, expired, or of another attempt.
    #[error("the sign-in expired or was started in another browser")]
    Expired,
    /// The provider answered with an error (the user denied, for instance).
    #[error("the identity provider refused the sign-in ({0})")]
    Refused(String),
    /// The provider could not be reached or answered nonsense.
    #[error("the identity provider could not be reached: {0}")]
    Provider(String),
    /// The ID token did not verify.
    #[error("the identity provider's answer did not verify: {0}")]
    Invalid(String),
    /// The provider did not vouch for an e-mail address.
    #[error("the identity provider did not confirm an e-mail address")]
    NoVerifiedEmail,
}

/// The provider's metadata, fetched on first use and again after ten minutes (so a key
/// rotation at the provider is picked up).
#[derive(Default)]
pub struct Oidc {
    metadata: Mutex<Option<(std::time::Instant, CoreProviderMetadata)>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc").finish_non_exhaustive()
    }
}

/// What the attempt's cookie carries, sealed.
#[derive(Serialize, Deserialize)]
struct Attempt {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
    expires: i64,
}

/// Whether operators may sign in with the identity provider.
pub fn enabled(config: &DashboardConfig) -> bool {
    config.oidc_issuer.is_some()
}

/// The client for the provider, made once. The issuer is the operator's own configuration
/// (often an internal identity provider), so it is not held to the public-address guard;
/// redirects are never followed (an SSRF guard the `openidconnect` crate asks for), and, as
/// for every outbound client of Plugboard (`net.rs`), no proxy from the environment is used.
fn http_client() -> &'static reqwest::Client {
    static CLIENT: std::sync::LazyLock<reqwest::Client> = std::sync::LazyLock::new(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(TIMEOUT)
            .build()
            .unwrap_or_default()
    });
    &CLIENT
}

async fn metadata(state: &AppState) -> Result<CoreProviderMetadata, OidcError> {
    let config = &state.config.dashboard;
    let issuer = config.oidc_issuer.as_ref().ok_or(OidcError::Disabled)?;
    let mut cached = state.oidc.metadata.lock().await;
    if let Some((at, metadata)) = cached.as_ref()
        && at.elapsed() < METADATA_TTL
    {
        return Ok(metadata.clone());
    }
    // The issuer exactly as configured: discovery requires the document's `issuer` to match.
    let issuer =
        IssuerUrl::new(issuer.clone()).map_err(|error| OidcError::Provider(error.to_string()))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, http_client())
        .await
        .map_err(|error| OidcError::Provider(error.to_string()))?;
    *cached = Some((std::time::Instant::now(), metadata.clone()));
    Ok(metadata)
}

fn client(
    state: &AppState,
    metadata: CoreProviderMetadata,
) -> Result<
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    OidcError,
> {
    let config = &state.config.dashboard;
    let client_id = config.oidc_client_id.clone().ok_or(OidcError::Disabled)?;
    let secret = config
        .oidc_client_secret
        .as_ref()
        .map(|secret| ClientSecret::new(secret.expose().to_owned()));
    let redirect = RedirectUrl::new(state.config.public(CALLBACK_PATH))
        .map_err(|error| OidcError::Provider(error.to_string()))?;
    Ok(
        CoreClient::from_provider_metadata(metadata, ClientId::new(client_id), secret)
            .set_redirect_uri(redirect),
    )
}

fn seal(state: &AppState, attempt: &Attempt) -> String {
    let json = serde_json::to_vec(attempt).unwrap_or_default();
    let sealed = state.vault.seal(Purpose::OidcSignin, "dashboard", &json);
    format!(
        "{}.{}.{}",
        sealed.key_id,
        URL_SAFE_NO_PAD.encode(&sealed.nonce),
        URL_SAFE_NO_PAD.encode(&sealed.ciphertext)
    )
}

fn open(state: &AppState, cookie: &str) -> Option<Attempt> {
    let mut parts = cookie.splitn(3, '.');
    let sealed = Sealed {
        key_id: parts.next()?.to_owned(),
        nonce: URL_SAFE_NO_PAD.decode(parts.next()?).ok()?,
        ciphertext: URL_SAFE_NO_PAD.decode(parts.next()?).ok()?,
    };
    let json = state
        .vault
        .open(Purpose::OidcSignin, "dashboard", &sealed)
        .ok()?;
    serde_json::from_slice(&json).ok()
}

/// Starts a sign-in: the provider's authorization URL to send the browser to, and the sealed
/// attempt for its cookie. `next` is where the dashboard continues afterwards.
pub async fn start(state: &AppState, next: &str) -> Result<(String, String), OidcError> {
    let client = client(state, metadata(state).await?)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    let attempt = Attempt {
        state: csrf.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        next: next.to_owned(),
        expires: (Utc::now() + ATTEMPT_TTL).timestamp(),
    };
    Ok((url.to_string(), seal(state, &attempt)))
}

/// The provider's answer, as the callback receives it.
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    /// The authorization code.
    pub code: Option<String>,
    /// The state the attempt sent.
    pub state: Option<String>,
    /// The provider's error code, when it refused.
    pub error: Option<String>,
}

/// Finishes a sign-in: checks the callback against the attempt's cookie, exchanges the code,
/// verifies the ID token and returns the verified e-mail address and where to go next.
pub async fn finish(
    state: &AppState,
    callback: Callback,
    cookie: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(String, String), OidcError> {
    let attempt = cookie
        .and_then(|cookie| open(state, cookie))
        .filter(|attempt| attempt.expires > now.timestamp())
        .ok_or(OidcError::Expired)?;
    let returned = callback.state.unwrap_or_default();
    if !bool::from(returned.as_bytes().ct_eq(attempt.state.as_bytes())) {
        return Err(OidcError::Expired);
    }
    if let Some(error) = callback.error {
        // The provider's own code only (`access_denied`), never its free-text description.
        let code: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return Err(OidcError::Refused(code));
    }
    let code = callback.code.ok_or(OidcError::Expired)?;
    let client = client(state, metadata(state).await?)?;
    let http = http_client();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|error| OidcError::Provider(error.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(attempt.verifier))
        .request_async(http)
        .await
        .map_err(|error| OidcError::Provider(error.to_string()))?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| OidcError::Invalid("no ID token".to_owned()))?;
    let claims = id_token
        .claims(&client.id_token_verifier(), &Nonce::new(attempt.nonce))
        .map_err(|error| OidcError::Invalid(error.to_string()))?;
    let (email, verified) = match claims.email() {
        Some(email) => (email.to_string(), claims.email_verified()),
        // Many providers put the address only in the user info (oidc-provider does when an
        // access token comes with the ID token); the subject must be the ID token's.
        None => {
            let info: CoreUserInfoClaims = client
                .user_info(
                    tokens.access_token().clone(),
                    Some(claims.subject().clone()),
                )
                .map_err(|error| OidcError::Provider(error.to_string()))?
                .request_async(http)
                .await
                .map_err(|error| OidcError::Provider(error.to_string()))?;
            let email = info.email().ok_or(OidcError::NoVerifiedEmail)?.to_string();
            (email, info.email_verified())
        }
    };
    if verified != Some(true) {
        return Err(OidcError::NoVerifiedEmail);
    }
    Ok((email.to_lowercase(), attempt.next))
}
