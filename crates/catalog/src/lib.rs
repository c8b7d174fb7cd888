//! The tool catalog: which HR, recruiting and learning tools an end user can connect, and what
//! Plugboard knows about each.
//!
//! Every tool is one TOML file in `crates/catalog/tools/`, compiled into the binary by the build
//! script. [`Catalog::builtin`] parses and validates them all; a test keeps every shipped file
//! valid, so a broken data file fails CI rather than a server start.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod api;
mod icon;
mod logo;
mod oauth;
mod schema;
mod template;

pub use api::{Api, ApiOption, Auth, BasicPair, TokenExchange, is_api_id};
pub use logo::{Image, Logo, LogoSource, MAX_OVERRIDE_BYTES, check_image};
pub use oauth::{AppSetting, ClientAuth, OauthSettings, RESERVED_PARAMS};
pub use schema::{
    Field, FieldKind, FieldProblem, Input, Localized, Method, Pattern, Verify, is_plain_email,
    placeholders,
};
pub use template::{FillError, Slot, fill_url, host_placeholders, slots, spans};

include!(concat!(env!("OUT_DIR"), "/tool_files.rs"));

/// The integration categories of the Kombo API. Serialised in upper case (`"HRIS"`), as on the
/// wire; [`Category::from_path`] accepts the lower-case form used in `GET /tools/{category}`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Category {
    /// Human resources information systems (employees, absences, ...).
    Hris,
    /// Applicant tracking systems (jobs, candidates, applications, ...).
    Ats,
    /// Assessment providers, connected through the customer's ATS.
    Assessment,
    /// Learning management systems (courses, progress, ...).
    Lms,
}

impl Category {
    /// Every category, in the order the API documents them.
    pub const ALL: [Category; 4] = [Self::Hris, Self::Ats, Self::Assessment, Self::Lms];

    /// The wire name, e.g. `"HRIS"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hris => "HRIS",
            Self::Ats => "ATS",
            Self::Assessment => "ASSESSMENT",
            Self::Lms => "LMS",
        }
    }

    /// Parses the wire name (`"HRIS"`); used when reading stored rows.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == value)
    }

    /// Parses the lower-case path form (`hris`, `ats`, `assessment`, `lms`).
    pub fn from_path(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().to_ascii_lowercase() == value)
    }

    /// The data models an integration of this category reads, as Kombo names them
    /// (`hris_employees`), with an English label. Tools may narrow this list.
    pub fn default_models(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Hris => &[
                ("hris_employees", "Employees"),
                ("hris_employments", "Employments"),
                ("hris_absences", "Absences"),
                ("hris_absence_types", "Absence types"),
                ("hris_time_off_balances", "Time-off balances"),
                ("hris_teams", "Teams"),
                ("hris_locations", "Locations"),
                ("hris_legal_entities", "Legal entities"),
            ],
            Self::Ats => &[
                ("ats_jobs", "Jobs"),
                ("ats_candidates", "Candidates"),
                ("ats_applications", "Applications"),
                ("ats_application_stages", "Application stages"),
                ("ats_users", "Users"),
                ("ats_interviews", "Interviews"),
                ("ats_offers", "Offers"),
                ("ats_tags", "Tags"),
            ],
            Self::Assessment => &[
                ("ats_jobs", "Jobs"),
                ("ats_candidates", "Candidates"),
                ("ats_applications", "Applications"),
            ],
            Self::Lms => &[
                ("lms_users", "Users"),
                ("lms_courses", "Courses"),
                ("lms_course_progressions", "Course progressions"),
                ("lms_skills", "Skills"),
            ],
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an end user proves access to a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// The user pastes an API key or similar secret (possibly with a subdomain).
    ApiKey,
    /// The user signs in with the tool's OAuth 2 authorization-code flow (`[oauth]`), once
    /// the operator has registered an OAuth app for the tool in the environment.
    Oauth2,
}

/// One tool of the catalog, as parsed from its data file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// Kombo's tool id (`bamboohr`); the prefix of every integration id of this tool.
    pub id: String,
    /// The product's name as its vendor writes it.
    pub label: String,
    /// The categories this tool can be connected as.
    pub categories: Vec<Category>,
    /// Background colour of the generated monogram icon (`#rrggbb`); must keep white text
    /// readable (WCAG AA), which a test checks.
    pub color: String,
    /// How end users authenticate.
    pub auth: AuthKind,
    /// The vendor's public API documentation, shown as "where do I find this?".
    #[serde(default)]
    pub docs_url: Option<url::Url>,
    /// Tools such as `sandbox` exist only in the development environment.
    #[serde(default)]
    pub development_only: bool,
    /// The API's base URL, e.g. `https://api.bamboohr.com/api/gateway.php/{subdomain}`;
    /// `{field}` placeholders take the end user's values. Overridable by configuration (for
    /// on-premise instances and tests).
    #[serde(default)]
    pub base_url: Option<String>,
    /// The credential fields of the form, in order.
    #[serde(default)]
    pub fields: Vec<Field>,
    /// What the guide asks the end user to grant, in the vendor's words (`people:read`,
    /// `Employees`): the one list the guide's `{scopes}` placeholder and the consent step show,
    /// so the two cannot disagree. Empty when the credential carries the account's own access;
    /// the consent step then lists the category's data models.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Step-by-step instructions for obtaining the credentials.
    #[serde(default)]
    pub guide: Option<Localized<Vec<String>>>,
    /// The request that proves the credentials work.
    #[serde(default)]
    pub verify: Option<Verify>,
    /// The tool's APIs that passthrough requests may call, under Kombo's ids.
    #[serde(default)]
    pub apis: Vec<Api>,
    /// How the tool's OAuth sign-in works: required for `oauth2` tools, and allowed on
    /// `api_key` tools whose vendor offers both (the end user then signs in when the operator
    /// registered an app, and pastes a key otherwise). An integration connected by signing in
    /// sends its access token as `Authorization: Bearer` whatever the APIs' `auth` says.
    #[serde(default)]
    pub oauth: Option<OauthSettings>,
    /// The vendor's CC0 logo from `logos/`, when simple-icons has one; not part of the file.
    #[serde(skip)]
    pub logo: Option<Logo>,
}

