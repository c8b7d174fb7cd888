//! Who is asking: the session cookie, and the extractors every dashboard handler takes.
//!
//! - [`Signed`]: a page of a signed-in operator; without a live session the browser is sent
//!   to the sign-in page (and back afterwards).
//! - [`Posted`]: a form of a signed-in operator, accepted only from our own pages: the
//!   browser's `Origin` must be Plugboard's, and the form must carry the session's CSRF token.
//! - [`AdminPost`]: [`Posted`] by an administrator; a viewer's form is refused, whatever it
//!   posts to.
//!
//! The cookie is `__Host-plugboard_session` over HTTPS (`Secure`, `Path=/`, no `Domain`, so no
//! other site or subdomain can set or read it), `plugboard_session` over plain HTTP (a
//! developer's machine, where browsers refuse the prefix). Always `HttpOnly` and
//! `SameSite=Strict`. Its value is the session id; the store has only its hash.

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use cookie::{Cookie, SameSite};
use serde::{Deserialize, de::DeserializeOwned};

use super::views;
use crate::{
    AppState,
    audit::{Caller, Client},
    operators::{self, SignedIn},
    tokens,
};

/// The largest form the dashboard accepts: its forms are a few short fields.
const MAX_FORM: usize = 64 * 1024;

/// The session cookie's name for this deployment.
pub(crate) fn cookie_name(state: &AppState) -> &'static str {
    if https(state) {
        "__Host-plugboard_session"
    } else {
        "plugboard_session"
    }
}

fn https(state: &AppState) -> bool {
    state.config.public_url.scheme() == "https"
}

/// `Set-Cookie` for a new session.
pub(crate) fn session_cookie(state: &AppState, id: &str) -> HeaderValue {
    let cookie = Cookie::build((cookie_name(state), id.to_owned()))
        .path("/")
        .http_only(true)
        .secure(https(state))
        .same_site(SameSite::Strict)
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// `Set-Cookie` that removes the session cookie.
pub(crate) fn removed_cookie(state: &AppState) -> HeaderValue {
    let cookie = Cookie::build((cookie_name(state), ""))
        .path("/")
        .http_only(true)
        .secure(https(state))
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::ZERO)
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// The value of the cookie `name` the browser sent, if any.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The session id the browser sent, if any.
fn session_id<'a>(state: &AppState, headers: &'a HeaderMap) -> Option<&'a str> {
    cookie(headers, cookie_name(state))
}

/// Where the sign-in page sends the operator back to: a dashboard path of ours, never another
/// site (`//evil.example` and `/\evil.example` are refused).
pub(crate) fn safe_next(next: Option<&str>) -> &str {
    next.filter(|next| {
        next.starts_with("/dashboard")
            && !next.contains("//")
            && !next.contains('\\')
            && !next.chars().any(char::is_control)
            && next.len() <= 2000
    })
    .unwrap_or("/dashboard")
}

/// The answer when no live session came with a request.
fn sign_in_first(state: &AppState, parts: &Parts) -> Response {
    let cross_site = parts
        .headers
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes() == b"cross-site");
    let has_cookie = session_id(state, &parts.headers).is_some();
    if parts.method == Method::GET && cross_site && !has_cookie {
        // A link followed from another site (a chat, an e-mail) arrives without the
        // SameSite=Strict cookie. Loading the page again from here sends it.
        return views::secure(
            (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<!doctype html><meta http-equiv=\"refresh\" content=\"0\"><title>Plugboard</title>",
            )
                .into_response(),
        );
    }
    let next = parts
        .uri
        .path_and_query()
        .map_or("/dashboard", |path| path.as_str());
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if parts.method == Method::GET && safe_next(Some(next)) != "/dashboard" {
        query.append_pair("next", next);
    }
    let query = query.finish();
    let to = if query.is_empty() {
        "/dashboard/sign-in".to_owned()
    } else {
        format!("/dashboard/sign-in?{query}")
    };
    let mut response = views::see_other(&to);
    if has_cookie {
        // The cookie names a session that ended: forget it.
        response
            .headers_mut()
            .insert(header::SET_COOKIE, removed_cookie(state));
    }
    response
}

/// The live session whose cookie came with `headers`, if any (a store failure counts as none).
pub(crate) async fn session_of(state: &AppState, headers: &HeaderMap) -> Option<SignedIn> {
    let id = session_id(state, headers)?;
    operators::session(state, id).await.ok().flatten()
}

