//! Signing in to an OAuth tool from the flow (RFC 9700 for a confidential client).
//!
//! The vendor's consent page cannot be framed, so a click in the iframe opens a popup (a
//! magic link, in a tab of its own, goes there in the same tab) at [`start`](start::start), on Plugboard's
//! own origin: it records the attempt server-side (the state's hash, the PKCE verifier, the
//! link, the tool; single use, ten minutes), sets a first-party cookie binding the attempt
//! to this browser, and sends the browser to the vendor. The vendor sends it back to
//! [`callback`](callback::callback), which checks the state, the cookie and the issuer, exchanges the code,
//! verifies the token with the tool's API, and creates the integration as an API-key
//! connection does. The popup only learns "done" or "failed" and tells the flow page that
//! opened it (a `postMessage` to Plugboard's exact origin), which also asks [`status`](finish::status) in case
//! the popup lost its opener; the page then opens [`finish`](finish::finish), which hands over the activation
//! token once, or explains what went wrong with a way to try again. No code or token ever
//! reaches a page or a log.

//!
//! `start.rs` begins an attempt, `callback.rs` answers the vendor, `finish.rs` tells the flow
//! page how it ended; this file holds what they share: the attempt's sealed secrets, its
//! cookie, its endings and the sign-in URLs.

mod callback;
mod finish;
mod start;

pub(crate) use callback::callback;
pub(crate) use finish::{finish, status};
pub(crate) use start::start;

use axum::{
    http::{HeaderMap, HeaderValue, header},
    response::Response,
};
use base64::Engine;
use chrono::Duration;
use plugboard_catalog::Tool;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::Link;
use crate::{AppState, integrations::Credentials};

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