impl Tool {
    /// The passthrough API with Kombo's id `id`.
    pub fn api(&self, id: &str) -> Option<&Api> {
        self.apis.iter().find(|api| api.id == id)
    }

    /// Whether end users can sign in to the tool (it has an `[oauth]` section).
    pub fn signs_in(&self) -> bool {
        self.oauth.is_some()
    }

    /// Whether the tool can be connected as `category`.
    pub fn supports(&self, category: Category) -> bool {
        self.categories.contains(&category)
    }

    /// A square SVG icon: the vendor's logo on its brand colour when the catalog has one,
    /// else a monogram in the tool's colour.
    pub fn icon_svg(&self) -> String {
        match &self.logo {
            Some(logo) => logo.tile(&self.label),
            None => icon::monogram(&self.label, &self.color, true),
        }
    }

    /// The guide's steps in `language`, with `{product}` replaced by the operator's product
    /// name: the end user names the credential after the product they connect, and a
    /// white-labelled flow never mentions Plugboard.
    pub fn guide_steps(&self, language: &str, product: &str) -> Option<Vec<String>> {
        self.steps_of(self.guide.as_ref()?, language, product)
    }

    /// The steps of signing in, in `language`: an OAuth-only tool's guide, or the `[oauth]`
    /// guide of a tool whose `[guide]` is about its key.
    pub fn signin_steps(&self, language: &str, product: &str) -> Option<Vec<String>> {
        match self.auth {
            AuthKind::Oauth2 => self.guide_steps(language, product),
            AuthKind::ApiKey => {
                let guide = self.oauth.as_ref()?.guide.as_ref()?;
                self.steps_of(guide, language, product)
            }
        }
    }

    fn steps_of(
        &self,
        guide: &Localized<Vec<String>>,
        language: &str,
        product: &str,
    ) -> Option<Vec<String>> {
        Some(
            guide
                .get(language)
                .iter()
                .map(|step| {
                    step.replace(PRODUCT_PLACEHOLDER, product)
                        .replace(SCOPES_PLACEHOLDER, &self.scopes.join(", "))
                })
                .collect(),
        )
    }

    /// The bare logo in its brand colour (Kombo's `logo_url`), or the monogram.
    pub fn logo_svg(&self) -> String {
        match &self.logo {
            Some(logo) => logo.mark(&self.label, &logo.source.color),
            None => icon::monogram(&self.label, &self.color, true),
        }
    }

    /// The logo or monogram in black, for Kombo's `icon_black_url`.
    pub fn icon_black_svg(&self) -> String {
        match &self.logo {
            Some(logo) => logo.mark(&self.label, "#000000"),
            None => icon::monogram(&self.label, "#000000", false),
        }
    }
}

/// The placeholder of guide texts for the operator's product name.
pub const PRODUCT_PLACEHOLDER: &str = "{product}";
/// The placeholder of guide texts for the tool's `scopes`.
pub const SCOPES_PLACEHOLDER: &str = "{scopes}";

/// Why a catalog could not be loaded: names the file and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file is not valid TOML or does not match the tool schema.
    #[error("tool file {file}: {source}")]
    Parse {
        /// The offending file.
        file: String,
        /// The parser's description, with line and column.
        source: toml::de::Error,
    },
    /// The file parsed but breaks a rule of the catalog.
    #[error("tool file {file}: {message}")]
    Invalid {
        /// The offending file.
        file: String,
        /// What to fix.
        message: String,
    },
}

/// The set of tools Plugboard can connect, keyed by id.
#[derive(Debug, Clone)]
pub struct Catalog {
    tools: BTreeMap<String, Tool>,
    /// The operator's images by tool id, which replace the tool's own.
    images: BTreeMap<String, Image>,
}

impl Catalog {
    /// The catalog compiled into this binary, with the imported logos.
    pub fn builtin() -> Result<Self, CatalogError> {
        let mut catalog = Self::from_files(TOOL_FILES.iter().map(|(name, text)| (*name, *text)))?;
        let logos = logo::builtin().map_err(|message| invalid("crates/catalog/logos", message))?;
        for (id, logo) in logos {
            let tool = catalog.tools.get_mut(&id).ok_or_else(|| {
                invalid(&format!("logos/{id}.svg"), "names no tool of the catalog")
            })?;
            tool.logo = Some(logo);
        }
        Ok(catalog)
    }

    /// Replaces tools' images with the operator's own: `dir` holds `<tool-id>.svg` or
    /// `<tool-id>.png` files (`PLUGBOARD_TOOL_LOGOS_DIR`). Read once, at start-up; every file
    /// is checked (see [`MAX_OVERRIDE_BYTES`]) and an error names the file.
    pub fn load_logo_overrides(&mut self, dir: &std::path::Path) -> Result<(), CatalogError> {
        let tools = &self.tools;
        self.images = logo::read_overrides(dir, |id| tools.contains_key(id))
            .map_err(|(file, message)| CatalogError::Invalid { file, message })?;
        Ok(())
    }

