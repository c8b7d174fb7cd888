//! What every dashboard page shares: its texts (Fluent, `locales-dashboard/en/`), the frame
//! around each page ([`Ui`]: navigation, environment switch, the signed-in operator, the CSRF
//! token every form carries), rendering with the dashboard's security headers, and the pages
//! for what went wrong.

use std::{borrow::Cow, collections::HashMap};

use askama::Template;
use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use chrono::{DateTime, Utc};
use fluent_templates::{Loader, fluent_bundle::FluentValue, langid, static_loader};
use plugboard_store::{Environment, EnvironmentName, StoreError};

use crate::{AppState, error::DomainError, operators::SignedIn, tokens};

static_loader! {
    static MESSAGES = {
        locales: "./locales-dashboard",
        fallback_language: "en",
        // As in the flow: no Unicode isolation marks around arguments (they end up in
        // attributes and copied text).
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static EN: fluent_templates::LanguageIdentifier = langid!("en");

/// The dashboard's message `key`.
pub(crate) fn t(key: &str) -> String {
    MESSAGES.lookup(&EN, key)
}

/// The message `key` with arguments.
pub(crate) fn t_with(key: &str, args: &[(&'static str, &str)]) -> String {
    let args: HashMap<Cow<'static, str>, FluentValue<'_>> = args
        .iter()
        .map(|(name, value)| (Cow::Borrowed(*name), FluentValue::from(*value)))
        .collect();
    MESSAGES.lookup_with_args(&EN, key, &args)
}

/// The message `key` whose argument `name` is the number `count` (plural forms).
pub(crate) fn t_count(key: &str, name: &'static str, count: i64) -> String {
    let args = HashMap::from([(Cow::Borrowed(name), FluentValue::from(count))]);
    MESSAGES.lookup_with_args(&EN, key, &args)
}

/// The dashboard's policy: its own scripts, styles and images only, no framing, forms only to
/// itself.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Adds the dashboard's security headers. `same-origin` referrers so that the browser sends
/// the page's `Origin` with each form (the CSRF check reads it) while no dashboard URL leaks to
/// another site.
pub(crate) fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A page rendered with the dashboard's headers.
pub(crate) fn render(template: &impl Template, status: StatusCode) -> Response {
    match template.render() {
        Ok(html) => secure((status, Html(html)).into_response()),
        Err(error) => {
            tracing::error!(%error, "rendering a dashboard page");
            secure(StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
    }
}

/// Renders the page `built` with `status`, or the page for the error that kept it from being
/// built: what every handler that shows a page does with its result.
pub(crate) fn render_or_problem(
    state: &AppState,
    signed_in: &SignedIn,
    built: Result<impl Template, DomainError>,
    status: StatusCode,
) -> Response {
    match built {
        Ok(page) => render(&page, status),
        Err(error) => problem(state, signed_in, error),
    }
}

/// A `303 See Other` to `to`, with the dashboard's headers: the answer to every form that
/// changed something, so reloading the next page does not post again.
pub(crate) fn see_other(to: &str) -> Response {
    secure(Redirect::to(to).into_response())
}

/// The environment a page is about, as the frame shows it.
pub(crate) struct EnvView {
    /// `production` or `development`: the path segment.
    pub name: &'static str,
    /// Shown in the switch.
    pub label: String,
    /// Production is marked so an operator always knows where they act.
    pub production: bool,
    /// The same page in the other environment.
    pub other_href: String,
    /// The other environment's label.
    pub other_label: String,
}

/// The frame of a signed-in page.
pub(crate) struct Ui {
    /// The page's title (also the `<h1>`).
    pub title: String,
    /// Which navigation entry is current.
    pub section: &'static str,
    /// The environment, for pages inside one.
    pub env: Option<EnvView>,
    /// The operator's address.
    pub operator: Option<String>,
    /// Whether the operator may change things (forms are shown only then).
    pub admin: bool,
    /// The session's CSRF token, in every form.
    pub csrf: String,
    /// The stylesheet's URL.
    pub css: String,
    /// The script's URL.
    pub js: String,
    /// A one-line confirmation of what the last form did.
    pub notice: Option<String>,
}

impl Ui {
    /// The frame of a page for `signed_in` in `env` (`None` for pages outside environments).
    pub fn new(
        state: &AppState,
        signed_in: Option<&SignedIn>,
        env: Option<(&Environment, &str)>,
        section: &'static str,
        title: String,
    ) -> Self {
        let env = env.map(|(environment, rest)| {
            let (name, other) = match environment.name {
                EnvironmentName::Production => ("production", "development"),
                EnvironmentName::Development => ("development", "production"),
            };
            EnvView {
                name,
                label: t(&format!("env-{name}")),
                production: environment.name == EnvironmentName::Production,
                other_href: format!("/dashboard/{other}{rest}"),
                other_label: t(&format!("env-{other}")),
            }
        });
        Self {
            title,
            section,
            env,
            operator: signed_in.map(|s| s.operator.email.clone()),
            admin: signed_in.is_some_and(SignedIn::is_admin),
            csrf: signed_in
                .map(|s| tokens::csrf_token(&state.vault, &s.session_hash))
                .unwrap_or_default(),
            css: crate::assets::url("dashboard.css"),
            js: crate::assets::url("dashboard.js"),
            notice: None,
        }
    }

    /// The message `key`.
    pub fn t(&self, key: &str) -> String {
        t(key)
    }

    /// The URL of `rest` (`""`, `"/integrations"`) in this page's environment.
    pub fn href(&self, rest: &str) -> String {
        let env = self.env.as_ref().map_or("production", |env| env.name);
        format!("/dashboard/{env}{rest}")
    }

    /// Shows `notice` (a message key) above the page.
    pub fn notice(mut self, key: Option<&str>) -> Self {
        self.notice = key
            .filter(|key| NOTICES.contains(key))
            .map(|key| t(&format!("notice-{key}")));
        self
    }
}

/// The confirmations a redirect may ask for (`?done=…`); anything else shows nothing, so a
/// crafted link cannot put words on the page.
const NOTICES: &[&str] = &[
    "disabled",
    "enabled",
    "deleted",
    "check-scheduled",
    "signed-out-everywhere",
    "endpoint-saved",
    "endpoint-enabled",
    "endpoint-disabled",
    "endpoint-deleted",
    "test-sent",
    "redelivery-queued",
    "link-revoked",
    "key-revoked",
    "oauth-saved",
    "oauth-removed",
    "settings-saved",
];

/// A time as the dashboard shows it: UTC, to the minute, machine-readable in `<time>`.
pub(crate) fn when(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A time relative to now, for lists ("5 minutes ago").
pub(crate) fn ago(time: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - time).num_seconds();
    if seconds < 0 {
        let ahead = -seconds;
        return match ahead {
            0..=3599 => t_count("in-minutes", "count", ahead / 60 + 1),
            3600..=86_399 => t_count("in-hours", "count", ahead / 3600),
            _ => t_count("in-days", "count", ahead / 86_400),
        };
    }
    match seconds {
        0..=59 => t("just-now"),
        60..=3599 => t_count("minutes-ago", "count", seconds / 60),
        3600..=86_399 => t_count("hours-ago", "count", seconds / 3600),
        _ => t_count("days-ago", "count", seconds / 86_400),
    }
}

/// A form with no fields but its CSRF token (a button that does one thing).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct NoFields {}

/// The query of a page that can confirm the last action (`?done=…`, see [`Ui::notice`]).
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct DoneQuery {
    /// The confirmation's key.
    pub done: Option<String>,
}

/// The page that shows a new secret (a webhook secret, an API key) once: nothing shows it
/// again.
#[derive(Template)]
#[template(path = "dashboard/secret.html")]
pub(crate) struct SecretPage {
    ui: Ui,
    lead: String,
    secret: zeroize::Zeroizing<String>,
    next: String,
    next_label: String,
}

/// Renders [`SecretPage`]: `lead` says what the secret is, `next` where to go afterwards.
pub(crate) fn shown_once(
    ui: Ui,
    lead: String,
    secret: zeroize::Zeroizing<String>,
    (next, next_label): (String, String),
) -> Response {
    let page = SecretPage {
        ui,
        lead,
        secret,
        next,
        next_label,
    };
    render(&page, StatusCode::OK)
}

/// A page that says something went wrong, or what cannot be done.
#[derive(Template)]
#[template(path = "dashboard/message.html")]
pub(crate) struct MessagePage {
    /// The frame (signed in or not).
    pub ui: Ui,
    /// What happened, in a sentence or two.
    pub body: String,
    /// Where to go from here.
    pub back: Option<(String, String)>,
}

/// The page for a problem, with its status.
pub(crate) fn message(
    state: &AppState,
    signed_in: Option<&SignedIn>,
    status: StatusCode,
    title_key: &str,
    body: String,
) -> Response {
    let back = signed_in.map(|_| ("/dashboard".to_owned(), t("back-to-dashboard")));
    let page = MessagePage {
        ui: Ui::new(state, signed_in, None, "", t(title_key)),
        body,
        back,
    };
    render(&page, status)
}

/// The page for a domain operation's error: the operator's mistake (400, 404) in its own
/// words, or the opaque "something went wrong", logged here where it becomes opaque.
pub(crate) fn problem(state: &AppState, signed_in: &SignedIn, error: DomainError) -> Response {
    match error {
        DomainError::Invalid { .. } | DomainError::Link(_) => message(
            state,
            Some(signed_in),
            StatusCode::BAD_REQUEST,
            "error-invalid-title",
            error.to_string(),
        ),
        DomainError::NotFound(missing) => message(
            state,
            Some(signed_in),
            StatusCode::NOT_FOUND,
            "error-not-found-title",
            missing.to_string(),
        ),
        DomainError::Store(error) => store_problem(state, Some(signed_in), error),
        DomainError::Internal(message) => {
            tracing::error!(%message, "internal error in the dashboard");
            server_error(state, Some(signed_in))
        }
    }
}

/// The page for a store failure.
pub(crate) fn store_problem(
    state: &AppState,
    signed_in: Option<&SignedIn>,
    error: StoreError,
) -> Response {
    match error {
        StoreError::Unavailable(error) => {
            tracing::warn!(%error, "database unavailable");
            message(
                state,
                signed_in,
                StatusCode::SERVICE_UNAVAILABLE,
                "error-unavailable-title",
                t("error-unavailable-body"),
            )
        }
        error => {
            tracing::error!(%error, "database error in the dashboard");
            server_error(state, signed_in)
        }
    }
}

fn server_error(state: &AppState, signed_in: Option<&SignedIn>) -> Response {
    message(
        state,
        signed_in,
        StatusCode::INTERNAL_SERVER_ERROR,
        "error-server-title",
        t("error-server-body"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `ui.t("…")`, `t("…")` and `t_count("…")` in the dashboard's templates and code
    /// names a message that exists, so no page shows a raw message id.
    #[test]
    fn every_message_used_exists() {
        let root = env!("CARGO_MANIFEST_DIR");
        let ftl = std::fs::read_to_string(format!("{root}/locales-dashboard/en/dashboard.ftl"))
            .expect("dashboard.ftl");
        let ids: std::collections::BTreeSet<&str> = ftl
            .lines()
            .filter(|line| !line.starts_with([' ', '#', '.']) && line.contains(" ="))
            .filter_map(|line| line.split(" =").next())
            .collect();
        let pattern = regex::Regex::new(r#"\bt(?:_with|_count)?\("([a-z0-9-]+)""#).expect("regex");
        let mut sources = Vec::new();
        for dir in ["templates/dashboard", "src/dashboard"] {
            for entry in std::fs::read_dir(format!("{root}/{dir}")).expect("dir") {
                let path = entry.expect("entry").path();
                sources.push(std::fs::read_to_string(&path).expect("file"));
            }
        }
        let mut missing = Vec::new();
        for source in &sources {
            for found in pattern.captures_iter(source) {
                let id = &found[1];
                if !ids.contains(id) {
                    missing.push(id.to_owned());
                }
            }
        }
        assert!(
            missing.is_empty(),
            "messages missing from dashboard.ftl: {missing:?}"
        );
        for notice in NOTICES {
            assert!(
                ids.contains(format!("notice-{notice}").as_str()),
                "notice-{notice}"
            );
        }
    }
}
