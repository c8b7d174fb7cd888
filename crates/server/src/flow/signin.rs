//! Signing in to an OAuth tool from the flow (RFC 9700 for a confidential client).
//!
//! The vendor's consent page cannot be framed, so a click in the iframe opens a popup (a
//! magic link, in a tab of its own, goes there in the same tab) at [`start`], on Plugboard's
//! own origin: it records the attempt server-side (the state's hash, the PKCE verifier, the
//! link, the tool; single use, ten minutes), sets a first-party cookie binding the attempt
//! to this browser, and sends the browser to the vendor. The vendor sends it back to
//! [`callback`], which checks the state, the cookie and the issuer, exchanges the code,
//! verifies the token with the tool's API, and creates the integration as an API-key
//! connection does. The popup only learns "done" or "failed" and tells the flow page that
//! opened it (a `postMessage` to Plugboard's exact origin), which also asks [`status`] in case
//! the popup lost its opener; the page then opens [`finish`], which hands over the activation
//! token once, or explains what went wrong with a way to try again. No code or token ever
//! reaches a page or a log.

use axum::{
    Json,
    extract::{Query, State, rejection::QueryRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use base64::Engine;
use chrono::{Duration, Utc};
use plugboard_catalog::Tool;
use plugboard_store::{OauthAttempt, ids};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::{
    FIELD_PREFIX, Link, accept_language, chosen_tool, open_link, open_page_link,
    pages::{self, Problem, SigninEnd},
    problem_of, step, tr_for,
    verify::Outcome,
};
use crate::{
    AppState, audit,
    integrations::{self, Credentials},
    links::LinkKind,
    oauth::{
        self, apps,
        client::{self, TokenRequest},
    },
    tools::SignIns,
    vault::Purpose,
};

/// How long an attempt waits for its callback (and its cookie lives).
const ATTEMPT_TTL: Duration = Duration::minutes(10);

/// How the browser reached the vendor, and so how the callback answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    /// A popup opened by the flow in its iframe: the callback page tells it and closes.
    Popup,
    /// The same tab (a magic link, or no script): the callback redirects to [`finish`].
    Redirect,
}

/// What the callback needs and nobody else may read, sealed in the attempt's record.
#[derive(Serialize, Deserialize)]
struct Secrets {
    /// The link token, to open the link again at the callback with every check.
    link: String,
    /// The PKCE verifier, when the tool uses PKCE.
    verifier: Option<String>,
    /// What the end user typed before signing in (a subdomain, a tenant).
    values: Credentials,
    /// The app revision the authorization request named.
    app: String,
    /// The issuer expected in `iss`.
    issuer: String,
    /// Whether a response without `iss` is refused.
    #[serde(default)]
    issuer_required: bool,
    mode: Mode,
}

impl Drop for Secrets {
    fn drop(&mut self) {
        self.link.zeroize();
        if let Some(verifier) = &mut self.verifier {
            verifier.zeroize();
        }
    }
}

/// 32 random bytes, base64url: a state or cookie value (256 bits, RFC 9700 §4.7.1).
fn random_value() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(bytes.as_mut());
    Zeroizing::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref()))
}

fn sha256(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

/// The cookie binding attempt `id` to the browser: `__Host-` (Secure, no Domain, Path /)
/// when Plugboard is served over HTTPS, a plain name on a local HTTP set-up.
fn cookie_name(state: &AppState, id: &str) -> String {
    let prefix = if secure_origin(state) { "__Host-" } else { "" };
    format!("{prefix}plugboard_oauth_{id}")
}

fn secure_origin(state: &AppState) -> bool {
    state.config.public_url.scheme() == "https"
}

fn cookie(state: &AppState, id: &str, value: &str, max_age: Duration) -> HeaderValue {
    let cookie = cookie::Cookie::build((cookie_name(state, id), value.to_owned()))
        .path("/")
        .http_only(true)
        .secure(secure_origin(state))
        // Lax: sent on the vendor's top-level redirect back, never on a cross-site subrequest.
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age.num_seconds()))
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