    /// One of a tool's images by file name (`icon.svg`, `logo.svg`, `icon-black.svg`): the
    /// operator's image for all three when there is one, else the logo or monogram.
    pub fn image(&self, id: &str, file: &str) -> Option<Image> {
        let tool = self.tools.get(id)?;
        let svg = match file {
            "icon.svg" => tool.icon_svg(),
            "logo.svg" => tool.logo_svg(),
            "icon-black.svg" => tool.icon_black_svg(),
            _ => return None,
        };
        if let Some(image) = self.images.get(id) {
            return Some(image.clone());
        }
        Some(Image {
            content_type: "image/svg+xml",
            body: svg.into_bytes(),
        })
    }

    /// Parses and validates tool files given as `(file name, contents)`.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, CatalogError> {
        let mut tools = BTreeMap::new();
        for (file, text) in files {
            let tool: Tool = toml::from_str(text).map_err(|source| CatalogError::Parse {
                file: file.to_owned(),
                source,
            })?;
            validate(file, &tool)?;
            if tools.insert(tool.id.clone(), tool).is_some() {
                return Err(invalid(file, "another file already defines this tool id"));
            }
        }
        Ok(Self {
            tools,
            images: BTreeMap::new(),
        })
    }

    /// The tool with this id, if the catalog has it.
    pub fn get(&self, id: &str) -> Option<&Tool> {
        self.tools.get(id)
    }

    /// Every tool, ordered by id.
    pub fn tools(&self) -> impl Iterator<Item = &Tool> {
        self.tools.values()
    }
}

fn invalid(file: &str, message: impl Into<String>) -> CatalogError {
    CatalogError::Invalid {
        file: file.to_owned(),
        message: message.into(),
    }
}

fn validate(file: &str, tool: &Tool) -> Result<(), CatalogError> {
    let id_ok = !tool.id.is_empty()
        && tool
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !id_ok {
        return Err(invalid(
            file,
            "id must be lower-case ASCII letters and digits",
        ));
    }
    if file.strip_suffix(".toml") != Some(tool.id.as_str()) {
        return Err(invalid(
            file,
            format!("file must be named {}.toml", tool.id),
        ));
    }
    if tool.label.trim().is_empty() {
        return Err(invalid(file, "label must not be empty"));
    }
    if tool.categories.is_empty() {
        return Err(invalid(file, "categories must name at least one category"));
    }
    if icon::parse_hex(&tool.color).is_none() {
        return Err(invalid(file, "color must be #rrggbb"));
    }
    if icon::contrast_with_white(&tool.color) < 4.5 {
        return Err(invalid(
            file,
            "color is too light for white text (WCAG AA needs a contrast of 4.5:1)",
        ));
    }
    validate_connection(tool).map_err(|message| invalid(file, message))
}

/// Rules for the parts the hosted flow uses: API-key tools must say what to ask for, how to get
/// it, and how to check it; OAuth tools how to sign in, what to type first (never a secret:
/// the vendor holds those), and how to check the token.
fn validate_connection(tool: &Tool) -> Result<(), String> {
    match tool.auth {
        AuthKind::Oauth2 => {
            if tool.oauth.is_none()
                || tool.guide.is_none()
                || tool.verify.is_none()
                || tool.base_url.is_none()
            {
                return Err("oauth2 tools need [oauth], guide, base_url and verify".into());
            }
            if tool.fields.iter().any(|f| f.kind == FieldKind::Secret) {
                return Err("oauth2 tools ask for no secret: the vendor holds it".into());
            }
        }
        AuthKind::ApiKey if tool.development_only => {}
        AuthKind::ApiKey => {
            if tool.fields.is_empty()
                || tool.guide.is_none()
                || tool.verify.is_none()
                || tool.base_url.is_none()
            {
                return Err("api_key tools need fields, guide, base_url and verify".into());
            }
        }
    }
    validate_oauth(tool)?;
    let mut ids = std::collections::BTreeSet::new();
    for field in &tool.fields {
        let id_ok = !field.id.is_empty()
            && field
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !id_ok || !ids.insert(field.id.as_str()) {
            return Err(format!("field id {:?} must be unique snake_case", field.id));
        }
        texts_present(&format!("field {} label", field.id), &field.label)?;
        if let Some(help) = &field.help {
            texts_present(&format!("field {} help", field.id), help)?;
        }
    }
    if let Some(guide) = &tool.guide {
        validate_guide("guide", guide, !tool.scopes.is_empty())?;
    }
    if let Some(guide) = tool.oauth.as_ref().and_then(|oauth| oauth.guide.as_ref()) {
        if tool.auth == AuthKind::Oauth2 {
            return Err("an oauth2 tool's guide is its [guide]; oauth.guide is for tools that also take a key".into());
        }
        validate_guide("oauth.guide", guide, false)?;
    }
    let mut templates: Vec<&str> = tool.base_url.iter().map(String::as_str).collect();
    if let Some(verify) = &tool.verify {
        templates.extend(verify.templates());
    }
    for template in templates {
        for name in placeholders(template) {
            if !ids.contains(name) {
                return Err(format!("{{{name}}} in {template:?} is not a field id"));
            }
        }
    }
    if let Some(base) = &tool.base_url {
        https_template("base_url", base)?;
    }
    validate_apis(tool)
}

