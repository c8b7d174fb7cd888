//! Signing in and out: the sign-in page, the page where a one-time link sets the password,
//! and sign-out (this session, or every session of the operator).
//!
//! The two forms that come before a session are accepted only from our own origin (a foreign
//! page cannot sign a browser in to an account of its choosing) and are limited per client
//! address; wrong passwords also lock the account (`operators.rs`).

use askama::Template;
use axum::{
    Form,
    extract::{
        Query, State,
        rejection::{FormRejection, QueryRejection},
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use serde::Deserialize;

use super::{
    session::{self, Posted},
    views::{self, Ui},
};
use crate::{
    AppState,
    audit::Client,
    error::{DomainError, Missing},
    operators::{self, NewSession, SigninRefused},
};

/// The sign-in page.
#[derive(Template)]
#[template(path = "dashboard/signin.html")]
struct SigninPage {
    ui: Ui,
    email: String,
    next: String,
    error: Option<String>,
    info: Option<String>,
    /// The single sign-on button's link and label, when a provider is configured.
    sso: Option<(String, String)>,
}

/// Query of `GET /dashboard/sign-in`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SigninQuery {
    next: Option<String>,
    done: Option<String>,
}

/// The sign-in form's fields.
/// No `Debug`: it holds a password, which must never reach a log line.
#[derive(Deserialize)]
pub(crate) struct SigninForm {
    /// The address typed.
    #[serde(default)]
    email: String,
    /// The password typed.
    #[serde(default)]
    password: String,
    /// Where to go afterwards (checked by [`session::safe_next`]).
    next: Option<String>,
}

fn signin_page(
    state: &AppState,
    email: String,
    next: &str,
    error: Option<String>,
    info: Option<String>,
    status: StatusCode,
) -> Response {
    let next = session::safe_next(Some(next)).to_owned();
    let sso = crate::oidc::enabled(&state.config.dashboard).then(|| {
        let name = state
            .config
            .dashboard
            .oidc_name
            .clone()
            .unwrap_or_else(|| views::t("signin-sso-default"));
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("next", &next);
        (
            format!("/dashboard/oidc/start?{}", query.finish()),
            views::t_with("signin-sso", &[("name", &name)]),
        )
    });
    let page = SigninPage {
        ui: Ui::new(state, None, None, "", views::t("signin-title")),
        email,
        next,
        error,
        info,
        sso,
    };
    views::render(&page, status)
}

/// `GET /dashboard/sign-in`.
pub(crate) async fn page(
    State(state): State<AppState>,
    query: Result<Query<SigninQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let info = match query.done.as_deref() {
        Some("signed-out") => Some(views::t("notice-signed-out")),
        Some("signed-out-everywhere") => Some(views::t("notice-signed-out-everywhere")),
        _ => None,
    };
    let next = query.next.unwrap_or_default();
    signin_page(&state, String::new(), &next, None, info, StatusCode::OK)
}

/// The answer to a form posted from another site before any session exists.
fn foreign(state: &AppState) -> Response {
    views::message(
        state,
        None,
        StatusCode::FORBIDDEN,
        "error-forged-title",
        views::t("error-forged-signin"),
    )
}

/// Signs the browser in: the cookie, and on to `next`.
fn signed_in(state: &AppState, session: &NewSession, next: &str) -> Response {
    let mut response = views::see_other(session::safe_next(Some(next)));
    response.headers_mut().insert(
        header::SET_COOKIE,
        session::session_cookie(state, &session.id),
    );
    response
}

/// `POST /dashboard/sign-in`.
pub(crate) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<SigninForm>, FormRejection>,
) -> Response {
    if !crate::flow::same_origin(&state, &headers) {
        return foreign(&state);
    }
    let Ok(Form(form)) = form else {
        return signin_page(
            &state,
            String::new(),
            "",
            Some(views::t("signin-wrong")),
            None,
            StatusCode::BAD_REQUEST,
        );
    };
    let next = form.next.unwrap_or_default();
    if let Err(refused) = state.limits.signins.check_client(client.ip) {
        let error = views::t_count("signin-too-many", "seconds", refused.retry_after as i64);
        let page = signin_page(
            &state,
            form.email,
            &next,
            Some(error),
            None,
            StatusCode::TOO_MANY_REQUESTS,
        );
        return refused.page(page);
    }
    match operators::sign_in(&state, &form.email, &form.password, client).await {
        Ok(session) => {
            // A session this browser still had (another operator's, on a shared computer)
            // ends with this sign-in, not only its cookie.
            if let Some(previous) = session::session_of(&state, &headers).await {
                let caller =
                    crate::audit::Caller::operator(&previous.operator.id, Default::default());
                let _ = operators::sign_out(&state, &previous, false, &caller).await;
            }
            signed_in(&state, &session, &next)
        }
        Err(SigninRefused::Wrong) => signin_page(
            &state,
            form.email,
            &next,
            Some(views::t("signin-wrong")),
            None,
            StatusCode::UNAUTHORIZED,
        ),
        Err(SigninRefused::Locked(wait)) => {
            let minutes = (wait.num_seconds() + 59) / 60;
            signin_page(
                &state,
                form.email,
                &next,
                Some(views::t_count("signin-locked", "minutes", minutes.max(1))),
                None,
                StatusCode::TOO_MANY_REQUESTS,
            )
        }
        Err(SigninRefused::Store(error)) => views::store_problem(&state, None, error),
    }
}

