//! The flow's pages: view models of finished, translated strings, rendered by askama templates
//! in `crates/server/templates/flow/`. Templates only lay out what they are given.

use askama::Template;
use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use chrono::Utc;
use plugboard_catalog::{AuthKind, FieldKind, Tool};

use super::{
    FIELD_PREFIX, Link, assets, frame_ancestors, i18n::Tr, parent_origins, secure, verify::Outcome,
};
use crate::{AppState, integrations::Credentials, tokens};

/// Why a link or request cannot go on; each has its own page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    Invalid,
    Expired,
    Used,
    Revoked,
    Gone,
    ToolUnavailable,
    OauthUnavailable(String),
    Forbidden,
    Server,
    /// Too many requests: the page names the wait, in seconds as `Retry-After` says.
    RateLimited(u64),
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
    fn new(tr: &Tr, page: &'static str, title: &str) -> Self {
        Self {
            lang: tr.code(),
            page,
            tool: None,
            title: title.to_owned(),
            css: assets::url("flow.css"),
            js: assets::url("flow.js"),
            step: None,
            close: tr.t("close"),
            back: None,
            parents: String::new(),
            brand: BrandView::default(),
        }
    }

    fn framed(
        mut self,
        state: &AppState,
        environment: Option<&plugboard_store::Environment>,
    ) -> Self {
        self.parents = parent_origins(state, environment);
        self
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

    /// The operator's branding in the link's environment (production's when there is none).
    fn branded(
        mut self,
        state: &AppState,
        environment: Option<&plugboard_store::Environment>,
    ) -> Self {
        let name = environment.map_or(plugboard_store::EnvironmentName::Production, |e| e.name);
        let branding = state.config.branding(name);
        self.brand = BrandView {
            name: branding.product_name,
            logo: branding.logo.map(|logo| logo.path()),
            css: branding.accent.map(|accent| accent.stylesheet_path()),
        };
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
    next_href: String,
    next: String,
    icon: String,
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

fn render(template: &impl Template, status: StatusCode, frame_ancestors: &str) -> Response {
    match template.render() {
        Ok(html) => secure((status, Html(html)).into_response(), frame_ancestors),
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

/// Steps before the credentials: the picker only when the link leaves the choice open.
fn step_numbers(link: &Link) -> (usize, usize) {
    let offset = usize::from(link.claims.tool.is_none());
    (offset, offset + 3)
}

/// The operator's product name in the link's environment, else a generic phrase.
fn product(state: &AppState, link: &Link) -> String {
    state
        .config
        .branding(link.environment.name)
        .product_name
        .unwrap_or_else(|| link.tr.t("product-generic"))
}

/// The name guides suggest for the credential: the product name, else the host of the public
/// URL ("a name such as this app" would not read).
fn guide_product(state: &AppState, link: &Link) -> String {
    state
        .config
        .branding(link.environment.name)
        .product_name
        .or_else(|| state.config.public_url.host_str().map(str::to_owned))
        .unwrap_or_else(|| link.tr.t("product-generic"))
}

/// Step 1: choose a tool.
pub(crate) fn picker(state: &AppState, link: &Link) -> Response {
    let tr = &link.tr;
    let category = tr.t(&format!("category-{}", link.claims.cat));
    let heading = tr.t_with(
        "picker-title",
        &[("category", &category), ("organization", &link.claims.org)],
    );
    let mut tools: Vec<ToolItem> = state
        .available_tools(&link.environment, link.claims.cat)
        .map(|tool| ToolItem {
            id: tool.id.clone(),
            label: tool.label.clone(),
            href: href(link, Some(&tool.id), None),
            icon: state.tool_asset_url(&tool.id, "icon.svg"),
            note: (tool.auth == AuthKind::Oauth2).then(|| tr.t("picker-oauth")),
        })
        .collect();
    // The sandbox (development only) first: it is what an operator trying the flow looks for.
    tools.sort_by_key(|tool| (tool.id != "sandbox", tool.label.to_lowercase()));
    let (_, total) = step_numbers(link);
    let page = PickerPage {
        chrome: Chrome::new(tr, "picker", &heading)
            .branded(state, Some(&link.environment))
            .framed(state, Some(&link.environment))
            .step(tr, 1, total),
        intro: tr.t_with("picker-intro", &[("product", &product(state, link))]),
        search: tr.t("picker-search"),
        empty: tr.t("picker-empty"),
        heading,
        tools,
    };
    render(
        &page,
        StatusCode::OK,
        frame_ancestors(state, Some(&link.environment)),
    )
}

/// Step 2: what the operator will be able to read.
pub(crate) fn consent(state: &AppState, link: &Link, tool: &Tool) -> Response {
    let tr = &link.tr;
    let product = product(state, link);
    let heading = tr.t_with("consent-title", &[("product", &product)]);
    // What the guide asks the end user to grant (the catalog's one list), else, when the
    // credential carries the account's own access, the category's data models.
    let models = if tool.scopes.is_empty() {
        link.claims
            .cat
            .default_models()
            .iter()
            .map(|(id, _)| {
                (
                    tr.t(&format!("model-{id}")),
                    tr.t(&format!("model-{id}-desc")),
                )
            })
            .collect()
    } else {
        tool.scopes
            .iter()
            .map(|scope| (scope.clone(), String::new()))
            .collect()
    };
    let (offset, total) = step_numbers(link);
    let back = (offset == 1).then(|| href(link, None, None));
    let page = ConsentPage {
        chrome: Chrome::new(tr, "consent", &heading)
            .branded(state, Some(&link.environment))
            .framed(state, Some(&link.environment))
            .tool(tool)
            .step(tr, offset + 1, total)
            .back(tr, back),
        intro: tr.t_with(
            "consent-intro",
            &[
                ("tool", &tool.label),
                ("product", &product),
                ("organization", &link.claims.org),
            ],
        ),
        models,
        secure: tr.t_with("consent-secure", &[("tool", &tool.label)]),
        next_href: href(link, Some(&tool.id), Some("guide")),
        next: tr.t("continue"),
        icon: state.tool_asset_url(&tool.id, "icon.svg"),
        heading,
    };
    render(
        &page,
        StatusCode::OK,
        frame_ancestors(state, Some(&link.environment)),
    )
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
    let (offset, total) = step_numbers(link);
    let page = GuidePage {
        chrome: Chrome::new(tr, "guide", &heading)
            .branded(state, Some(&link.environment))
            .framed(state, Some(&link.environment))
            .tool(tool)
            .step(tr, offset + 2, total)
            .back(tr, Some(href(link, Some(&tool.id), None))),
        steps,
        docs,
        next_href: href(link, Some(&tool.id), Some("credentials")),
        next: tr.t("continue"),
        heading,
    };
    render(
        &page,
        StatusCode::OK,
        frame_ancestors(state, Some(&link.environment)),
    )
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
    fn build(link: &Link, tool: &Tool, values: Option<&Credentials>) -> Self {
        let tr = &link.tr;
        let fields = tool
            .fields
            .iter()
            .map(|field| {
                let label = field.label.get(tr.code()).clone();
                let secret = field.kind == FieldKind::Secret;
                let submitted = values
                    .and_then(|values| values.get(&field.id))
                    .map(String::as_str);
                let error = submitted.and_then(|value| field_error(tr, field, &label, value));
                FieldView {
                    id: format!("f-{}", field.id),
                    name: format!("{FIELD_PREFIX}{}", field.id),
                    help: field.help.as_ref().map(|help| help.get(tr.code()).clone()),
                    input_type: match field.kind {
                        FieldKind::Text => "text",
                        FieldKind::Secret => "password",
                        FieldKind::Url => "url",
                        FieldKind::Email => "email",
                    },
                    required: field.required,
                    pattern: field.pattern.clone(),
                    max_length: field.max_length,
                    placeholder: field.placeholder.clone(),
                    value: if secret {
                        String::new()
                    } else {
                        submitted.unwrap_or_default().to_owned()
                    },
                    secret_hint: secret.then(|| tr.t("credentials-secret-hint")),
                    client_messages: (
                        tr.t_with("field-required", &[("field", &label)]),
                        match field.kind {
                            FieldKind::Url => tr.t("field-url"),
                            FieldKind::Email => tr.t("field-email"),
                            FieldKind::Text | FieldKind::Secret => {
                                tr.t_with("field-pattern", &[("field", &label)])
                            }
                        },
                    ),
                    error,
                    label,
                }
            })
            .collect();
        Self {
            fields,
            summary: None,
            failure: None,
        }
    }

    /// An empty form.
    pub(crate) fn fresh(_state: &AppState, link: &Link, tool: &Tool) -> Self {
        Self::build(link, tool, None)
    }

    /// The form as submitted, with each field's validation error.
    pub(crate) fn submitted(
        _state: &AppState,
        link: &Link,
        tool: &Tool,
        values: &Credentials,
    ) -> Self {
        Self::build(link, tool, Some(values))
    }

    /// Whether any field is invalid.
    pub(crate) fn has_field_errors(&self) -> bool {
        self.fields.iter().any(|field| field.error.is_some())
    }
}

/// The same checks the browser makes from the input's attributes, made again on the server.
fn field_error(
    tr: &Tr,
    field: &plugboard_catalog::Field,
    label: &str,
    value: &str,
) -> Option<String> {
    if value.is_empty() {
        return field
            .required
            .then(|| tr.t_with("field-required", &[("field", label)]));
    }
    if value.chars().count() > field.max_length as usize {
        return Some(tr.t_with(
            "field-too-long",
            &[("field", label), ("max", &field.max_length.to_string())],
        ));
    }
    if let Some(pattern) = &field.pattern {
        // Patterns were compiled once when the catalog loaded; this cannot fail.
        let matches =
            regex::Regex::new(&format!("^(?:{pattern})$")).is_ok_and(|re| re.is_match(value));
        if !matches {
            return Some(tr.t_with("field-pattern", &[("field", label)]));
        }
    }
    match field.kind {
        FieldKind::Url => {
            let ok = url::Url::parse(value)
                .is_ok_and(|url| url.scheme() == "https" && url.host().is_some());
            (!ok).then(|| tr.t("field-url"))
        }
        FieldKind::Email => {
            (!crate::api::connect::is_plain_email(value)).then(|| tr.t("field-email"))
        }
        FieldKind::Text | FieldKind::Secret => None,
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
    let (offset, total) = step_numbers(link);
    let page = CredentialsPage {
        chrome: Chrome::new(tr, "credentials", &heading)
            .branded(state, Some(&link.environment))
            .framed(state, Some(&link.environment))
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
    render(
        &page,
        status,
        frame_ancestors(state, Some(&link.environment)),
    )
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
    let embedded = link.claims.typ == tokens::LinkType::Embedded;
    let done = embedded.then(|| (tr.t("success-done"), activation_token.to_owned()));
    let development = link.environment.name == plugboard_store::EnvironmentName::Development;
    let shown_token = (embedded && development && !framed)
        .then(|| (tr.t("success-token"), activation_token.to_owned()));
    let page = SuccessPage {
        chrome: Chrome::new(tr, "success", &heading)
            .branded(state, Some(&link.environment))
            .framed(state, Some(&link.environment))
            .tool(tool),
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
    render(
        &page,
        StatusCode::OK,
        frame_ancestors(state, Some(&link.environment)),
    )
}

/// A page explaining why the flow cannot go on.
pub(crate) fn problem(state: &AppState, problem: Problem, tr: Tr, link: Option<&Link>) -> Response {
    let (title, body, status) = match &problem {
        Problem::Invalid => (
            "error-invalid-title",
            tr.t("error-invalid-body"),
            StatusCode::BAD_REQUEST,
        ),
        Problem::Expired => (
            "error-expired-title",
            tr.t("error-expired-body"),
            StatusCode::GONE,
        ),
        Problem::Used => (
            "error-used-title",
            tr.t("error-used-body"),
            StatusCode::GONE,
        ),
        Problem::Revoked => (
            "error-revoked-title",
            tr.t("error-revoked-body"),
            StatusCode::GONE,
        ),
        Problem::Gone => (
            "error-gone-title",
            tr.t("error-gone-body"),
            StatusCode::GONE,
        ),
        Problem::ToolUnavailable => (
            "error-tool-title",
            tr.t("error-tool-body"),
            StatusCode::NOT_FOUND,
        ),
        Problem::OauthUnavailable(tool) => (
            "error-tool-title",
            tr.t_with("error-oauth-body", &[("tool", tool)]),
            StatusCode::NOT_FOUND,
        ),
        Problem::Forbidden => (
            "error-server-title",
            tr.t("error-forbidden-body"),
            StatusCode::FORBIDDEN,
        ),
        Problem::Server => (
            "error-server-title",
            tr.t("error-server-body"),
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        Problem::RateLimited(seconds) => (
            "error-server-title",
            tr.t_count("too-many-attempts", "seconds", *seconds),
            StatusCode::TOO_MANY_REQUESTS,
        ),
    };
    let heading = tr.t(title);
    let back = match (&problem, link) {
        (Problem::ToolUnavailable | Problem::OauthUnavailable(_), Some(link))
            if link.claims.tool.is_none() =>
        {
            Some(href(link, None, None))
        }
        _ => None,
    };
    let page = ProblemPage {
        chrome: Chrome::new(&tr, "problem", &heading)
            .branded(state, link.map(|link| &link.environment))
            .framed(state, link.map(|link| &link.environment))
            .back(&tr, back),
        heading,
        body,
    };
    render(
        &page,
        status,
        frame_ancestors(state, link.map(|link| &link.environment)),
    )
}