/// Headers of every sign-in response: nothing cached, no referrer (the vendor's page must not
/// learn the link token, nor a later page the code, RFC 9700 §4.2.4).
fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The values the end user types before signing in: the tool's fields but its secrets (a
/// tool that also takes a key has the key among its fields; signing in replaces it).
pub(crate) fn typed_first(tool: &Tool) -> impl Iterator<Item = &plugboard_catalog::Field> {
    tool.fields
        .iter()
        .filter(|field| field.kind != plugboard_catalog::FieldKind::Secret)
}

/// The URL of the start of a sign-in, as the flow's pages link it (`mode=redirect`; the
/// script turns it into a popup inside a frame).
pub(crate) fn start_href(link: &Link, tool: &Tool) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("token", &link.token);
    query.append_pair("tool", &tool.id);
    query.append_pair("mode", "redirect");
    format!("/connect/oauth/start?{}", query.finish())
}

/// The URL where the flow reads how attempt `attempt` ended.
fn finish_href(link: &Link, tool: &str, attempt: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("token", &link.token);
    query.append_pair("tool", tool);
    query.append_pair("attempt", attempt);
    format!("/connect/oauth/finish?{}", query.finish())
}

/// `GET /connect/oauth/start`: records the attempt, sets its cookie, and sends the browser to
/// the vendor. The query carries the link token, the tool, the attempt id the flow page chose
/// (a popup's page must know it; one is made up for a redirect), the mode and the values
/// typed before signing in (`field.<id>`).
pub(crate) async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: audit::Client,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = query.map(|Query(pairs)| pairs).unwrap_or_default();
    let value = |name: &str| {
        let pair = pairs.iter().find(|(key, _)| key == name);
        pair.map(|(_, value)| value.as_str())
    };
    let link = match open_page_link(&state, &headers, &client, value("token")).await {
        Ok(link) => link,
        Err(refused) => return private(refused),
    };
    let refuse = |problem| private(pages::problem(&state, problem, link.tr, Some(&link)));
    let sign_ins = match SignIns::of(&state, &link.environment).await {
        Ok(sign_ins) => sign_ins,
        Err(error) => return refuse(problem_of(error.into())),
    };
    let tool = match chosen_tool(&state, &link, value("tool"), &sign_ins) {
        Some(Ok(tool)) if sign_ins.signs_in(tool) => tool,
        Some(Err(problem)) => return refuse(problem),
        _ => return refuse(Problem::ToolUnavailable),
    };
    let mode = match value("mode") {
        Some("popup") => Mode::Popup,
        _ => Mode::Redirect,
    };
    let attempt_id = match value("attempt") {
        Some(id) if ids::is_id(id) => id.to_owned(),
        Some(_) => return refuse(Problem::Invalid),
        None => ids::new_id(),
    };
    // An id the page chose is used once (a reloaded popup would reuse it).
    match state
        .store
        .oauth_attempt(&link.claims.jti, &attempt_id)
        .await
    {
        Ok(None) => {}
        Ok(Some(_)) => return refuse(Problem::Invalid),
        Err(error) => return refuse(problem_of(error.into())),
    }
    let mut values = Credentials::new();
    for field in typed_first(tool) {
        let typed = value(&format!("{FIELD_PREFIX}{}", field.id))
            .unwrap_or_default()
            .trim();
        // The form checked the values as the server does (`Field::input`): a value that
        // fails here did not come from it.
        if field.check(typed).is_err() {
            return refuse(Problem::Invalid);
        }
        values.insert(field.id.clone(), typed.to_owned());
    }
    match begin(&state, &link, tool, values, &attempt_id, mode).await {
        Ok((to_vendor, browser)) => {
            let entry = step(audit::Action::LinkSigninStarted, &link)
                .detail("tool", tool.id.clone())
                .detail(
                    "mode",
                    if mode == Mode::Popup {
                        "popup"
                    } else {
                        "redirect"
                    },
                );
            audit::record(&state, &link.environment.id, entry, Some(&client)).await;
            let mut response = Redirect::to(to_vendor.as_str()).into_response();
            let cookie = cookie(&state, &attempt_id, &browser, ATTEMPT_TTL);
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            private(response)
        }
        Err(problem) => refuse(problem),
    }
}