/// The page where a one-time link sets the password.
#[derive(Template)]
#[template(path = "dashboard/welcome.html")]
struct WelcomePage {
    ui: Ui,
    email: String,
    token: String,
    error: Option<String>,
    min: usize,
    hint: String,
}

/// Query of `GET /dashboard/welcome`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WelcomeQuery {
    token: Option<String>,
}

/// The password form's fields.
/// No `Debug`: it holds the one-time token and the new password.
#[derive(Deserialize)]
pub(crate) struct WelcomeForm {
    /// The one-time sign-in token from the link.
    #[serde(default)]
    token: String,
    /// The new password.
    #[serde(default)]
    password: String,
    /// The same again.
    #[serde(default)]
    confirm: String,
}

fn unusable_link(state: &AppState) -> Response {
    views::message(
        state,
        None,
        StatusCode::NOT_FOUND,
        "welcome-unusable-title",
        Missing::SigninToken.to_string(),
    )
}

fn welcome_page(
    state: &AppState,
    email: String,
    token: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let page = WelcomePage {
        ui: Ui::new(state, None, None, "", views::t("welcome-title")),
        email,
        token,
        error,
        min: operators::MIN_PASSWORD,
        hint: views::t_count("password-hint", "count", operators::MIN_PASSWORD as i64),
    };
    views::render(&page, status)
}

/// `GET /dashboard/welcome?token=…`.
pub(crate) async fn welcome(
    State(state): State<AppState>,
    client: Client,
    query: Result<Query<WelcomeQuery>, QueryRejection>,
) -> Response {
    let token = query.ok().and_then(|Query(q)| q.token).unwrap_or_default();
    // Guessing tokens is hopeless (256 bits), but each guess reads the database.
    if let Err(refused) = state.limits.signins.check_client(client.ip) {
        return refused.page(unusable_link(&state));
    }
    match operators::signin_token_owner(&state, &token).await {
        Ok(Some(owner)) => welcome_page(&state, owner.email, token, None, StatusCode::OK),
        Ok(None) => unusable_link(&state),
        Err(error) => views::store_problem(&state, None, error),
    }
}

/// `POST /dashboard/welcome`.
pub(crate) async fn choose(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<WelcomeForm>, FormRejection>,
) -> Response {
    if !crate::flow::same_origin(&state, &headers) {
        return foreign(&state);
    }
    let Ok(Form(form)) = form else {
        return unusable_link(&state);
    };
    if let Err(refused) = state.limits.signins.check_client(client.ip) {
        return refused.page(unusable_link(&state));
    }
    let owner = match operators::signin_token_owner(&state, &form.token).await {
        Ok(Some(owner)) => owner,
        Ok(None) => return unusable_link(&state),
        Err(error) => return views::store_problem(&state, None, error),
    };
    if form.password != form.confirm {
        let error = Some(views::t("welcome-mismatch"));
        return welcome_page(
            &state,
            owner.email,
            form.token,
            error,
            StatusCode::BAD_REQUEST,
        );
    }
    match operators::choose_password(&state, &form.token, &form.password, client).await {
        Ok(session) => signed_in(&state, &session, "/dashboard"),
        Err(DomainError::Invalid { message, .. }) => {
            let error = Some(views::t_with("welcome-invalid", &[("problem", &message)]));
            welcome_page(
                &state,
                owner.email,
                form.token,
                error,
                StatusCode::BAD_REQUEST,
            )
        }
        Err(DomainError::NotFound(_)) => unusable_link(&state),
        Err(DomainError::Store(error)) => views::store_problem(&state, None, error),
        Err(error) => {
            tracing::error!(%error, "choosing a password");
            views::message(
                &state,
                None,
                StatusCode::INTERNAL_SERVER_ERROR,
                "error-server-title",
                views::t("error-server-body"),
            )
        }
    }
}

/// The sign-out form's fields.
#[derive(Debug, Deserialize)]
pub(crate) struct SignOutForm {
    /// Present to end every session of the operator, not only this one.
    everywhere: Option<String>,
}

/// `POST /dashboard/sign-out`: any operator, viewers included, may sign out.
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    Posted { signed, form }: Posted<SignOutForm>,
) -> Response {
    let everywhere = form.everywhere.is_some();
    if let Err(error) =
        operators::sign_out(&state, &signed.signed_in, everywhere, &signed.caller()).await
    {
        return views::problem(&state, &signed.signed_in, error);
    }
    let done = if everywhere {
        "signed-out-everywhere"
    } else {
        "signed-out"
    };
    let mut response = views::see_other(&format!("/dashboard/sign-in?done={done}"));
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session::removed_cookie(&state));
    response
}

