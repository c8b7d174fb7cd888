//! The flow's pages: view models of finished, translated strings, rendered by askama templates
//! in `crates/server/templates/flow/`. Templates only lay out what they are given.

use askama::Template;
use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use chrono::Utc;
use plugboard_catalog::{Field, FieldKind, FieldProblem, Tool};

use super::signin::{self, Ending};
use plugboard_store::{Environment, EnvironmentName};

use super::{
    FIELD_PREFIX, Link, frame_ancestors, i18n::Tr, parent_origins, secure, submit::FieldProblems,
    verify::Outcome,
};
use crate::{AppState, integrations::Credentials, tokens, tools};

/// Why a link or request cannot go on; each has its own page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    Invalid,
    Expired,
    Used,
    Revoked,
    Gone,
    ToolUnavailable,
    /// A sign-in callback whose attempt is unknown, used or expired.
    SigninExpired,
    Forbidden,
    Server,
    /// Too many requests: the page names the wait, in seconds as `Retry-After` says.
    RateLimited(u64),
}

impl Problem {
    /// The status code of the problem's page.
    fn status(&self) -> StatusCode {
        match self {
            Self::Invalid => StatusCode::BAD_REQUEST,
            Self::Expired | Self::Used | Self::Revoked | Self::Gone => StatusCode::GONE,
            Self::ToolUnavailable => StatusCode::NOT_FOUND,
            Self::SigninExpired => StatusCode::BAD_REQUEST,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Server => StatusCode::SERVICE_UNAVAILABLE,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The page's heading and body in `tr`'s language.
    fn text(&self, tr: &Tr) -> (String, String) {
        let (title, body) = match self {
            Self::Invalid => ("error-invalid-title", "error-invalid-body"),
            Self::Expired => ("error-expired-title", "error-expired-body"),
            Self::Used => ("error-used-title", "error-used-body"),
            Self::Revoked => ("error-revoked-title", "error-revoked-body"),
            Self::Gone => ("error-gone-title", "error-gone-body"),
            Self::ToolUnavailable => ("error-tool-title", "error-tool-body"),
            Self::SigninExpired => ("error-signin-expired-title", "error-signin-expired-body"),
            Self::Forbidden => ("error-server-title", "error-forbidden-body"),
            Self::Server => ("error-server-title", "error-server-body"),
            Self::RateLimited(seconds) => {
                let body = tr.t_count("too-many-attempts", "seconds", *seconds);
                return (tr.t("error-server-title"), body);
            }
        };
        (tr.t(title), tr.t(body))
    }
}

/// What every page shares: language, title, assets, step and the close button.
pub(crate) struct Chrome {
    lang: &'static str,
    /// Which page this is (`picker`, `consent`, …), posted to the parent as a `step` event.
    page: &'static str,
    /// The tool the page is about, for the parent's events.
    tool: Option<String>,
    title: String,
    css: String,
    js: String,
    step: Option<String>,
    close: String,
    back: Option<(String, String)>,
    /// The origins allowed to frame the page (`data-parents`): `flow.js` posts its messages
    /// only to a parent among them, never to `*` unless framing is open to all.
    parents: String,
    /// The operator's branding in the link's environment (production's when there is no link).
    brand: BrandView,
}

/// What the header and the stylesheet show of the operator's branding.
#[derive(Default)]
struct BrandView {
    /// The product name, shown next to the logo.
    name: Option<String>,
    /// The logo's URL path.
    logo: Option<String>,
    /// The accent stylesheet's URL path.
    css: Option<String>,
}

impl Chrome {
    /// The chrome of a page of `environment` (none for a broken link): the operator's branding
    /// there (production's when there is none) and the origins that may frame it.
    fn new(
        state: &AppState,
        environment: Option<&Environment>,
        tr: &Tr,
        page: &'static str,
        title: &str,
    ) -> Self {
        let branding = crate::settings::branding(state, environment);
        Self {
            lang: tr.code(),
            page,
            tool: None,
            title: title.to_owned(),
            css: crate::assets::url("flow.css"),
            js: crate::assets::url("flow.js"),
            step: None,
            close: tr.t("close"),
            back: None,
            parents: parent_origins(state, environment),
            brand: BrandView {
                name: branding.product_name,
                logo: branding.logo.map(|logo| logo.path()),
                css: branding.accent.map(|accent| accent.stylesheet_path()),
            },
        }
    }

    fn step(mut self, tr: &Tr, current: usize, total: usize) -> Self {
        self.step = Some(tr.t_with(
            "step-of",
            &[
                ("current", &current.to_string()),
                ("total", &total.to_string()),
            ],
        ));
        self
    }

    fn tool(mut self, tool: &Tool) -> Self {
        self.tool = Some(tool.id.clone());
        self
    }

    fn back(mut self, tr: &Tr, href: Option<String>) -> Self {
        self.back = href.map(|href| (href, tr.t("back")));
        self
    }
}

#[derive(Template)]
#[template(path = "flow/picker.html")]
struct PickerPage {
    chrome: Chrome,
    heading: String,
    intro: String,
    search: String,
    empty: String,
    tools: Vec<ToolItem>,
}

struct ToolItem {
    id: String,
    label: String,
    href: String,
    icon: String,
    note: Option<String>,
}

#[derive(Template)]
#[template(path = "flow/consent.html")]
struct ConsentPage {
    chrome: Chrome,
    heading: String,
    intro: String,
    models: Vec<(String, String)>,
    secure: String,
    /// For a tool the end user signs in to: the guide's steps (what happens next).
    steps: Vec<String>,
    next_href: String,
    next: String,
    /// The button starts a sign-in (`data-oauth`: the script opens it in a popup when the
    /// page is framed), with what the page says while it waits.
    signin: Option<SigninButton>,
    icon: String,
}

/// What the script needs to run a sign-in from a flow page.
struct SigninButton {
    /// "Waiting for you to sign in…".
    waiting: String,
    /// The URL the script asks how the attempt stands.
    status: String,
    /// The URL the page goes to when the attempt ends.
    finish: String,
}

#[derive(Template)]
#[template(path = "flow/signin.html")]
struct SigninFormPage {
    chrome: Chrome,
    heading: String,
    intro: String,
    token: String,
    tool: String,
    fields: Vec<FieldView>,
    submit: String,
    signin: SigninButton,
}

#[derive(Template)]
#[template(path = "flow/signin_end.html")]
struct SigninEndPage {
    chrome: Chrome,
    heading: String,
    body: String,
    /// Try again: back to the page with the sign-in button.
    retry: Option<(String, String)>,
    /// Still going on: the script asks again and reloads.
    pending: Option<SigninButton>,
    /// How it ended, posted to the parent as a `signin-failed` event.
    reason: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "flow/signin_callback.html")]
struct SigninCallbackPage {
    chrome: Chrome,
    heading: String,
    body: String,
    attempt: String,
    outcome: &'static str,
}

#[derive(Template)]
#[template(path = "flow/guide.html")]
struct GuidePage {
    chrome: Chrome,
    heading: String,
    steps: Vec<String>,
    docs: Option<(String, String)>,
    next_href: String,
    next: String,
}

#[derive(Template)]
#[template(path = "flow/credentials.html")]
struct CredentialsPage {
    chrome: Chrome,
    heading: String,
    intro: String,
    token: String,
    tool: String,
    state: String,
    form: CredentialsForm,
    summary_heading: String,
    submit: String,
    verifying: String,
}

#[derive(Template)]
#[template(path = "flow/success.html")]
struct SuccessPage {
    chrome: Chrome,
    heading: String,
    body: String,
    /// The Done button and the activation token it posts; `None` for a magic link, which ends
    /// here in its own tab.
    done: Option<(String, String)>,
    /// The activation token shown on the page, with its explanation: only for a development
    /// link opened on its own (not in a frame), where no parent window can receive it and the
    /// README's first steps need it. Never in production.
    shown_token: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "flow/problem.html")]