/// Records an attempt and returns the vendor's authorization URL and the browser's cookie.
async fn begin(
    state: &AppState,
    link: &Link,
    tool: &Tool,
    values: Credentials,
    attempt_id: &str,
    mode: Mode,
) -> Result<(url::Url, Zeroizing<String>), Problem> {
    let Some(settings) = &tool.oauth else {
        return Err(Problem::ToolUnavailable);
    };
    let app = apps::current(state, &link.environment, &tool.id)
        .await
        .map_err(|error| match error {
            crate::error::DomainError::NotFound(_) => Problem::ToolUnavailable,
            other => problem_of(other),
        })?;
    let endpoints = client::endpoints(&state.config, tool, &values, &app).map_err(|error| {
        tracing::info!(tool = %tool.id, %error, "sign-in URL refused");
        Problem::Invalid
    })?;
    let oauth_state = random_value();
    let browser = random_value();
    let authorization = client::authorization(
        settings,
        &endpoints,
        &app,
        apps::scopes(tool, &app),
        &oauth::redirect_uri(&state.config),
        &oauth_state,
    )
    .map_err(|error| problem_of(crate::error::DomainError::Internal(error.to_string())))?;
    let secrets = Secrets {
        link: link.token.clone(),
        verifier: authorization.verifier.as_ref().map(|v| v.to_string()),
        values,
        app: app.id.clone(),
        issuer: endpoints.issuer.clone(),
        issuer_required: endpoints.issuer_required,
        mode,
    };
    let plaintext = Zeroizing::new(serde_json::to_vec(&secrets).expect("plain data serialises"));
    let now = Utc::now();
    let attempt = OauthAttempt {
        state_hash: sha256(&oauth_state),
        id: attempt_id.to_owned(),
        link_id: link.claims.jti.clone(),
        environment_id: link.environment.id.clone(),
        tool: tool.id.clone(),
        browser_hash: sha256(&browser),
        sealed: state
            .vault
            .seal(Purpose::OauthAttempt, attempt_id, &plaintext),
        created_at: now,
        expires_at: now + ATTEMPT_TTL,
        consumed_at: None,
        outcome: None,
    };
    state
        .store
        .create_oauth_attempt(&attempt)
        .await
        .map_err(|error| problem_of(error.into()))?;
    Ok((authorization.url, browser))
}

/// What the vendor sends back (RFC 6749 §4.1.2, RFC 9207). No `Debug`: it holds the code.
#[derive(Default, Deserialize)]
pub(crate) struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

/// How a sign-in ended, as the flow says it; the wire names are stored and sent in
/// `connection-flow-failed`'s log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Connected.
    Done,
    /// The end user declined at the vendor (`access_denied`).
    Denied,
    /// The vendor answered with another error, or without a code.
    VendorError,
    /// The callback came back to another browser than the one that started (no cookie, or
    /// another one), or named another issuer than the vendor's (a mix-up).
    Refused,
    /// The vendor refused to exchange the code for tokens.
    ExchangeFailed,
    /// The tokens did not work with the tool's API.
    Unverified,
    /// The popup was closed before the sign-in ended.
    Closed,
    /// The browser blocked the popup.
    Blocked,
    /// The link could not complete (used, revoked, expired meanwhile).
    LinkProblem,
}

impl Ending {
    /// The stored spelling, also `connection-flow-failed`'s detail and the SDK's `reason`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Denied => "denied",
            Self::VendorError => "vendor_error",
            Self::Refused => "refused",
            Self::ExchangeFailed => "exchange_failed",
            Self::Unverified => "unverified",
            Self::Closed => "closed",
            Self::Blocked => "blocked",
            Self::LinkProblem => "link_problem",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [
            Self::Done,
            Self::Denied,
            Self::VendorError,
            Self::Refused,
            Self::ExchangeFailed,
            Self::Unverified,
            Self::Closed,
            Self::Blocked,
            Self::LinkProblem,
        ]
        .into_iter()
        .find(|ending| ending.as_str() == value)
    }
}

