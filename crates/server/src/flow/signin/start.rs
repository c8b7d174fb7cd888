//! `GET /connect/oauth/start`: an attempt recorded, its cookie set, the browser sent to the
//! vendor.

use axum::{
    extract::{Query, State, rejection::QueryRejection},
    http::{HeaderMap, header},
    response::{IntoResponse, Redirect, Response},
};
use chrono::Utc;
use plugboard_catalog::Tool;
use plugboard_store::{OauthAttempt, ids};
use zeroize::Zeroizing;

use super::{ATTEMPT_TTL, Mode, Secrets, cookie, private, random_value, sha256, typed_first};
use crate::flow::{
    FIELD_PREFIX, Link, chosen_tool, open_page_link,
    pages::{self, Problem},
    problem_of, step,
};
use crate::{
    AppState, audit,
    integrations::Credentials,
    oauth::{self, apps, client},
    tools::SignIns,
    vault::Purpose,
};

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