/// The cookie that carries an OpenID Connect sign-in's sealed attempt to the callback:
/// `__Host-` over HTTPS, so no sibling subdomain can plant an attempt of its own.
fn oidc_cookie_name(state: &AppState) -> &'static str {
    if state.config.public_url.scheme() == "https" {
        "__Host-plugboard_oidc"
    } else {
        "plugboard_oidc"
    }
}

fn oidc_cookie(state: &AppState, value: &str, max_age: cookie::time::Duration) -> HeaderValue {
    // `Lax`, not `Strict`: the provider sends the browser back with a top-level navigation
    // from its own site, which a `Strict` cookie would not survive. `Path=/`, as `__Host-`
    // requires.
    let cookie = cookie::Cookie::build((oidc_cookie_name(state), value.to_owned()))
        .path("/")
        .http_only(true)
        .secure(state.config.public_url.scheme() == "https")
        .same_site(cookie::SameSite::Lax)
        .max_age(max_age)
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// Query of `GET /dashboard/oidc/start`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StartQuery {
    next: Option<String>,
}

fn sso_failed(state: &AppState, error: &crate::oidc::OidcError) -> Response {
    use crate::oidc::OidcError;
    tracing::warn!(%error, "single sign-on failed");
    // The browser's or the person's side (400, 403) apart from the provider's (502).
    let (message, status) = match error {
        OidcError::Expired => ("signin-sso-expired", StatusCode::BAD_REQUEST),
        OidcError::NoVerifiedEmail => ("signin-sso-no-email", StatusCode::FORBIDDEN),
        OidcError::Refused(_) => ("signin-sso-refused", StatusCode::FORBIDDEN),
        OidcError::Disabled | OidcError::Provider(_) | OidcError::Invalid(_) => {
            ("signin-sso-failed", StatusCode::BAD_GATEWAY)
        }
    };
    signin_page(
        state,
        String::new(),
        "",
        Some(views::t(message)),
        None,
        status,
    )
}

/// `GET /dashboard/oidc/start`: to the identity provider, with the attempt in a cookie.
pub(crate) async fn sso_start(
    State(state): State<AppState>,
    client: Client,
    query: Result<Query<StartQuery>, QueryRejection>,
) -> Response {
    let next = query.ok().and_then(|Query(q)| q.next).unwrap_or_default();
    let next = session::safe_next(Some(&next)).to_owned();
    if let Err(refused) = state.limits.signins.check_client(client.ip) {
        let error = views::t_count("signin-too-many", "seconds", refused.retry_after as i64);
        let page = signin_page(
            &state,
            String::new(),
            &next,
            Some(error),
            None,
            StatusCode::TOO_MANY_REQUESTS,
        );
        return refused.page(page);
    }
    match crate::oidc::start(&state, &next).await {
        Ok((url, attempt)) => {
            let mut response = views::see_other(&url);
            let max_age = cookie::time::Duration::seconds(crate::oidc::ATTEMPT_TTL.num_seconds());
            response
                .headers_mut()
                .insert(header::SET_COOKIE, oidc_cookie(&state, &attempt, max_age));
            response
        }
        Err(crate::oidc::OidcError::Disabled) => views::message(
            &state,
            None,
            StatusCode::NOT_FOUND,
            "error-not-found-title",
            views::t("signin-sso-disabled"),
        ),
        Err(error) => sso_failed(&state, &error),
    }
}

/// `GET /dashboard/oidc/callback`: the provider's answer; signs the operator in.
pub(crate) async fn sso_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<crate::oidc::Callback>, QueryRejection>,
) -> Response {
    if !crate::oidc::enabled(&state.config.dashboard) {
        return views::message(
            &state,
            None,
            StatusCode::NOT_FOUND,
            "error-not-found-title",
            views::t("signin-sso-disabled"),
        );
    }
    let callback = query.map(|Query(q)| q).unwrap_or_default();
    let cookie = session::cookie(&headers, oidc_cookie_name(&state)).map(str::to_owned);
    let finished =
        crate::oidc::finish(&state, callback, cookie.as_deref(), chrono::Utc::now()).await;
    let mut response = match finished {
        Ok((email, next)) => match operators::sign_in_verified(&state, &email, client).await {
            Ok(session) => signed_in(&state, &session, &next),
            Err(SigninRefused::Store(error)) => views::store_problem(&state, None, error),
            Err(_) => signin_page(
                &state,
                String::new(),
                &next,
                Some(views::t("signin-sso-no-account")),
                None,
                StatusCode::FORBIDDEN,
            ),
        },
        Err(error) => sso_failed(&state, &error),
    };
    // The attempt is over, whatever its outcome.
    response.headers_mut().append(
        header::SET_COOKIE,
        oidc_cookie(&state, "", cookie::time::Duration::ZERO),
    );
    response
}