/// `GET /connect/oauth/callback`: the vendor's answer. Whatever happens, the attempt ends
/// here: its state is consumed first, so a replayed callback finds nothing.
pub(crate) async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: audit::Client,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let plain_problem = |problem| private(pages::problem(&state, problem, tr_for(&headers), None));
    let Some(oauth_state) = query
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 512)
    else {
        return plain_problem(Problem::Invalid);
    };
    if let Err(refused) = state.limits.pages_per_client.check_client(client.ip) {
        let wait = Problem::RateLimited(refused.retry_after);
        return refused.page(plain_problem(wait));
    }
    let attempt = match state
        .store
        .consume_oauth_attempt(&sha256(oauth_state), Utc::now())
        .await
    {
        Ok(Some(attempt)) => attempt,
        Ok(None) => return plain_problem(Problem::SigninExpired),
        Err(error) => return plain_problem(problem_of(error.into())),
    };
    let Some(secrets) = open_secrets(&state, &attempt) else {
        end_attempt(&state, &attempt.id, Ending::LinkProblem).await;
        return plain_problem(Problem::Server);
    };
    let clear = cookie(&state, &attempt.id, "", Duration::zero());
    let link = match open_link(&state, &secrets.link, accept_language(&headers)).await {
        Ok(link) => link,
        Err((problem, tr)) => {
            end_attempt(&state, &attempt.id, Ending::LinkProblem).await;
            let page = pages::problem(&state, problem, tr, None);
            return with_cookie(private(page), clear);
        }
    };
    let ending = match check_callback(&state, &headers, &attempt, &secrets, &query) {
        Err(ending) => ending,
        Ok(code) => connect(&state, &client, &link, &attempt, &secrets, code).await,
    };
    if ending != Ending::Done {
        end_attempt(&state, &attempt.id, ending).await;
        super::submit::record_failure_reason(&state, &link, &attempt.tool, ending.as_str()).await;
    }
    let response = match secrets.mode {
        Mode::Redirect => {
            Redirect::to(&finish_href(&link, &attempt.tool, &attempt.id)).into_response()
        }
        Mode::Popup => pages::signin_callback(&state, &link, &attempt.id, ending),
    };
    with_cookie(private(response), clear)
}

fn with_cookie(mut response: Response, cookie: HeaderValue) -> Response {
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

fn open_secrets(state: &AppState, attempt: &OauthAttempt) -> Option<Secrets> {
    let plaintext = state
        .vault
        .open(Purpose::OauthAttempt, &attempt.id, &attempt.sealed)
        .map_err(
            |error| tracing::error!(attempt = %attempt.id, %error, "opening a sign-in attempt"),
        )
        .ok()?;
    // The error could quote the plaintext: only its kind is logged.
    serde_json::from_slice(&plaintext)
        .map_err(|error| {
            tracing::error!(attempt = %attempt.id, kind = ?error.classify(), "reading a sign-in attempt");
        })
        .ok()
}

/// The callback's checks before the code is used: the browser is the one that started, the
/// issuer is the vendor's, the vendor sent a code. The code, or how the attempt ends.
fn check_callback<'q>(
    state: &AppState,
    headers: &HeaderMap,
    attempt: &OauthAttempt,
    secrets: &Secrets,
    query: &'q CallbackQuery,
) -> Result<&'q str, Ending> {
    let presented = cookie_value(headers, &cookie_name(state, &attempt.id));
    let same_browser =
        presented.is_some_and(|value| bool::from(sha256(&value).ct_eq(&attempt.browser_hash)));
    if !same_browser {
        tracing::warn!(attempt = %attempt.id, tool = %attempt.tool, "sign-in callback without the browser's cookie");
        return Err(Ending::Refused);
    }
    let issuer_matches = match &query.iss {
        Some(iss) => iss.trim_end_matches('/') == secrets.issuer.trim_end_matches('/'),
        None => !secrets.issuer_required,
    };
    if !issuer_matches {
        tracing::warn!(attempt = %attempt.id, tool = %attempt.tool, "sign-in callback from another issuer, or without the one the vendor sends (mix-up refused)");
        return Err(Ending::Refused);
    }
    if let Some(error) = &query.error {
        // Only the code is logged: a description is the vendor's free text.
        let code: String = error
            .chars()
            .filter(char::is_ascii_graphic)
            .take(60)
            .collect();
        tracing::info!(attempt = %attempt.id, tool = %attempt.tool, error = %code, "the vendor ended the sign-in with an error");
        return Err(if error == "access_denied" {
            Ending::Denied
        } else {
            Ending::VendorError
        });
    }
    query
        .code
        .as_deref()
        .filter(|code| !code.is_empty() && code.len() <= 4096)
        .ok_or(Ending::VendorError)
}

