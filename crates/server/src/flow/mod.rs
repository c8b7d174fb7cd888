//! The hosted connect flow: the pages an end user sees when the operator's front end opens a
//! link, usually inside a full-screen, cross-site iframe.
//!
//! Pick a tool → what will be shared → how to get the credentials → enter them → verified
//! against the tool → connected. Pages are rendered on the server (askama), styled by one
//! stylesheet and enhanced by one small script; every asset is served from here. No cookies and
//! no server-side session: state travels in the signed link token (in the URL) and in a signed
//! form field, because third-party cookies are blocked in iframes.

use axum::{
    Form, Router,
    extract::{
        Query, State,
        rejection::{FormRejection, QueryRejection},
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
    routing::{get, post},
};
use chrono::Utc;
use plugboard_catalog::Tool;
use plugboard_store::{Environment, StoreError};
use serde::Deserialize;

use crate::{
    AppState, audit,
    error::DomainError,
    links::{self, LinkClaims, LinkKind, LinkProblem},
    tokens::{self, LinkError},
    tools::{self, SignIns},
};

pub mod i18n;
mod pages;
mod signin;
mod submit;
pub mod verify;

use i18n::Tr;
use pages::Problem;

/// Prefix of credential inputs in the submitted form, so a field id can never collide with
/// the form's own `token`, `tool` and `state`.
const FIELD_PREFIX: &str = "field.";

/// A link that opened: verified, unexpired, unused, unrevoked.
pub(crate) struct Link {
    pub token: String,
    pub claims: LinkClaims,
    pub environment: Environment,
    pub tr: Tr,
}

/// Opens the link in `token`, or says why it cannot be used. Pages speak the link's language,
/// else the browser's (`accept_language`), also when the link cannot be used.
async fn open_link(
    state: &AppState,
    token: &str,
    accept_language: Option<&str>,
) -> Result<Link, (Problem, Tr)> {
    let claims = tokens::verify_link(&state.vault, token, Utc::now()).map_err(|error| {
        let problem = match error {
            LinkError::Invalid => Problem::Invalid,
            LinkError::Expired => Problem::Expired,
        };
        // An expired link is genuine: its language is known even though it cannot be used.
        let language = expired_claims_language(state, token).flatten();
        (problem, Tr::for_link(language, accept_language))
    })?;
    let tr = Tr::for_link(claims.lang, accept_language);
    let environment = links::check(state, &claims)
        .await
        .map_err(|error| (problem_of(error), tr))?;
    Ok(Link {
        token: token.to_owned(),
        claims,
        environment,
        tr,
    })
}

/// The page for a domain operation that refused the link: the link cannot be used (for
/// a reason the end user is told), or something failed, logged here, where it becomes the
/// opaque "something went wrong" page.
fn problem_of(error: DomainError) -> Problem {
    match error {
        DomainError::Link(LinkProblem::Invalid) => Problem::Invalid,
        DomainError::Link(LinkProblem::Used) => Problem::Used,
        DomainError::Link(LinkProblem::Revoked) => Problem::Revoked,
        DomainError::Link(LinkProblem::IntegrationGone) => Problem::Gone,
        DomainError::Link(LinkProblem::ToolUnavailable(_)) => Problem::ToolUnavailable,
        DomainError::Store(StoreError::Unavailable(error)) => {
            tracing::warn!(%error, "database unavailable");
            Problem::Server
        }
        error => {
            tracing::error!(%error, "internal error in the flow");
            Problem::Server
        }
    }
}

/// The language of a genuine but expired link (its signature still verifies at its own time):
/// `None` when the token is not genuine, `Some(None)` when the link names no language.
fn expired_claims_language(state: &AppState, token: &str) -> Option<Option<links::Language>> {
    let long_ago = chrono::DateTime::<Utc>::MIN_UTC;
    tokens::verify_link(&state.vault, token, long_ago)
        .ok()
        .map(|claims| claims.lang)
}

/// The tool a link page is about: the one the link names, else the one chosen in the picker.
fn chosen_tool<'a>(
    state: &'a AppState,
    link: &Link,
    requested: Option<&str>,
    sign_ins: &SignIns,
) -> Option<Result<&'a Tool, Problem>> {
    let id = link.claims.tool.as_deref().or(requested)?;
    let cat = link.claims.cat;
    Some(
        tools::available(&state.catalog, &link.environment, id, cat, sign_ins)
            .map_err(|_| Problem::ToolUnavailable),
    )
}

/// Query of a flow page.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// The link token.
    pub token: Option<String>,
    /// The tool chosen in the picker.
    pub tool: Option<String>,
    /// `guide` or `credentials`; absent means the first page.
    pub step: Option<String>,
}