/// The signed-in operator of a request, or the answer to send instead.
async fn signed_in(state: &AppState, parts: &Parts) -> Result<SignedIn, Response> {
    let Some(id) = session_id(state, &parts.headers) else {
        return Err(sign_in_first(state, parts));
    };
    match operators::session(state, id).await {
        Ok(Some(signed_in)) => Ok(signed_in),
        Ok(None) => Err(sign_in_first(state, parts)),
        Err(error) => Err(views::store_problem(state, None, error)),
    }
}

/// A signed-in operator viewing a page.
pub(crate) struct Signed {
    /// Who.
    pub signed_in: SignedIn,
    /// From where, for the audit trail.
    pub client: Client,
}

impl Signed {
    /// The operator as the caller of a domain operation.
    pub fn caller(&self) -> Caller {
        Caller::operator(&self.signed_in.operator.id, self.client.clone())
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let signed_in = signed_in(state, parts).await?;
        let Ok(client) = Client::from_request_parts(parts, state).await;
        Ok(Self { signed_in, client })
    }
}

/// The field every form carries.
#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A form posted by a signed-in operator from one of our pages, with its fields `T`.
pub(crate) struct Posted<T> {
    /// Who posted it.
    pub signed: Signed,
    /// The fields.
    pub form: T,
}

/// The page for a form that did not come from our own page in this session.
fn forged(state: &AppState, signed_in: &SignedIn) -> Response {
    views::message(
        state,
        Some(signed_in),
        StatusCode::FORBIDDEN,
        "error-forged-title",
        views::t("error-forged-body"),
    )
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        // A cross-origin post is refused before its body is read.
        if !crate::flow::same_origin(state, &parts.headers) {
            tracing::warn!(
                operator_id = %signed.signed_in.operator.id,
                "dashboard form refused: not from Plugboard's origin"
            );
            return Err(forged(state, &signed.signed_in));
        }
        let bytes = axum::body::to_bytes(body, MAX_FORM).await.map_err(|_| {
            views::message(
                state,
                Some(&signed.signed_in),
                StatusCode::PAYLOAD_TOO_LARGE,
                "error-invalid-title",
                views::t("error-form-too-large"),
            )
        })?;
        let csrf: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfField {
            csrf: String::new(),
        });
        // No field may hold a NUL (PostgreSQL cannot store one) or another control character
        // but line breaks: a client mistake, answered as one.
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        if pairs.iter().any(|(key, value)| {
            key.chars()
                .chain(value.chars())
                .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        }) {
            return Err(views::message(
                state,
                Some(&signed.signed_in),
                StatusCode::BAD_REQUEST,
                "error-invalid-title",
                views::t("error-control-characters"),
            ));
        }
        if !tokens::verify_csrf(&state.vault, &signed.signed_in.session_hash, &csrf.csrf) {
            tracing::warn!(
                operator_id = %signed.signed_in.operator.id,
                "dashboard form refused: CSRF token missing or of another session"
            );
            return Err(forged(state, &signed.signed_in));
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|error| {
            views::message(
                state,
                Some(&signed.signed_in),
                StatusCode::BAD_REQUEST,
                "error-invalid-title",
                views::t_with("error-form-invalid", &[("detail", &error.to_string())]),
            )
        })?;
        Ok(Self { signed, form })
    }
}

/// A form posted by an administrator: what changes anything takes.
pub(crate) struct AdminPost<T>(pub Posted<T>);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for AdminPost<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let posted = Posted::<T>::from_request(request, state).await?;
        if !posted.signed.signed_in.is_admin() {
            return Err(views::message(
                state,
                Some(&posted.signed.signed_in),
                StatusCode::FORBIDDEN,
                "error-viewer-title",
                views::t("error-viewer-body"),
            ));
        }
        Ok(Self(posted))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_has_no_control_characters() {
        assert_eq!(safe_next(Some("/dashboard\n")), "/dashboard");
        assert_eq!(safe_next(Some("/dashboard/production\u{0}")), "/dashboard");
    }

    #[test]
    fn next_stays_in_the_dashboard() {
        assert_eq!(
            safe_next(Some("/dashboard/production/integrations?q=a")),
            "/dashboard/production/integrations?q=a"
        );
        assert_eq!(safe_next(Some("//evil.example/dashboard")), "/dashboard");
        assert_eq!(safe_next(Some("/dashboard//evil.example")), "/dashboard");
        assert_eq!(safe_next(Some("/dashboard/\\evil.example")), "/dashboard");
        assert_eq!(
            safe_next(Some("https://evil.example/dashboard")),
            "/dashboard"
        );
        assert_eq!(safe_next(None), "/dashboard");
    }
}
