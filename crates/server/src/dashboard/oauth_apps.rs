//! OAuth apps: for each tool end users sign in to, whether the environment has an app (client
//! id, revision, when saved) and the redirect URI to register at the vendor; a tool's form
//! saves a new revision (the client secret is written, never shown) or removes the app.

use askama::Template;
use axum::{
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::Response,
};
use plugboard_catalog::Tool;
use plugboard_store::{Environment, OauthApp};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{
    Env,
    session::{AdminPost, Signed},
    views::{self, Ui, when},
};
use crate::{
    AppState,
    error::DomainError,
    oauth::{
        self,
        apps::{self, AppInput},
    },
};

/// One sign-in tool in the list.
struct Row {
    href: String,
    label: String,
    client_id: Option<String>,
    revision: Option<u32>,
    saved: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/oauth_apps.html")]
struct ListPage {
    ui: Ui,
    redirect_uri: String,
    rows: Vec<Row>,
}

fn tool_href(environment: &Environment, tool: &str) -> String {
    format!("/dashboard/{}/oauth-apps/{tool}", environment.name.as_str())
}

/// `GET /dashboard/{env}/oauth-apps`.
pub(crate) async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Env(environment): Env,
    query: Result<Query<views::DoneQuery>, QueryRejection>,
) -> Response {
    let done = query.ok().and_then(|Query(query)| query.done);
    let current = match apps::list(&state, &environment).await {
        Ok(current) => current,
        Err(error) => return views::problem(&state, &signed.signed_in, error),
    };
    let rows = state
        .catalog
        .tools()
        .filter(|tool| tool.signs_in())
        .map(|tool| {
            let app = current.iter().find(|app| app.tool == tool.id);
            Row {
                href: tool_href(&environment, &tool.id),
                label: tool.label.clone(),
                client_id: app.map(|app| app.client_id.clone()),
                revision: app.map(|app| app.revision),
                saved: app.map(|app| when(app.created_at)),
            }
        })
        .collect();
    let page = ListPage {
        ui: Ui::new(
            &state,
            Some(&signed.signed_in),
            Some((&environment, "/oauth-apps")),
            "oauth",
            views::t("oauth-title"),
        )
        .notice(done.as_deref()),
        redirect_uri: oauth::redirect_uri(&state.config),
        rows,
    };
    views::render(&page, StatusCode::OK)
}

/// A setting the tool's URLs need of the app, as a form field.
struct SettingField {
    name: String,
    value: String,
    pattern: String,
    help: String,
}

#[derive(Template)]
#[template(path = "dashboard/oauth_app.html")]
struct ToolPage {
    ui: Ui,
    base: String,
    redirect_uri: String,
    docs: String,
    configured: bool,
    revision: Option<u32>,
    saved: Option<String>,
    client_id: String,
    scopes: String,
    default_scopes: String,
    settings: Vec<SettingField>,
    error: Option<String>,
}

/// What the form shows: the current app's values, or what was posted when refused.
struct Values {
    client_id: String,
    scopes: String,
    settings: Vec<(String, String)>,
}