/// `GET /connect`: every step of the flow before the credentials are submitted.
async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: audit::Client,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    // A mangled query string is a broken link, answered with the broken-link page.
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let link = match open_page_link(&state, &headers, &client, query.token.as_deref()).await {
        Ok(link) => link,
        Err(refused) => return refused,
    };
    if query.step.is_none() && query.tool.is_none() && state.flow.first_view(&link, "opened", None)
    {
        record_opened(&state, &client, &link).await;
    }
    let sign_ins = match SignIns::of(&state, &link.environment).await {
        Ok(sign_ins) => sign_ins,
        Err(error) => {
            return pages::problem(&state, problem_of(error.into()), link.tr, Some(&link));
        }
    };
    let tool = match chosen_tool(&state, &link, query.tool.as_deref(), &sign_ins) {
        None => return pages::picker(&state, &link, &sign_ins),
        Some(Ok(tool)) => tool,
        Some(Err(problem)) => return pages::problem(&state, problem, link.tr, Some(&link)),
    };
    // The page after the picker is the other step worth a trace; the guide and the empty form
    // are navigation.
    if query.step.is_none()
        && link.claims.tool.is_none()
        && state.flow.first_view(&link, "tool-chosen", Some(&tool.id))
    {
        let chosen = step(audit::Action::LinkToolChosen, &link).detail("tool", tool.id.clone());
        audit::record(&state, &link.environment.id, chosen, Some(&client)).await;
    }
    if sign_ins.signs_in(tool) {
        return match query.step.as_deref() {
            // What the vendor's URLs need typed first (a subdomain, a tenant).
            Some("credentials") if signin::typed_first(tool).next().is_some() => {
                pages::signin_form(&state, &link, tool)
            }
            _ => pages::consent(&state, &link, tool, true),
        };
    }
    match query.step.as_deref() {
        Some("guide") => pages::guide(&state, &link, tool),
        Some("credentials") => {
            let form = pages::CredentialsForm::fresh(&link, tool);
            pages::credentials(&state, &link, tool, form, StatusCode::OK)
        }
        _ => pages::consent(&state, &link, tool, false),
    }
}

/// Writes `link-opened`: the end user reached the link's first page.
async fn record_opened(state: &AppState, client: &audit::Client, link: &Link) {
    let kind = match link.claims.kind {
        LinkKind::Connect => "connect",
        LinkKind::Relink => "relink",
    };
    let opened = step(audit::Action::LinkOpened, link)
        .detail("kind", kind)
        .detail("category", link.claims.cat.as_str());
    audit::record(state, &link.environment.id, opened, Some(client)).await;
}

/// Opens the link of a page request, or answers with the page saying why not. Each page reads
/// the database, so pages are limited per client before the link is opened and per link once
/// it is known.
async fn open_page_link(
    state: &AppState,
    headers: &HeaderMap,
    client: &audit::Client,
    token: Option<&str>,
) -> Result<Link, Response> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(pages::problem(
            state,
            Problem::Invalid,
            tr_for(headers),
            None,
        ));
    };
    if let Err(refused) = state.limits.pages_per_client.check_client(client.ip) {
        let wait = Problem::RateLimited(refused.retry_after);
        return Err(refused.page(pages::problem(state, wait, tr_for(headers), None)));
    }
    let link = open_link(state, token, accept_language(headers))
        .await
        .map_err(|(problem, tr)| pages::problem(state, problem, tr, None))?;
    if let Err(refused) = state.limits.pages.check(&link.claims.jti) {
        let wait = Problem::RateLimited(refused.retry_after);
        return Err(refused.page(pages::problem(state, wait, link.tr, Some(&link))));
    }
    Ok(link)
}

fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}

fn tr_for(headers: &HeaderMap) -> Tr {
    Tr::from_accept_language(accept_language(headers))
}

/// Whether a form post came from one of our own pages. The link token in the form is already a
/// capability an attacker lacks; this closes the remaining gap of a foreign page submitting a
/// form with a token it obtained.
///
/// Every browser that runs the flow sends `Origin` on a form POST, so a missing or `null` one
/// (a sandboxed frame, a `data:` page, a privacy-stripping proxy, a script outside a browser)
/// is refused, as is `Sec-Fetch-Site: cross-site` whatever the `Origin` says.
pub(crate) fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes() == b"cross-site");
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    !cross_site
        && origin
            .is_some_and(|origin| origin == state.config.public_url.origin().ascii_serialization())
}

/// `POST /connect/verify`: checks the credentials with the tool and, if they work, creates the
/// integration and shows the success page.
async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: audit::Client,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let submission = match submit::parse(&state, &headers, form).await {
        Ok(submission) => submission,
        Err(refused) => return refused,
    };
    let submission = match submit::admit(&state, &client, submission) {
        Ok(submission) => submission,
        Err(refused) => return refused,
    };
    if let Err(failed) = submit::verify(&state, &client, &submission).await {
        return failed;
    }
    submit::complete(&state, &headers, &client, submission).await
}