/// The rules of a guide (`what`): the same number of non-empty steps in every language, and
/// no placeholder but `{product}` and `{scopes}`, the latter in exactly one step when
/// `scopes` (the tool lists scopes), never otherwise.
fn validate_guide(what: &str, guide: &Localized<Vec<String>>, scopes: bool) -> Result<(), String> {
    let steps = guide.en.len();
    for (language, text) in guide.all() {
        if text.is_empty() || text.len() != steps || text.iter().any(|step| step.trim().is_empty())
        {
            return Err(format!(
                "{what}.{language} must have {steps} non-empty steps, like {what}.en"
            ));
        }
        for step in text {
            let rest = step
                .replace(PRODUCT_PLACEHOLDER, "")
                .replace(SCOPES_PLACEHOLDER, "");
            if rest.contains('{') || rest.contains('}') {
                return Err(format!(
                    "{what}.{language}: the only placeholders are {PRODUCT_PLACEHOLDER} and \
                     {SCOPES_PLACEHOLDER}: {step:?}"
                ));
            }
        }
        let named = text
            .iter()
            .filter(|step| step.contains(SCOPES_PLACEHOLDER))
            .count();
        if named != usize::from(scopes) {
            return Err(format!(
                "{what}.{language} must name {SCOPES_PLACEHOLDER} in exactly one step when the \
                 tool lists scopes, and never otherwise"
            ));
        }
    }
    Ok(())
}