/// Exchanges the code, verifies the tokens with the tool, and creates (or relinks) the
/// integration, keeping the activation token sealed in the attempt for [`finish`].
async fn connect(
    state: &AppState,
    client: &audit::Client,
    link: &Link,
    attempt: &OauthAttempt,
    secrets: &Secrets,
    code: &str,
) -> Ending {
    let Some(tool) = state.catalog.get(&attempt.tool) else {
        return Ending::LinkProblem;
    };
    let parts = match oauth::tokens::TokenParts::load(state, tool, &secrets.app, &secrets.values)
        .await
    {
        Ok(parts) => parts,
        Err(error) => {
            tracing::error!(attempt = %attempt.id, %error, "loading the OAuth app for a callback");
            return Ending::ExchangeFailed;
        }
    };
    let request: TokenRequest<'_> = parts.request();
    let tokens = match request
        .exchange_code(code, secrets.verifier.as_deref())
        .await
    {
        Ok(tokens) => tokens,
        Err(error) => {
            tracing::warn!(attempt = %attempt.id, tool = %tool.id, error = %error, "code exchange failed");
            state.metrics.oauth_refresh(error.as_str());
            return Ending::ExchangeFailed;
        }
    };
    let mut credentials = secrets.values.clone();
    tokens.write_into(&mut credentials);
    drop(tokens);
    let credentials = integrations::Opened::new(credentials);
    if let Err(ending) = verified(state, client, link, tool, credentials.get()).await {
        return ending;
    }
    let completed = match link.claims.kind {
        LinkKind::Connect => {
            integrations::complete_connection(state, &link.claims, &tool.id, credentials.get())
                .await
        }
        LinkKind::Relink => {
            integrations::complete_relink(state, &link.claims, credentials.get()).await
        }
    };
    let activation_token = match completed {
        Ok(token) => Zeroizing::new(token),
        Err(error) => {
            tracing::info!(attempt = %attempt.id, %error, "the link could not complete after signing in");
            return Ending::LinkProblem;
        }
    };
    let mut entry = step(audit::Action::LinkCompleted, link)
        .detail("tool", tool.id.clone())
        .detail("method", "oauth");
    if let Some(integration) = &link.claims.iid {
        entry = entry.target("integration", integration);
    }
    audit::record(state, &link.environment.id, entry, Some(client)).await;
    let sealed = state.vault.seal(
        Purpose::OauthAttempt,
        &attempt.id,
        activation_token.as_bytes(),
    );
    match state
        .store
        .finish_oauth_attempt(&attempt.id, Ending::Done.as_str(), Some(&sealed))
        .await
    {
        Ok(_) => Ending::Done,
        Err(error) => {
            tracing::error!(attempt = %attempt.id, %error, "recording a finished sign-in");
            Ending::LinkProblem
        }
    }
}