struct ProblemPage {
    chrome: Chrome,
    heading: String,
    body: String,
}

/// The page, with the security headers of a page of `environment`.
fn render(
    state: &AppState,
    environment: Option<&Environment>,
    template: &impl Template,
    status: StatusCode,
) -> Response {
    match template.render() {
        Ok(html) => secure(
            (status, Html(html)).into_response(),
            &frame_ancestors(state, environment),
        ),
        Err(error) => {
            tracing::error!(%error, "rendering a flow page");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A page URL of this link's flow.
fn href(link: &Link, tool: Option<&str>, step: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("token", &link.token);
    if let (None, Some(tool)) = (&link.claims.tool, tool) {
        query.append_pair("tool", tool);
    }
    if let Some(step) = step {
        query.append_pair("step", step);
    }
    format!("/connect?{}", query.finish())
}

/// Steps before the credentials: the picker only when the link leaves the choice open. A
/// sign-in has two steps after the picker (what is shared, signing in), a key four.
fn step_numbers(link: &Link, signs_in: bool) -> (usize, usize) {
    let offset = usize::from(link.claims.tool.is_none());
    (offset, offset + if signs_in { 2 } else { 3 })
}

/// The operator's product name in the link's environment, else a generic phrase.
fn product(state: &AppState, link: &Link) -> String {
    crate::settings::branding(state, Some(&link.environment))
        .product_name
        .unwrap_or_else(|| link.tr.t("product-generic"))
}

/// The name guides suggest for the credential: the product name, else the host of the public
/// URL ("a name such as this app" would not read).
fn guide_product(state: &AppState, link: &Link) -> String {
    crate::settings::branding(state, Some(&link.environment))
        .product_name
        .or_else(|| state.config.public_url.host_str().map(str::to_owned))
        .unwrap_or_else(|| link.tr.t("product-generic"))
}

/// Step 1: choose a tool.
pub(crate) fn picker(state: &AppState, link: &Link, sign_ins: &tools::SignIns) -> Response {
    let tr = &link.tr;
    let category = tr.t(&format!("category-{}", link.claims.cat));
    let heading = tr.t_with(
        "picker-title",
        &[("category", &category), ("organization", &link.claims.org)],
    );
    let mut tools: Vec<ToolItem> =
        tools::offered(&state.catalog, &link.environment, link.claims.cat, sign_ins)
            .map(|tool| ToolItem {
                id: tool.id.clone(),
                label: tool.label.clone(),
                href: href(link, Some(&tool.id), None),
                icon: tools::asset_url(&state.config, &tool.id, "icon.svg"),
                note: sign_ins
                    .signs_in(tool)
                    .then(|| tr.t_with("signin-button", &[("tool", &tool.label)])),
            })
            .collect();
    // The sandbox (development only) first: it is what an operator trying the flow looks for.
    tools.sort_by_key(|tool| (tool.id != "sandbox", tool.label.to_lowercase()));
    let (_, total) = step_numbers(link, false);
    let page = PickerPage {
        chrome: Chrome::new(state, Some(&link.environment), tr, "picker", &heading)
            .step(tr, 1, total),
        intro: tr.t_with("picker-intro", &[("product", &product(state, link))]),
        search: tr.t("picker-search"),
        empty: tr.t("picker-empty"),
        heading,
        tools,
    };
    render(state, Some(&link.environment), &page, StatusCode::OK)
}

/// Step 2: what the operator will be able to do: use the tool's API with the end user's
/// credentials, limited to what they grant (Plugboard syncs no data, so it promises none).
pub(crate) fn consent(state: &AppState, link: &Link, tool: &Tool, signs_in: bool) -> Response {
    let tr = &link.tr;
    let product = product(state, link);
    let heading = tr.t_with("consent-title", &[("product", &product)]);
    let models = consent_models(tr, link, tool);
    let (offset, total) = step_numbers(link, signs_in);
    let back = (offset == 1).then(|| href(link, None, None));
    let page = ConsentPage {
        chrome: Chrome::new(state, Some(&link.environment), tr, "consent", &heading)
            .tool(tool)
            .step(tr, offset + 1, total)
            .back(tr, back),
        intro: tr.t_with(
            // With scopes, the list is what the end user grants; without, the credentials
            // carry the account's own access and the list only says what that can include.
            if tool.scopes.is_empty() {
                "consent-intro-account"
            } else {
                "consent-intro-scopes"
            },
            &[("tool", &tool.label), ("product", &product)],
        ),
        models,
        secure: tr.t_with("consent-secure", &[("tool", &tool.label)]),
        // An OAuth-only tool's guide says what signing in looks like; a tool that also takes
        // keys has a guide about keys, which signing in does not need.
        steps: if signs_in {
            tool.signin_steps(tr.code(), &guide_product(state, link))
                .unwrap_or_default()
        } else {
            Vec::new()
        },
        next_href: match (signs_in, signin::typed_first(tool).next().is_none()) {
            (false, _) => href(link, Some(&tool.id), Some("guide")),
            (true, true) => signin::start_href(link, tool),
            (true, false) => href(link, Some(&tool.id), Some("credentials")),
        },
        next: if signs_in {
            tr.t_with("signin-button", &[("tool", &tool.label)])
        } else {
            tr.t("continue")
        },
        signin: (signs_in && signin::typed_first(tool).next().is_none())
            .then(|| signin_button(link, tool)),
        icon: tools::asset_url(&state.config, &tool.id, "icon.svg"),
        heading,
    };
    render(state, Some(&link.environment), &page, StatusCode::OK)
}

/// What the guide asks the end user to grant (the catalog's one list), else, when the
/// credential carries the account's own access, the category's data models as examples of
/// what that access can include.
fn consent_models(tr: &Tr, link: &Link, tool: &Tool) -> Vec<(String, String)> {
    if !tool.scopes.is_empty() {
        return tool
            .scopes
            .iter()
            .map(|scope| (scope.clone(), String::new()))
            .collect();
    }
    let models = link.claims.cat.default_models().iter();
    models
        .map(|(id, _)| {
            let name = tr.t(&format!("model-{id}"));
            (name, tr.t(&format!("model-{id}-desc")))
        })
        .collect()
}

/// Step 3: how to obtain the credentials.
pub(crate) fn guide(state: &AppState, link: &Link, tool: &Tool) -> Response {
    let tr = &link.tr;
    let heading = tr.t_with("guide-title", &[("tool", &tool.label)]);
    let steps = tool
        .guide_steps(tr.code(), &guide_product(state, link))
        .unwrap_or_else(|| vec![tr.t("guide-sandbox-1"), tr.t("guide-sandbox-2")]);
    let docs = tool.docs_url.as_ref().map(|url| {
        (
            url.to_string(),
            tr.t_with("guide-docs", &[("tool", &tool.label)]),
        )
    });
    let (offset, total) = step_numbers(link, false);
    let page = GuidePage {
        chrome: Chrome::new(state, Some(&link.environment), tr, "guide", &heading)
            .tool(tool)
            .step(tr, offset + 2, total)
            .back(tr, Some(href(link, Some(&tool.id), None))),
        steps,
        docs,
        next_href: href(link, Some(&tool.id), Some("credentials")),
        next: tr.t("continue"),
        heading,
    };
    render(state, Some(&link.environment), &page, StatusCode::OK)
}

/// One input of the credentials form.
pub(crate) struct FieldView {
    id: String,
    name: String,
    label: String,
    help: Option<String>,
    input_type: &'static str,
    required: bool,
    pattern: Option<String>,
    max_length: u32,
    placeholder: Option<String>,
    /// What the user typed, shown again after a failed attempt; never for secrets.
    value: String,
    error: Option<String>,
    secret_hint: Option<String>,
    /// Messages the script shows for the browser's own checks, in the link's language rather
    /// than the browser's: (missing, wrong format).
    client_messages: (String, String),
}

/// The credentials form, fresh or as submitted with its errors.
pub(crate) struct CredentialsForm {
    fields: Vec<FieldView>,
    /// The message at the top, when the attempt failed as a whole.
    pub summary: Option<String>,
    /// Why the tool refused the credentials (`Outcome::as_str`), posted to the parent as a
    /// `verification-failed` event.
    pub failure: Option<&'static str>,
}

impl CredentialsForm {
    fn build(link: &Link, tool: &Tool, values: Option<(&Credentials, &FieldProblems)>) -> Self {
        let fields = tool
            .fields
            .iter()
            .map(|field| {
                let value = values.and_then(|(values, _)| values.get(&field.id));
                let problem = values.and_then(|(_, problems)| problems.get(&field.id));
                FieldView::new(&link.tr, field, value.map(String::as_str), problem.copied())
            })
            .collect();
        Self {
            fields,
            summary: None,
            failure: None,
        }
    }

    /// An empty form.
    pub(crate) fn fresh(link: &Link, tool: &Tool) -> Self {
        Self::build(link, tool, None)
    }

    /// The form as submitted, each field showing its value (unless secret) and its problem.
    pub(crate) fn submitted(
        link: &Link,
        tool: &Tool,
        values: &Credentials,
        problems: &FieldProblems,
    ) -> Self {
        Self::build(link, tool, Some((values, problems)))
    }
}

impl FieldView {
    /// The input of `field`, with the submitted `value` and its `problem` if any. Its
    /// attributes come from the same catalog rule as the server's check (`Field::input`).
    fn new(tr: &Tr, field: &Field, value: Option<&str>, problem: Option<FieldProblem>) -> Self {
        let label = field.label.get(tr.code()).clone();
        let secret = field.kind == FieldKind::Secret;
        let input = field.input();
        Self {
            id: format!("f-{}", field.id),
            name: format!("{FIELD_PREFIX}{}", field.id),
            help: field.help.as_ref().map(|help| help.get(tr.code()).clone()),
            input_type: input.input_type,
            required: input.required,
            pattern: input.pattern.map(str::to_owned),
            max_length: input.max_length,
            placeholder: field.placeholder.clone(),
            value: if secret {
                String::new()
            } else {
                value.unwrap_or_default().to_owned()
            },
            secret_hint: secret.then(|| tr.t("credentials-secret-hint")),
            client_messages: (
                field_message(tr, &label, FieldProblem::Required),
                field_message(tr, &label, field.mismatch()),
            ),
            error: problem.map(|problem| field_message(tr, &label, problem)),
            label,
        }
    }
}

/// What a field's problem is called in the end user's language; the browser shows the same
/// messages for its own checks.
fn field_message(tr: &Tr, label: &str, problem: FieldProblem) -> String {
    match problem {
        FieldProblem::Required => tr.t_with("field-required", &[("field", label)]),
        FieldProblem::TooLong { max } => tr.t_with(
            "field-too-long",
            &[("field", label), ("max", &max.to_string())],
        ),
        FieldProblem::Pattern => tr.t_with("field-pattern", &[("field", label)]),
        FieldProblem::NotUrl => tr.t("field-url"),
        FieldProblem::NotEmail => tr.t("field-email"),
    }
}

/// The end user's explanation of a failed verification.
pub(crate) fn outcome_message(tr: &Tr, tool: &Tool, outcome: Outcome) -> String {
    let labels: Vec<String> = tool
        .fields
        .iter()
        .filter(|field| field.kind != FieldKind::Secret)
        .map(|field| field.label.get(tr.code()).clone())
        .collect();
    let fields = if labels.is_empty() {
        tool.label.clone()
    } else {
        labels.join(", ")
    };
    tr.t_with(
        outcome.message_id(),
        &[("tool", &tool.label), ("fields", &fields)],
    )
}

/// Step 4: the credentials form.
pub(crate) fn credentials(
    state: &AppState,
    link: &Link,
    tool: &Tool,
    form: CredentialsForm,
    status: StatusCode,
) -> Response {
    let tr = &link.tr;
    let heading = tr.t_with("credentials-title", &[("tool", &tool.label)]);
    let (offset, total) = step_numbers(link, false);
    let page = CredentialsPage {
        chrome: Chrome::new(state, Some(&link.environment), tr, "credentials", &heading)
            .tool(tool)
            .step(tr, offset + 3, total)
            .back(tr, Some(href(link, Some(&tool.id), Some("guide")))),
        intro: tr.t_with("credentials-intro", &[("tool", &tool.label)]),
        token: link.token.clone(),
        tool: tool.id.clone(),
        state: tokens::sign_form_state(&state.vault, &link.claims.jti, &tool.id, Utc::now()),
        form,
        summary_heading: tr.t("credentials-error-summary"),
        submit: tr.t("credentials-submit"),
        verifying: tr.t_with("credentials-verifying", &[("tool", &tool.label)]),
        heading,
    };
    render(state, Some(&link.environment), &page, status)
}

/// The end: connected. `framed`: the page is loaded in a frame (`Sec-Fetch-Dest: iframe`).
pub(crate) fn success(
    state: &AppState,
    link: &Link,
    tool: &Tool,
    activation_token: &str,
    framed: bool,
) -> Response {
    let tr = &link.tr;
    let heading = tr.t_with("success-title", &[("tool", &tool.label)]);
    let embedded = link.claims.typ == crate::links::LinkType::Embedded;
    let done = embedded.then(|| (tr.t("success-done"), activation_token.to_owned()));
    let development = link.environment.name == EnvironmentName::Development;
    let shown_token = (embedded && development && !framed)
        .then(|| (tr.t("success-token"), activation_token.to_owned()));
    let page = SuccessPage {
        chrome: Chrome::new(state, Some(&link.environment), tr, "success", &heading).tool(tool),
        body: tr.t_with(
            "success-body",
            &[
                ("organization", &link.claims.org),
                ("product", &product(state, link)),
            ],
        ),
        done,
        shown_token,
        heading,
    };
    render(state, Some(&link.environment), &page, StatusCode::OK)
}

/// A page explaining why the flow cannot go on.
pub(crate) fn problem(state: &AppState, problem: Problem, tr: Tr, link: Option<&Link>) -> Response {
    let (heading, body) = problem.text(&tr);
    let back = match (&problem, link) {
        (Problem::ToolUnavailable, Some(link)) if link.claims.tool.is_none() => {
            Some(href(link, None, None))
        }
        _ => None,
    };
    let environment = link.map(|link| &link.environment);
    let page = ProblemPage {
        chrome: Chrome::new(state, environment, &tr, "problem", &heading).back(&tr, back),
        heading,
        body,
    };
    render(state, environment, &page, problem.status())
}

/// The script's part of a sign-in button: where to ask how an attempt stands and where to go
/// when it ends (it appends `&attempt=<id>`, an id it makes up per click).
fn signin_button(link: &Link, tool: &Tool) -> SigninButton {
    let status = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", &link.token)
        .finish();
    let finish = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", &link.token)
        .append_pair("tool", &tool.id)
        .finish();
    let (status, finish) = (
        format!("/connect/oauth/status?{status}"),
        format!("/connect/oauth/finish?{finish}"),
    );
    SigninButton {
        waiting: link.tr.t_with("signin-waiting", &[("tool", &tool.label)]),
        status,
        finish,
    }
}

/// The step before signing in to a tool whose sign-in URL needs values (a subdomain, a
/// tenant): a form that starts the sign-in with them.
pub(crate) fn signin_form(state: &AppState, link: &Link, tool: &Tool) -> Response {
    let tr = &link.tr;
    let heading = tr.t_with("signin-form-title", &[("tool", &tool.label)]);
    let (offset, total) = step_numbers(link, true);
    let page = SigninFormPage {
        chrome: Chrome::new(state, Some(&link.environment), tr, "signin", &heading)
            .tool(tool)
            .step(tr, offset + 2, total)
            .back(tr, Some(href(link, Some(&tool.id), None))),
        intro: tr.t_with("signin-form-intro", &[("tool", &tool.label)]),
        token: link.token.clone(),
        tool: tool.id.clone(),
        fields: signin::typed_first(tool)
            .map(|field| FieldView::new(tr, field, None, None))
            .collect(),
        submit: tr.t_with("signin-button", &[("tool", &tool.label)]),
        signin: signin_button(link, tool),
        heading,
    };
    render(state, Some(&link.environment), &page, StatusCode::OK)
}

/// How a sign-in the flow page waited for stands, when it is not connected.
pub(crate) enum SigninEnd<'a> {
    /// The callback of attempt `.0` has not recorded its outcome yet.
    Pending(&'a str),
    /// The popup of attempt `.0` looks closed. A vendor page that isolates itself
    /// (`Cross-Origin-Opener-Policy`) looks closed to its opener too, so the page keeps asking
    /// how the attempt stands while it offers to try again.
    Closed(&'a str),
    /// It ended without a connection.
    Failed(Ending),
}

/// The message of a sign-in that did not connect, by how it ended.
fn ending_message(tr: &Tr, tool: &Tool, ending: Ending) -> String {
    let id = match ending {
        Ending::Denied => "signin-denied",
        Ending::Refused => "signin-refused",
        Ending::ExchangeFailed => "signin-exchange-failed",
        Ending::Unverified => "signin-unverified",
        Ending::Closed => "signin-closed",
        Ending::Blocked => "signin-blocked",
        Ending::LinkProblem => "signin-link-problem",
        Ending::VendorError | Ending::Done => "signin-vendor-error",
    };
    tr.t_with(id, &[("tool", &tool.label)])
}

/// The flow page after a sign-in that did not connect: why, and a way to try again (a new
/// click, which a browser lets open a popup); or, while the callback is still on its way, a
/// page that waits for it.
pub(crate) fn signin_end(
    state: &AppState,
    link: &Link,
    tool: &Tool,
    end: SigninEnd<'_>,
) -> Response {
    let tr = &link.tr;
    let (heading, body) = match end {
        SigninEnd::Pending(_) => (
            tr.t("signin-pending-title"),
            tr.t_with("signin-waiting", &[("tool", &tool.label)]),
        ),
        SigninEnd::Closed(_) => (
            tr.t("signin-failed-title"),
            ending_message(tr, tool, Ending::Closed),
        ),
        SigninEnd::Failed(ending) => (
            tr.t("signin-failed-title"),
            ending_message(tr, tool, ending),
        ),
    };
    let waiting = |attempt: &str| {
        let mut button = signin_button(link, tool);
        button.status = format!("{}&attempt={attempt}", button.status);
        button.finish = format!("{}&attempt={attempt}", button.finish);
        button
    };
    let retry = Some((href(link, Some(&tool.id), None), tr.t("signin-retry")));
    let (pending, reason, retry) = match end {
        SigninEnd::Pending(attempt) => (Some(waiting(attempt)), None, None),
        SigninEnd::Closed(attempt) => {
            (Some(waiting(attempt)), Some(Ending::Closed.as_str()), retry)
        }
        SigninEnd::Failed(Ending::LinkProblem) => (None, Some(Ending::LinkProblem.as_str()), None),
        SigninEnd::Failed(ending) => (None, Some(ending.as_str()), retry),
    };
    let status = StatusCode::OK;
    let page = SigninEndPage {
        chrome: Chrome::new(state, Some(&link.environment), tr, "signin-end", &heading).tool(tool),
        heading,
        body,
        retry,
        pending,
        reason,
    };
    render(state, Some(&link.environment), &page, status)
}

/// The page the vendor's redirect lands on in the popup: it tells the flow page that opened
/// it only how the sign-in ended, then closes.
pub(crate) fn signin_callback(
    state: &AppState,
    link: &Link,
    attempt: &str,
    ending: Ending,
) -> Response {
    let tr = &link.tr;
    let (heading, body) = if ending == Ending::Done {
        (
            tr.t("signin-callback-done-title"),
            tr.t("signin-callback-done"),
        )
    } else {
        (tr.t("signin-failed-title"), tr.t("signin-callback-failed"))
    };
    let page = SigninCallbackPage {
        chrome: Chrome::new(
            state,
            Some(&link.environment),
            tr,
            "signin-callback",
            &heading,
        ),
        heading,
        body,
        attempt: attempt.to_owned(),
        outcome: ending.as_str(),
    };
    // The popup is a window of its own: no site frames it.
    let mut response = render(state, Some(&link.environment), &page, StatusCode::OK);
    if let Ok(csp) = HeaderValue::from_str(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}