/// Rules for `[oauth]` and the `oauth` auth scheme: https endpoints whose placeholders name
/// non-secret fields, no flow parameter replaced; `{ type = "oauth" }` only where there is an
/// access token, and everywhere in an `oauth2` tool (it has no other credential).
fn validate_oauth(tool: &Tool) -> Result<(), String> {
    let schemes = tool
        .verify
        .iter()
        .map(|verify| ("verify", &verify.auth))
        .chain(tool.apis.iter().map(|api| (api.id.as_str(), &api.auth)));
    for (what, auth) in schemes {
        let oauth = *auth == Auth::Oauth;
        if oauth && tool.oauth.is_none() {
            return Err(format!("{what}: auth type oauth needs an [oauth] section"));
        }
        if !oauth && tool.auth == AuthKind::Oauth2 {
            return Err(format!(
                "{what}: an oauth2 tool's requests use auth type oauth"
            ));
        }
    }
    let Some(oauth) = &tool.oauth else {
        return Ok(());
    };
    oauth.validate()?;
    if let Some(name) = oauth
        .app_settings
        .keys()
        .find(|name| tool.fields.iter().any(|field| &field.id == *name))
    {
        return Err(format!("oauth.app_settings.{name} is also a field id"));
    }
    for name in oauth.app_settings.keys() {
        if !oauth
            .templates()
            .iter()
            .any(|t| placeholders(t).contains(&name.as_str()))
        {
            return Err(format!(
                "oauth.app_settings.{name} is not used in an endpoint"
            ));
        }
    }
    for template in oauth.templates() {
        https_template("oauth endpoint", template)?;
        for name in placeholders(template) {
            let field = tool.fields.iter().find(|field| field.id == name);
            match field {
                None if oauth.app_settings.contains_key(name) => {}
                None => return Err(format!("{{{name}}} in {template:?} is not a field id")),
                Some(field) if field.kind == FieldKind::Secret => {
                    return Err(format!("{template:?} names {{{name}}}, a secret"));
                }
                // A URL field would let the end user choose the token endpoint, which then
                // receives the operator's client secret.
                Some(field) if field.pattern.is_none() || field.kind == FieldKind::Url => {
                    return Err(format!(
                        "field {name} fills {template:?}, so it needs a pattern and cannot be a url field"
                    ));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// Whether `template`, its placeholders filled with a plain word, is an absolute https URL.
fn https_template(what: &str, template: &str) -> Result<(), String> {
    let example = placeholders(template)
        .iter()
        .fold(template.to_owned(), |url, name| {
            url.replace(&format!("{{{name}}}"), "example")
        });
    let parsed = url::Url::parse(&example).map_err(|e| format!("{what} {template:?}: {e}"))?;
    if parsed.scheme() != "https" {
        return Err(format!("{what} {template:?} must be https"));
    }
    Ok(())
}

/// Rules for `[[apis]]`: unique Kombo ids, placeholders that name fields (never a secret one
/// in a URL the caller is shown), and bases that cannot be moved: a relative base is a plain
/// path under the tool's `base_url` (the development tools' APIs are Plugboard's own).
fn validate_apis(tool: &Tool) -> Result<(), String> {
    let mut ids = std::collections::BTreeSet::new();
    for api in &tool.apis {
        let what = format!("apis.{}", api.id);
        // `<tool>/authorize` and `<tool>/token` are the OAuth endpoints' override keys.
        let reserved = matches!(api.id.as_str(), "authorize" | "token");
        if !is_api_id(&api.id) || reserved || !ids.insert(api.id.as_str()) {
            return Err(format!(
                "api id {:?} must be unique: letters, digits, - and _",
                api.id
            ));
        }
        for (name, option) in &api.options {
            let plain = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !plain || name == "retries" || tool.fields.iter().any(|field| &field.id == name) {
                return Err(format!(
                    "{what}: option {name:?} must be snake_case, not retries (Plugboard's own) \
                     and not a field id"
                ));
            }
            if option
                .default
                .as_deref()
                .is_some_and(|d| !option.pattern.is_match(d))
            {
                return Err(format!(
                    "{what}: option {name}'s default does not match its pattern"
                ));
            }
            if !placeholders(&api.base_url).contains(&name.as_str()) {
                return Err(format!("{what}: option {name} is not used in base_url"));
            }
        }
        for template in api.templates() {
            for name in placeholders(template) {
                let option = api.options.contains_key(name) && template == api.base_url;
                if !option && !tool.fields.iter().any(|field| field.id == name) {
                    return Err(format!(
                        "{what}: {{{name}}} in {template:?} is not a field id{}",
                        if template == api.base_url {
                            " or an option"
                        } else {
                            ""
                        }
                    ));
                }
            }
        }
        for name in placeholders(&api.base_url) {
            let secret = tool
                .fields
                .iter()
                .any(|field| field.id == name && field.kind == FieldKind::Secret);
            if secret {
                return Err(format!(
                    "{what}: base_url shows {{{name}}}, a secret, to the caller"
                ));
            }
        }
        relative_or_https(tool, &format!("{what}.base_url"), &api.base_url)?;
        if let Auth::Token(exchange) = &api.auth {
            relative_or_https(tool, &format!("{what}.auth.url"), &exchange.url)?;
        }
        for name in api.headers.keys() {
            let token = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !token {
                return Err(format!("{what}: {name:?} is not a header name"));
            }
        }
    }
    Ok(())
}

/// A base or endpoint: an absolute https template, or a plain path (no `..`, query or
/// fragment) under the tool's `base_url`, which development tools may lack (Plugboard serves
/// their APIs).
fn relative_or_https(tool: &Tool, what: &str, template: &str) -> Result<(), String> {
    if !template.starts_with('/') {
        return https_template(what, template);
    }
    if tool.base_url.is_none() && !tool.development_only {
        return Err(format!(
            "{what} {template:?} is relative but the tool has no base_url"
        ));
    }
    let plain = !template.contains(['?', '#', '\\'])
        && template
            .split('/')
            .all(|segment| segment != ".." && segment != ".");
    if !plain {
        return Err(format!("{what} {template:?} must be a plain path"));
    }
    Ok(())
}

fn texts_present(what: &str, text: &Localized<String>) -> Result<(), String> {
    match text
        .all()
        .into_iter()
        .find(|(_, value)| value.trim().is_empty())
    {
        Some((language, _)) => Err(format!("{what} is empty in {language}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_loads_and_has_the_common_tools() {
        let catalog = Catalog::builtin().expect("every shipped tool file is valid");
        for id in [
            "sandbox",
            "bamboohr",
            "personio",
            "hibob",
            "greenhouse",
            "lever",
        ] {
            assert!(catalog.get(id).is_some(), "catalog lacks {id}");
        }
        let sandbox = catalog.get("sandbox").expect("sandbox");
        assert!(sandbox.development_only);
        assert!(sandbox.supports(Category::Hris) && sandbox.supports(Category::Ats));
    }

    /// The smallest valid tool: one signed in to with OAuth.
    const MINIMAL: &str = "id = \"acme\"\nlabel = \"Acme\"\ncategories = [\"HRIS\"]\ncolor = \"#224488\"\nauth = \"oauth2\"\nbase_url = \"https://api.acme.example\"\n[oauth]\nauthorize_url = \"https://acme.example/authorize\"\ntoken_url = \"https://acme.example/token\"\n[guide]\nen = [\"Sign in.\"]\nde = [\"Anmelden.\"]\nfr = [\"Connexion.\"]\nit = [\"Accesso.\"]\nes = [\"Acceso.\"]\n[verify]\nmethod = \"GET\"\npath = \"/me\"\nauth = { type = \"oauth\" }\n";

    #[test]
    fn rejects_bad_files_with_the_file_name() {
        let good = MINIMAL;
        assert!(Catalog::from_files([("acme.toml", good)]).is_ok());
        let cases = [
            (
                "acme.toml",
                good.replace("HRIS", "PAYROLL"),
                "unknown variant",
            ),
            ("other.toml", good.to_owned(), "must be named acme.toml"),
            ("acme.toml", good.replace("#224488", "#ffff00"), "too light"),
            ("acme.toml", good.replace("#224488", "blue"), "#rrggbb"),
            (
                "acme.toml",
                format!("{good}colour = \"x\"\n"),
                "unknown field",
            ),
            (
                "acme.toml",
                good.replace("[\"HRIS\"]", "[]"),
                "at least one",
            ),
        ];
        for (file, text, expected) in cases {
            let err = Catalog::from_files([(file, text.as_str())]).expect_err(expected);
            let message = err.to_string();
            assert!(message.contains(file), "{message}");
            assert!(
                message.contains(expected),
                "{message} should say {expected}"
            );
        }
    }

    #[test]
    fn tools_with_an_imported_logo_show_it_and_the_others_their_monogram() {
        let catalog = Catalog::builtin().expect("builtin");
        for id in ["greenhouse", "gusto", "hibob", "okta", "personio"] {
            let tool = catalog.get(id).expect(id);
            assert!(tool.logo.is_some(), "{id} has no logo");
            for file in ["icon.svg", "logo.svg", "icon-black.svg"] {
                let image = catalog.image(id, file).expect(file);
                let svg = String::from_utf8(image.body).expect("UTF-8");
                assert!(
                    svg.contains("<path") && !svg.contains("<text"),
                    "{id}: {svg}"
                );
            }
        }
        let monogram = catalog.image("bamboohr", "icon.svg").expect("bamboohr");
        assert!(String::from_utf8_lossy(&monogram.body).contains("<text"));
        assert_eq!(catalog.image("bamboohr", "other.svg"), None);
        assert_eq!(catalog.image("nope", "icon.svg"), None);
    }

    /// A white-labelled flow must not tell the end user to name a credential "Plugboard".
    #[test]
    fn no_guide_text_names_plugboard_literally() {
        for (file, text) in TOOL_FILES {
            let tool: Tool = toml::from_str(text).expect("valid");
            let Some(guide) = &tool.guide else { continue };
            for (language, steps) in guide.all() {
                for step in steps {
                    assert!(
                        !step.to_lowercase().contains("plugboard"),
                        "{file} guide.{language}: {step}"
                    );
                }
            }
        }
        let catalog = Catalog::builtin().expect("builtin");
        let steps = catalog
            .get("personio")
            .and_then(|tool| tool.guide_steps("de", "Acme HR"))
            .expect("personio has a guide");
        assert!(
            steps.iter().any(|step| step.contains("Acme HR")),
            "{steps:?}"
        );
        assert!(steps.iter().all(|step| !step.contains('{')), "{steps:?}");
    }

    #[test]
    fn guides_have_no_placeholder_but_product() {
        let text = "id = \"acme\"\nlabel = \"Acme\"\ncategories = [\"ATS\"]\ncolor = \"#224488\"\nauth = \"api_key\"\ndevelopment_only = true\n[guide]\nen = [\"Name it {company}\"]\nde = [\"x\"]\nfr = [\"x\"]\nit = [\"x\"]\nes = [\"x\"]\n";
        let err = Catalog::from_files([("acme.toml", text)]).expect_err("unknown placeholder");
        assert!(err.to_string().contains("only placeholders"), "{err}");
        let scoped = text.replace("{company}", "{scopes}").replace(
            "development_only = true\n",
            "development_only = true\nscopes = []\n",
        );
        let err = Catalog::from_files([("acme.toml", scoped.as_str())]).expect_err("no scopes");
        assert!(err.to_string().contains("exactly one step"), "{err}");
    }

    /// The consent step and the guide read the same list: a guide that enumerates what to
    /// grant does so through `{scopes}`.
    #[test]
    fn guides_that_list_grants_take_them_from_the_scopes() {
        let catalog = Catalog::builtin().expect("builtin");
        let personio = catalog.get("personio").expect("personio");
        assert_eq!(personio.scopes, ["Employees", "Absences", "Attendances"]);
        for language in ["en", "de", "fr", "it", "es"] {
            let steps = personio.guide_steps(language, "Acme").expect("guide");
            assert!(
                steps
                    .iter()
                    .any(|s| s.contains("Employees, Absences, Attendances")),
                "{language}: {steps:?}"
            );
        }
        for tool in catalog.tools() {
            for scope in &tool.scopes {
                let guide = tool.guide.as_ref().expect("a tool with scopes has a guide");
                assert!(
                    guide.en.iter().all(|step| !step.contains(scope.as_str())),
                    "{}: {scope:?} is written out in the guide instead of {{scopes}}",
                    tool.id
                );
            }
        }
    }

    /// A scratch directory of its own per test, removed when dropped.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "plugboard-catalog-{name}-{}-{:?}",
                std::process::id(),
                std::time::SystemTime::now()
            ));
            std::fs::create_dir_all(&dir).expect("temp dir");
            Self(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn an_operator_directory_replaces_tool_images() {
        let scratch = Scratch::new("override");
        let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1" fill="#123"/></svg>"##;
        std::fs::write(scratch.0.join("bamboohr.svg"), svg).expect("write");
        std::fs::write(scratch.0.join("okta.png"), b"\x89PNG\r\n\x1a\nrest").expect("write");
        std::fs::write(scratch.0.join(".gitkeep"), b"").expect("write");
        let mut catalog = Catalog::builtin().expect("builtin");
        catalog
            .load_logo_overrides(&scratch.0)
            .expect("valid overrides");
        let image = catalog.image("bamboohr", "icon.svg").expect("bamboohr");
        assert_eq!(
            (image.content_type, image.body.as_slice()),
            ("image/svg+xml", &svg[..])
        );
        let image = catalog.image("okta", "logo.svg").expect("okta");
        assert_eq!(image.content_type, "image/png");
        let untouched = catalog.image("personio", "icon.svg").expect("personio");
        assert!(String::from_utf8_lossy(&untouched.body).contains("<path"));
    }

    #[test]
    fn an_operator_directory_with_a_bad_file_fails_naming_it() {
        let cases: [(&str, &[u8], &str); 5] = [
            ("nosuchtool.svg", b"<svg/>", "names no tool"),
            ("bamboohr.gif", b"GIF89a", "must be named"),
            (
                "bamboohr.svg",
                b"<svg onload=\"alert(1)\"/>",
                "event handler",
            ),
            ("bamboohr.png", b"<svg/>", "not a PNG"),
            ("..svg", b"<svg/>", ""),
        ];
        for (name, body, message) in cases {
            let scratch = Scratch::new("bad");
            std::fs::write(scratch.0.join(name), body).expect("write");
            let mut catalog = Catalog::builtin().expect("builtin");
            let result = catalog.load_logo_overrides(&scratch.0);
            if name.starts_with('.') {
                assert!(result.is_ok(), "hidden files are skipped");
                continue;
            }
            let err = result.expect_err(name).to_string();
            assert!(err.contains(name) && err.contains(message), "{err}");
        }
        let scratch = Scratch::new("big");
        let big = vec![b' '; usize::try_from(MAX_OVERRIDE_BYTES).expect("small") + 1];
        std::fs::write(scratch.0.join("bamboohr.svg"), big).expect("write");
        let err = Catalog::builtin()
            .expect("builtin")
            .load_logo_overrides(&scratch.0)
            .expect_err("too big")
            .to_string();
        assert!(err.contains("256 KiB"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn an_operator_directory_refuses_links() {
        let scratch = Scratch::new("link");
        std::os::unix::fs::symlink("/etc/passwd", scratch.0.join("bamboohr.svg")).expect("link");
        let err = Catalog::builtin()
            .expect("builtin")
            .load_logo_overrides(&scratch.0)
            .expect_err("a link")
            .to_string();
        assert!(err.contains("regular file"), "{err}");
    }

    #[test]
    fn a_pattern_that_does_not_compile_fails_the_file() {
        let text = "id = \"acme\"\nlabel = \"Acme\"\ncategories = [\"ATS\"]\ncolor = \"#224488\"\nauth = \"api_key\"\ndevelopment_only = true\n[[fields]]\nid = \"sub\"\nkind = \"text\"\npattern = \"[a-z\"\nlabel = { en = \"S\", de = \"S\", fr = \"S\", it = \"S\", es = \"S\" }\n";
        assert!(
            Catalog::from_files([("acme.toml", text.replace("[a-z", "[a-z]").as_str())]).is_ok()
        );
        let err = Catalog::from_files([("acme.toml", text)]).expect_err("a broken pattern");
        let message = err.to_string();
        assert!(
            message.contains("acme.toml") && message.contains("pattern \"[a-z\""),
            "{message}"
        );
    }

    #[test]
    fn oauth_sections_keep_their_rules() {
        assert!(Catalog::from_files([("acme.toml", MINIMAL)]).is_ok());
        let field = "[[fields]]\nid = \"tenant\"\nkind = \"text\"\nlabel = { en = \"T\", de = \"T\", fr = \"T\", it = \"T\", es = \"T\" }\n";
        let cases = [
            (
                MINIMAL.replace(
                    "auth = { type = \"oauth\" }",
                    "auth = { type = \"bearer\", token = \"x\" }",
                ),
                "use auth type oauth",
            ),
            (
                MINIMAL.replace(
                    "[oauth]\n",
                    "[oauth]\nauthorize_params = { state = \"fixed\" }\n",
                ),
                "may not replace",
            ),
            (
                MINIMAL.replace("https://acme.example/token", "http://acme.example/token"),
                "https",
            ),
            (
                MINIMAL.replace(
                    "https://acme.example/authorize",
                    "https://{tenant}.acme.example/authorize",
                ) + field,
                "needs a pattern",
            ),
            (
                MINIMAL.replace(
                    "https://acme.example/authorize",
                    "https://{tenant}.acme.example/authorize",
                ) + &field.replace("\"text\"", "\"secret\""),
                "secret",
            ),
            (
                MINIMAL.replace(
                    "https://acme.example/authorize",
                    "https://{nothing}.acme.example/authorize",
                ),
                "not a field id",
            ),
            (MINIMAL.replace("[oauth]", "[elsewhere]"), "unknown field"),
            (
                MINIMAL.replace(
                    "https://acme.example/authorize",
                    "https://acme.example/apps/{app_name}/authorize",
                ) + "[oauth.app_settings.app_name]\npattern = \"[a-z]+\"\nhelp = \"the app's name\"\n",
                "",
            ),
            (
                MINIMAL.to_owned()
                    + "[oauth.app_settings.app_name]\npattern = \"[a-z]+\"\nhelp = \"the app's name\"\n",
                "not used in an endpoint",
            ),
        ];
        for (text, expected) in cases {
            let loaded = Catalog::from_files([("acme.toml", text.as_str())]);
            if expected.is_empty() {
                assert!(loaded.is_ok(), "{:?}", loaded.err());
                continue;
            }
            let err = loaded.expect_err(expected);
            assert!(
                err.to_string().contains(expected),
                "{err} should say {expected}"
            );
        }
    }

    #[test]
    fn every_signin_shows_its_steps_in_every_language() {
        let catalog = Catalog::builtin().expect("builtin");
        for tool in catalog.tools().filter(|tool| tool.signs_in()) {
            for language in ["en", "de", "fr", "it", "es"] {
                let steps = tool.signin_steps(language, "Acme HR").unwrap_or_default();
                assert!(!steps.is_empty(), "{} in {language}", tool.id);
                assert!(steps.iter().all(|step| !step.contains('{')), "{}", tool.id);
            }
        }
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let text = MINIMAL;
        let err =
            Catalog::from_files([("acme.toml", text), ("acme.toml", text)]).expect_err("duplicate");
        assert!(err.to_string().contains("already defines"));
    }

    #[test]
    fn categories_parse_in_both_spellings() {
        assert_eq!(Category::parse("ATS"), Some(Category::Ats));
        assert_eq!(
            Category::from_path("assessment"),
            Some(Category::Assessment)
        );
        assert_eq!(Category::from_path("HRIS"), None);
        assert_eq!(Category::parse("hris"), None);
    }

    /// The API-key tools that declare no passthrough API, each with the reason in its file:
    /// Kenjo's documentation could not confirm how its login token is sent.
    const TOOLS_WITHOUT_APIS: [&str; 1] = ["kenjo"];

    #[test]
    fn every_api_key_tool_declares_a_passthrough_api() {
        let catalog = Catalog::builtin().expect("builtin");
        for tool in catalog.tools() {
            if tool.auth != AuthKind::ApiKey {
                assert!(!tool.apis.is_empty(), "{}: no passthrough API", tool.id);
                continue;
            }
            let excused = TOOLS_WITHOUT_APIS.contains(&tool.id.as_str());
            assert_eq!(
                tool.apis.is_empty(),
                excused,
                "{}: every api_key tool declares an API, except {TOOLS_WITHOUT_APIS:?}",
                tool.id
            );
        }
        // Kombo's ids, so that client code written for Kombo calls the same API here.
        for (tool, api) in [
            ("ashby", "v1"),
            ("breezyhr", "v3"),
            ("deel", "api"),
            ("factorial", "api"),
            ("greenhouse", "harvestv3"),
            ("hibob", "v1"),
            ("jobvite", "v2"),
            ("recruitee", "default"),
            ("smartrecruiters", "default"),
            ("workable", "v3"),
            ("workday", "custom-report"),
        ] {
            let found = catalog.get(tool).and_then(|tool| tool.api(api));
            assert!(found.is_some(), "{tool}/{api} is missing");
        }
    }

    /// An API-key tool that passes every other rule, for `[[apis]]` cases to be appended to.
    const API_TOOL: &str = r##"id = "acme"
label = "Acme"
categories = ["HRIS"]
color = "#224488"
auth = "api_key"
base_url = "https://api.acme.com"

[[fields]]
id = "subdomain"
kind = "text"
label = { en = "S", de = "S", fr = "S", it = "S", es = "S" }

[[fields]]
id = "api_key"
kind = "secret"
label = { en = "K", de = "K", fr = "K", it = "K", es = "K" }

[guide]
en = ["x"]
de = ["x"]
fr = ["x"]
it = ["x"]
es = ["x"]

[verify]
method = "GET"
path = "/me"
auth = { type = "bearer", token = "{api_key}" }
"##;

    fn with_api(base_url: &str, extra: &str) -> String {
        format!(
            "{API_TOOL}\n[[apis]]\nid = \"v1\"\nbase_url = \"{base_url}\"\n\
             auth = {{ type = \"bearer\", token = \"{{api_key}}\" }}\n{extra}"
        )
    }

    #[test]
    fn apis_with_relative_and_templated_bases_are_accepted() {
        for text in [
            with_api("/", ""),
            with_api("/v1", "headers = { \"X-Api-Version\" = \"1\" }\n"),
            with_api("https://{subdomain}.acme.com/v1", ""),
            with_api(
                "https://reports.acme.com",
                "[[apis]]\nid = \"custom-report\"\nbase_url = \"/c/{subdomain}\"\n\
                 auth = { type = \"token\", url = \"/token\", form = { key = \"{api_key}\" } }\n",
            ),
        ] {
            let catalog = Catalog::from_files([("acme.toml", text.as_str())]);
            assert!(catalog.is_ok(), "{text}: {catalog:?}");
        }
    }

    #[test]
    fn rejects_bad_apis_with_the_file_name() {
        let cases = [
            (
                with_api("/v1", "[[apis]]\nid = \"v1\"\nbase_url = \"/v2\"\nauth = { type = \"none\" }\n"),
                "api id \"v1\" must be unique",
            ),
            (
                with_api("/v1", "").replace("id = \"v1\"", "id = \"a/b\""),
                "api id \"a/b\" must be unique: letters, digits, - and _",
            ),
            (
                with_api("https://{api_key}.acme.com", ""),
                "apis.v1: base_url shows {api_key}, a secret, to the caller",
            ),
            (
                with_api("/v1/../admin", ""),
                "apis.v1.base_url \"/v1/../admin\" must be a plain path",
            ),
            (
                with_api("/v1?debug=1", ""),
                "must be a plain path",
            ),
            (
                with_api("http://api.acme.com/v1", ""),
                "apis.v1.base_url \"http://api.acme.com/v1\" must be https",
            ),
            (
                with_api("/c/{company}", ""),
                "apis.v1: {company} in \"/c/{company}\" is not a field id",
            ),
            (
                with_api("/v1", "headers = { \"X Version\" = \"1\" }\n"),
                "apis.v1: \"X Version\" is not a header name",
            ),
            (
                with_api("/v1", "").replace(
                    "base_url = \"/v1\"\nauth = { type = \"bearer\", token = \"{api_key}\" }",
                    "base_url = \"/v1\"\nauth = { type = \"token\", url = \"http://auth.acme.com/token\" }",
                ),
                "apis.v1.auth.url \"http://auth.acme.com/token\" must be https",
            ),
            (
                with_api("/v1", "").replace("type = \"bearer\"", "type = \"cookie\""),
                "unknown variant",
            ),
        ];
        for (text, expected) in cases {
            let err = Catalog::from_files([("acme.toml", text.as_str())]).expect_err(expected);
            let message = err.to_string();
            assert!(message.contains("acme.toml"), "{message}");
            assert!(
                message.contains(expected),
                "{message} should say {expected}"
            );
        }
    }

    /// Every API-key tool needs a base URL and development tools may lack one, so no file
    /// reaches this rule today; it guards tools whose requirements change.
    #[test]
    fn a_relative_api_base_needs_the_tools_base_url() {
        let mut tool: Tool = toml::from_str(&with_api("/v1", "")).expect("valid");
        assert_eq!(validate_apis(&tool), Ok(()));
        tool.base_url = None;
        let message = validate_apis(&tool).expect_err("no base_url");
        assert_eq!(
            message,
            "apis.v1.base_url \"/v1\" is relative but the tool has no base_url"
        );
        tool.apis[0].base_url = "https://api.acme.com/v1".into();
        assert_eq!(validate_apis(&tool), Ok(()));
    }
}