/// Asks the tool whether the fresh tokens work, with the audit entries of a verification.
async fn verified(
    state: &AppState,
    client: &audit::Client,
    link: &Link,
    tool: &Tool,
    credentials: &Credentials,
) -> Result<(), Ending> {
    let outcome = state.flow.verifier.verify(tool, credentials).await;
    state.metrics.verification(outcome.as_str());
    let action = if outcome == Outcome::Connected {
        audit::Action::LinkVerificationSucceeded
    } else {
        audit::Action::LinkVerificationFailed
    };
    let entry = step(action, link)
        .detail("tool", tool.id.clone())
        .detail("method", "oauth")
        .detail("outcome", outcome.as_str());
    audit::record(state, &link.environment.id, entry, Some(client)).await;
    match outcome {
        Outcome::Connected => Ok(()),
        // The account signed in, but the tool does not let it read.
        Outcome::InvalidCredentials | Outcome::MissingPermission => {
            tracing::info!(tool = %tool.id, outcome = outcome.as_str(), link_id = %link.claims.jti, "signed-in tokens did not verify");
            Err(Ending::Unverified)
        }
        // The tool could not say: the end user can only try again later.
        Outcome::WrongInstance | Outcome::RateLimited | Outcome::Unreachable => {
            tracing::warn!(tool = %tool.id, outcome = outcome.as_str(), link_id = %link.claims.jti, "the tool could not verify signed-in tokens");
            Err(Ending::VendorError)
        }
    }
}

async fn end_attempt(state: &AppState, id: &str, ending: Ending) {
    if let Err(error) = state
        .store
        .finish_oauth_attempt(id, ending.as_str(), None)
        .await
    {
        tracing::error!(attempt = %id, %error, "recording how a sign-in ended");
    }
}

/// Query of the flow's questions about an attempt. No `Debug`: it holds the link token.
#[derive(Default, Deserialize)]
pub(crate) struct AttemptQuery {
    token: Option<String>,
    tool: Option<String>,
    attempt: Option<String>,
    /// `closed` or `blocked`: the flow page saw the popup closed before it ended, or never
    /// open.
    gave_up: Option<String>,
}

/// The answer of [`status`].
#[derive(Debug, Serialize)]
struct Status {
    /// `null` while the sign-in goes on, then how it ended (`done`, `denied`, …).
    outcome: Option<&'static str>,
}

/// `GET /connect/oauth/status`: how attempt `attempt` of the link stands, for the flow page
/// that waits for its popup (a popup that lost its opener cannot tell it).
pub(crate) async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: audit::Client,
    query: Result<Query<AttemptQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    // A sign-in that connected has used its link: the page waiting for it must still learn so.
    let link = match finished_link(&state, &headers, &client, query.token.as_deref()) {
        Ok(link) => link,
        Err(refused) => return private(refused),
    };
    let attempt = query.attempt.as_deref().unwrap_or_default();
    let outcome = match state.store.oauth_attempt(&link.claims.jti, attempt).await {
        Ok(Some(attempt)) => attempt
            .outcome
            .as_deref()
            .and_then(Ending::parse)
            .map(Ending::as_str),
        Ok(None) => None,
        Err(error) => {
            tracing::warn!(%error, "reading a sign-in attempt");
            return private(StatusCode::SERVICE_UNAVAILABLE.into_response());
        }
    };
    private(Json(Status { outcome }).into_response())
}

/// The link of a finish page. A sign-in that connected has used its link, so here the link
/// is only checked to be genuine and unexpired (and rate-limited like every page): what the
/// page shows is the outcome of an attempt of this very link, which the store hands out once.
#[expect(
    clippy::result_large_err,
    reason = "the refusal is the finished page, returned once to the handler"
)]
fn finished_link(
    state: &AppState,
    headers: &HeaderMap,
    client: &audit::Client,
    token: Option<&str>,
) -> Result<Link, Response> {
    let tr = tr_for(headers);
    if let Err(refused) = state.limits.pages_per_client.check_client(client.ip) {
        let wait = Problem::RateLimited(refused.retry_after);
        return Err(refused.page(pages::problem(state, wait, tr, None)));
    }
    let token = token.unwrap_or_default();
    let claims = crate::tokens::verify_link(&state.vault, token, Utc::now())
        .map_err(|_| pages::problem(state, Problem::Invalid, tr, None))?;
    let tr = super::i18n::Tr::for_link(claims.lang, accept_language(headers));
    let environment = state
        .environments
        .by_id(&claims.env)
        .cloned()
        .ok_or_else(|| pages::problem(state, Problem::Invalid, tr, None))?;
    let link = Link {
        token: token.to_owned(),
        claims,
        environment,
        tr,
    };
    if let Err(refused) = state.limits.pages.check(&link.claims.jti) {
        let wait = Problem::RateLimited(refused.retry_after);
        return Err(refused.page(pages::problem(state, wait, link.tr, Some(&link))));
    }
    Ok(link)
}