/// An audit entry for the end user's step on `link`.
fn step<'a>(action: audit::Action, link: &'a Link) -> audit::Entry<'a> {
    audit::Entry::new(action, audit::Actor::EndUser).link(&link.claims.jti)
}

/// How many (link, step) openings the flow remembers, so reloading a page does not write an
/// audit row each time. About 100 bytes each; the oldest are forgotten first, and a forgotten
/// one at worst writes its row again.
const REMEMBERED_VIEWS: usize = 100_000;

/// What the flow keeps for the life of the process.
pub struct FlowState {
    /// Checks credentials against tools.
    pub verifier: verify::Verifier,
    /// The (link id, step, tool) views already written to the audit trail: a link's opening is
    /// recorded once, not on every GET (a reload loop would otherwise write without limit).
    seen: quick_cache::sync::Cache<(String, &'static str, Option<String>), ()>,
}

impl FlowState {
    /// The flow's state for `config`.
    pub fn new(config: &crate::config::Config) -> Self {
        Self {
            verifier: verify::Verifier::new(config.tool_base_urls.clone()),
            seen: quick_cache::sync::Cache::new(REMEMBERED_VIEWS),
        }
    }

    /// Whether this is the first view of `step` (for `tool`) of `link` in this process; marks
    /// it seen. Of concurrent first views exactly one gets `true`.
    fn first_view(&self, link: &Link, step: &'static str, tool: Option<&str>) -> bool {
        let key = (link.claims.jti.clone(), step, tool.map(str::to_owned));
        match self
            .seen
            .get_value_or_guard(&key, Some(std::time::Duration::ZERO))
        {
            quick_cache::sync::GuardResult::Guard(guard) => {
                let _ = guard.insert(());
                true
            }
            quick_cache::sync::GuardResult::Value(()) | quick_cache::sync::GuardResult::Timeout => {
                false
            }
        }
    }
}

impl std::fmt::Debug for FlowState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowState").finish_non_exhaustive()
    }
}

/// The flow's security headers. `frame_ancestors` decides which sites may embed the page.
pub(crate) fn secure(mut response: Response, frame_ancestors: &str) -> Response {
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; \
         base-uri 'none'; frame-ancestors {frame_ancestors}"
    );
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    // `same-origin`: nothing (not even the token in the URL) leaves for other sites, and a
    // browser still sends the page's real `Origin` with the credentials form (with
    // `no-referrer` it sends `Origin: null`, which `same_origin` refuses).
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Which parent origins may frame pages of `environment`: the operator's setting, else the
/// configuration's (`settings.rs`).
pub(crate) fn frame_ancestors(state: &AppState, environment: Option<&Environment>) -> String {
    match environment {
        Some(environment) => crate::settings::frame_ancestors(state, environment),
        // A broken link's page shows only an apology, so any page may frame it: better than
        // a blank iframe.
        None => "*".to_owned(),
    }
}

/// The parent origins `flow.js` may post its messages to, from the page's `frame-ancestors`:
/// `'self'` spelled out as our origin, `'none'` left out, origins without a trailing slash;
/// `*`, wildcard hosts (`https://*.example.com`) and schemes (`https:`) are matched by the
/// script. Space-separated, for `<html data-parents>`.
pub(crate) fn parent_origins(state: &AppState, environment: Option<&Environment>) -> String {
    frame_ancestors(state, environment)
        .split_whitespace()
        .filter(|source| *source != "'none'")
        .map(|source| match source {
            "'self'" => state.config.public_url.origin().ascii_serialization(),
            _ => source.trim_end_matches('/').to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Warns at start-up when any site may frame production links: a framing page receives the
/// activation token, which the operator's production back end then redeems.
pub fn warn_about_framing(config: &crate::config::Config) {
    if config
        .frame_ancestors_production
        .split_whitespace()
        .any(|source| source == "*")
    {
        tracing::warn!(
            frame_ancestors = %config.frame_ancestors_production,
            "PLUGBOARD_FRAME_ANCESTORS_PRODUCTION allows any site to frame production links; \
             set it to your app's origin, e.g. https://app.example.com"
        );
    }
}

/// The flow's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/connect", get(page))
        .route("/connect/verify", post(submit))
        .route("/connect/oauth/start", get(signin::start))
        .route(crate::oauth::CALLBACK_PATH, get(signin::callback))
        .route("/connect/oauth/status", get(signin::status))
        .route("/connect/oauth/finish", get(signin::finish))
        .route(
            "/connect/assets/{version}/{file}",
            get(crate::assets::serve),
        )
}