fn tool_page(
    state: &AppState,
    signed: &Signed,
    environment: &Environment,
    tool: &Tool,
    app: Option<&OauthApp>,
    values: Option<Values>,
    error: Option<String>,
) -> ToolPage {
    let values = values.unwrap_or_else(|| Values {
        client_id: app.map(|app| app.client_id.clone()).unwrap_or_default(),
        scopes: app
            .and_then(|app| app.scopes.as_ref())
            .map(|scopes| scopes.join(" "))
            .unwrap_or_default(),
        settings: app
            .map(|app| app.settings.clone().into_iter().collect())
            .unwrap_or_default(),
    });
    let oauth = tool.oauth.as_ref();
    let settings = oauth
        .map(|oauth| {
            oauth
                .app_settings
                .iter()
                .map(|(name, setting)| SettingField {
                    value: values
                        .settings
                        .iter()
                        .find(|(key, _)| key == name)
                        .map(|(_, value)| value.clone())
                        .unwrap_or_default(),
                    pattern: setting.pattern.as_str().to_owned(),
                    help: setting.help.clone(),
                    name: name.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    ToolPage {
        ui: Ui::new(
            state,
            Some(&signed.signed_in),
            Some((environment, &format!("/oauth-apps/{}", tool.id))),
            "oauth",
            tool.label.clone(),
        ),
        base: tool_href(environment, &tool.id),
        redirect_uri: oauth::redirect_uri(&state.config),
        docs: format!("docs/oauth-tools.md#{}", tool.id),
        configured: app.is_some(),
        revision: app.map(|app| app.revision),
        saved: app.map(|app| when(app.created_at)),
        client_id: values.client_id,
        scopes: values.scopes,
        default_scopes: oauth
            .map(|oauth| oauth.scopes.join(" "))
            .unwrap_or_default(),
        settings,
        error,
    }
}

/// `GET /dashboard/{env}/oauth-apps/{tool}`.
pub(crate) async fn detail(
    State(state): State<AppState>,
    signed: Signed,
    Env(environment): Env,
    Path((_, tool)): Path<(String, String)>,
    query: Result<Query<views::DoneQuery>, QueryRejection>,
) -> Response {
    let done = query.ok().and_then(|Query(query)| query.done);
    let tool = match apps::oauth_tool(&state, &tool) {
        Ok(tool) => tool,
        Err(_) => {
            let missing = crate::error::Missing::OauthApp(tool);
            return views::problem(&state, &signed.signed_in, DomainError::NotFound(missing));
        }
    };
    let app = match apps::current(&state, &environment, &tool.id).await {
        Ok(app) => Some(app),
        Err(DomainError::NotFound(_)) => None,
        Err(error) => return views::problem(&state, &signed.signed_in, error),
    };
    let page = tool_page(
        &state,
        &signed,
        &environment,
        tool,
        app.as_ref(),
        None,
        None,
    );
    let page = ToolPage {
        ui: page.ui.notice(done.as_deref()),
        ..page
    };
    views::render(&page, StatusCode::OK)
}

/// The save form's fields: `client_id`, `client_secret`, `scopes` and `setting.<name>`. No
/// `Debug`: it holds the client secret.
#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct SaveForm(Vec<(String, String)>);

impl SaveForm {
    fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim().to_owned())
            .unwrap_or_default()
    }
}

/// `POST /dashboard/{env}/oauth-apps/{tool}`: a new revision.
pub(crate) async fn save(
    State(state): State<AppState>,
    Env(environment): Env,
    Path((_, tool)): Path<(String, String)>,
    AdminPost(posted): AdminPost<SaveForm>,
) -> Response {
    let signed = &posted.signed;
    let form = posted.form;
    let scopes_text = form.get("scopes");
    let scopes = (!scopes_text.is_empty()).then(|| {
        scopes_text
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    });
    let settings: Vec<(String, String)> = form
        .0
        .iter()
        .filter_map(|(key, value)| {
            key.strip_prefix("setting.")
                .map(|name| (name.to_owned(), value.trim().to_owned()))
        })
        .collect();
    let input = AppInput {
        client_id: form.get("client_id"),
        client_secret: Zeroizing::new(form.get("client_secret")),
        scopes,
        settings: settings.iter().cloned().collect(),
    };
    match apps::save(&state, &environment, &tool, input, &signed.caller()).await {
        Ok(app) => views::see_other(&format!(
            "{}?done=oauth-saved",
            tool_href(&environment, &app.tool)
        )),
        Err(DomainError::Invalid { field, message }) if field != "tool" => {
            let Ok(catalog_tool) = apps::oauth_tool(&state, &tool) else {
                return views::problem(
                    &state,
                    &signed.signed_in,
                    DomainError::invalid(field, message),
                );
            };
            let app = apps::current(&state, &environment, &catalog_tool.id)
                .await
                .ok();
            let values = Values {
                client_id: form.get("client_id"),
                scopes: scopes_text,
                settings,
            };
            let error = Some(format!("{field}: {message}"));
            let page = tool_page(
                &state,
                signed,
                &environment,
                catalog_tool,
                app.as_ref(),
                Some(values),
                error,
            );
            views::render(&page, StatusCode::BAD_REQUEST)
        }
        Err(error) => views::problem(&state, &signed.signed_in, error),
    }
}

/// `POST /dashboard/{env}/oauth-apps/{tool}/remove`.
pub(crate) async fn remove(
    State(state): State<AppState>,
    Env(environment): Env,
    Path((_, tool)): Path<(String, String)>,
    AdminPost(posted): AdminPost<views::NoFields>,
) -> Response {
    let caller = posted.signed.caller();
    match apps::remove(&state, &environment, &tool, &caller).await {
        Ok(()) => views::see_other(&format!(
            "/dashboard/{}/oauth-apps?done=oauth-removed",
            environment.name.as_str()
        )),
        Err(error) => views::problem(&state, &posted.signed.signed_in, error),
    }
}