/// `GET /connect/oauth/finish`: the flow page after a sign-in: connected (the success page,
/// with the activation token, handed out once), or what went wrong and a way to try again.
pub(crate) async fn finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: audit::Client,
    query: Result<Query<AttemptQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let link = match finished_link(&state, &headers, &client, query.token.as_deref()) {
        Ok(link) => link,
        Err(refused) => return private(refused),
    };
    let refuse = |problem| private(pages::problem(&state, problem, link.tr, Some(&link)));
    let tool_id = link.claims.tool.as_deref().or(query.tool.as_deref());
    let Some(tool) = tool_id
        .and_then(|id| state.catalog.get(id))
        .filter(|t| t.signs_in())
    else {
        return refuse(Problem::ToolUnavailable);
    };
    let attempt = query.attempt.as_deref().unwrap_or_default();
    match query.gave_up.as_deref() {
        // The popup never opened: there is no attempt to end.
        Some("blocked") => {
            // No attempt exists to tie this to: only a link that can still be used reports it.
            if let Err(error) = crate::links::check(&state, &link.claims).await {
                return refuse(problem_of(error));
            }
            super::submit::record_failure_reason(&state, &link, &tool.id, Ending::Blocked.as_str())
                .await;
            return private(pages::signin_end(
                &state,
                &link,
                tool,
                SigninEnd::Failed(Ending::Blocked),
            ));
        }
        // Closed, or so it looks (see `SigninEnd::Closed`): unless the callback has already
        // ended the attempt, say so, and keep waiting for it quietly.
        Some("closed") if ids::is_id(attempt) => {
            let pending = matches!(
                state.store.oauth_attempt(&link.claims.jti, attempt).await,
                Ok(Some(found)) if found.outcome.is_none()
            );
            if pending {
                super::submit::record_failure_reason(
                    &state,
                    &link,
                    &tool.id,
                    Ending::Closed.as_str(),
                )
                .await;
                return private(pages::signin_end(
                    &state,
                    &link,
                    tool,
                    SigninEnd::Closed(attempt),
                ));
            }
        }
        _ => {}
    }
    let result = match state
        .store
        .take_oauth_result(&link.claims.jti, attempt)
        .await
    {
        Ok(result) => result,
        Err(error) => return refuse(problem_of(error.into())),
    };
    let Some(result) = result else {
        // Unknown, already read, or still going on (the callback is on its way).
        let outcome = match state.store.oauth_attempt(&link.claims.jti, attempt).await {
            Ok(Some(attempt)) => Some(attempt.outcome),
            _ => None,
        };
        return private(match outcome {
            Some(None) => pages::signin_end(&state, &link, tool, SigninEnd::Pending(attempt)),
            // Connected, and its page already shown (a reload): the link is used.
            Some(Some(done)) if done == Ending::Done.as_str() => {
                pages::problem(&state, Problem::Used, link.tr, Some(&link))
            }
            _ => pages::signin_end(&state, &link, tool, SigninEnd::Failed(Ending::Closed)),
        });
    };
    let ending = Ending::parse(&result.outcome).unwrap_or(Ending::VendorError);
    if ending != Ending::Done {
        return private(pages::signin_end(
            &state,
            &link,
            tool,
            SigninEnd::Failed(ending),
        ));
    }
    let Some(sealed) = result.result else {
        return refuse(Problem::Server);
    };
    let token = match state.vault.open(Purpose::OauthAttempt, attempt, &sealed) {
        Ok(plaintext) => Zeroizing::new(String::from_utf8_lossy(&plaintext).into_owned()),
        Err(error) => {
            tracing::error!(%attempt, %error, "opening a sign-in's activation token");
            return refuse(Problem::Server);
        }
    };
    let framed = headers
        .get("sec-fetch-dest")
        .is_some_and(|dest| dest.as_bytes() == b"iframe");
    private(pages::success(&state, &link, tool, &token, framed))
}
