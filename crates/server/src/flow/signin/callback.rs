//! `GET /connect/oauth/callback`: the vendor's answer checked, the code exchanged, the
//! integration created; the popup told how it ended.

use axum::{
    extract::{Query, State, rejection::QueryRejection},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{Duration, Utc};
use plugboard_catalog::Tool;
use plugboard_store::OauthAttempt;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{
    Ending, Mode, Secrets, cookie, cookie_name, cookie_value, finish_href, private, sha256,
};
use crate::flow::{
    Link, accept_language, open_link,
    pages::{self, Problem},
    problem_of, step, tr_for,
    verify::Outcome,
};
use crate::{
    AppState, audit,
    integrations::{self, Credentials},
    links::LinkKind,
    oauth::{self, client::TokenRequest},
    vault::Purpose,
};

/// What the vendor sends back (RFC 6749 §4.1.2, RFC 9207). No `Debug`: it holds the code.
#[derive(Default, Deserialize)]
pub(crate) struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

/// `GET /connect/oauth/callback`: the vendor's answer. Whatever happens, the attempt ends
/// here: its state is consumed first, so a replayed callback finds nothing.
pub(crate) async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: audit::Client,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let plain_problem = |problem| private(pages::problem(&state, problem, tr_for(&headers), None));
    let Some(oauth_state) = query
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 512)
    else {
        return plain_problem(Problem::Invalid);
    };
    if let Err(refused) = state.limits.pages_per_client.check_client(client.ip) {
        let wait = Problem::RateLimited(refused.retry_after);
        return refused.page(plain_problem(wait));
    }
    let attempt = match state
        .store
        .consume_oauth_attempt(&sha256(oauth_state), Utc::now())
        .await
    {
        Ok(Some(attempt)) => attempt,
        Ok(None) => return plain_problem(Problem::SigninExpired),
        Err(error) => return plain_problem(problem_of(error.into())),
    };
    let Some(secrets) = open_secrets(&state, &attempt) else {
        end_attempt(&state, &attempt.id, Ending::LinkProblem).await;
        return plain_problem(Problem::Server);
    };
    let clear = cookie(&state, &attempt.id, "", Duration::zero());
    let link = match open_link(&state, &secrets.link, accept_language(&headers)).await {
        Ok(link) => link,
        Err((problem, tr)) => {
            end_attempt(&state, &attempt.id, Ending::LinkProblem).await;
            let page = pages::problem(&state, problem, tr, None);
            return with_cookie(private(page), clear);
        }
    };
    let ending = match check_callback(&state, &headers, &attempt, &secrets, &query) {
        Err(ending) => ending,
        Ok(code) => connect(&state, &client, &link, &attempt, &secrets, code).await,
    };
    if ending != Ending::Done {
        end_attempt(&state, &attempt.id, ending).await;
        crate::flow::submit::record_failure_reason(&state, &link, &attempt.tool, ending.as_str())
            .await;
    }
    let response = match secrets.mode {
        Mode::Redirect => {
            Redirect::to(&finish_href(&link, &attempt.tool, &attempt.id)).into_response()
        }
        Mode::Popup => pages::signin_callback(&state, &link, &attempt.id, ending),
    };
    with_cookie(private(response), clear)
}

fn with_cookie(mut response: Response, cookie: HeaderValue) -> Response {
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

fn open_secrets(state: &AppState, attempt: &OauthAttempt) -> Option<Secrets> {
    let plaintext = state
        .vault
        .open(Purpose::OauthAttempt, &attempt.id, &attempt.sealed)
        .map_err(
            |error| tracing::error!(attempt = %attempt.id, %error, "opening a sign-in attempt"),
        )
        .ok()?;
    // The error could quote the plaintext: only its kind is logged.
    serde_json::from_slice(&plaintext)
        .map_err(|error| {
            tracing::error!(attempt = %attempt.id, kind = ?error.classify(), "reading a sign-in attempt");
        })
        .ok()
}

/// The callback's checks before the code is used: the browser is the one that started, the
/// issuer is the vendor's, the vendor sent a code. The code, or how the attempt ends.
fn check_callback<'q>(
    state: &AppState,
    headers: &HeaderMap,
    attempt: &OauthAttempt,
    secrets: &Secrets,
    query: &'q CallbackQuery,
) -> Result<&'q str, Ending> {
    let presented = cookie_value(headers, &cookie_name(state, &attempt.id));
    let same_browser =
        presented.is_some_and(|value| bool::from(sha256(&value).ct_eq(&attempt.browser_hash)));
    if !same_browser {
        tracing::warn!(attempt = %attempt.id, tool = %attempt.tool, "sign-in callback without the browser's cookie");
        return Err(Ending::Refused);
    }
    let issuer_matches = match &query.iss {
        Some(iss) => iss.trim_end_matches('/') == secrets.issuer.trim_end_matches('/'),
        None => !secrets.issuer_required,
    };
    if !issuer_matches {
        tracing::warn!(attempt = %attempt.id, tool = %attempt.tool, "sign-in callback from another issuer, or without the one the vendor sends (mix-up refused)");
        return Err(Ending::Refused);
    }
    if let Some(error) = &query.error {
        // Only the code is logged: a description is the vendor's free text.
        let code: String = error
            .chars()
            .filter(char::is_ascii_graphic)
            .take(60)
            .collect();
        tracing::info!(attempt = %attempt.id, tool = %attempt.tool, error = %code, "the vendor ended the sign-in with an error");
        return Err(if error == "access_denied" {
            Ending::Denied
        } else {
            Ending::VendorError
        });
    }
    query
        .code
        .as_deref()
        .filter(|code| !code.is_empty() && code.len() <= 4096)
        .ok_or(Ending::VendorError)
}

/// Exchanges the code, verifies the tokens with the tool, and creates (or relinks) the
/// integration, keeping the activation token sealed in the attempt for [`finish`].
async fn connect(
    state: &AppState,
    client: &audit::Client,
    link: &Link,
    attempt: &OauthAttempt,
    secrets: &Secrets,
    code: &str,
) -> Ending {
    let Some(tool) = state.catalog.get(&attempt.tool) else {
        return Ending::LinkProblem;
    };
    let parts = match oauth::tokens::TokenParts::load(state, tool, &secrets.app, &secrets.values)
        .await
    {
        Ok(parts) => parts,
        Err(error) => {
            tracing::error!(attempt = %attempt.id, %error, "loading the OAuth app for a callback");
            return Ending::ExchangeFailed;
        }
    };
    let request: TokenRequest<'_> = parts.request();
    let tokens = match request
        .exchange_code(code, secrets.verifier.as_deref())
        .await
    {
        Ok(tokens) => tokens,
        Err(error) => {
            tracing::warn!(attempt = %attempt.id, tool = %tool.id, error = %error, "code exchange failed");
            state.metrics.oauth_refresh(error.as_str());
            return Ending::ExchangeFailed;
        }
    };
    let mut credentials = secrets.values.clone();
    tokens.write_into(&mut credentials);
    drop(tokens);
    let credentials = integrations::Opened::new(credentials);
    if let Err(ending) = verified(state, client, link, tool, credentials.get()).await {
        return ending;
    }
    let completed = match link.claims.kind {
        LinkKind::Connect => {
            integrations::complete_connection(state, &link.claims, &tool.id, credentials.get())
                .await
        }
        LinkKind::Relink => {
            integrations::complete_relink(state, &link.claims, credentials.get()).await
        }
    };
    let activation_token = match completed {
        Ok(token) => Zeroizing::new(token),
        Err(error) => {
            tracing::info!(attempt = %attempt.id, %error, "the link could not complete after signing in");
            return Ending::LinkProblem;
        }
    };
    let mut entry = step(audit::Action::LinkCompleted, link)
        .detail("tool", tool.id.clone())
        .detail("method", "oauth");
    if let Some(integration) = &link.claims.iid {
        entry = entry.target("integration", integration);
    }
    audit::record(state, &link.environment.id, entry, Some(client)).await;
    let sealed = state.vault.seal(
        Purpose::OauthAttempt,
        &attempt.id,
        activation_token.as_bytes(),
    );
    match state
        .store
        .finish_oauth_attempt(&attempt.id, Ending::Done.as_str(), Some(&sealed))
        .await
    {
        Ok(_) => Ending::Done,
        Err(error) => {
            tracing::error!(attempt = %attempt.id, %error, "recording a finished sign-in");
            Ending::LinkProblem
        }
    }
}

/// Asks the tool whether the fresh tokens work, with the audit entries of a verification.
async fn verified(
    state: &AppState,
    client: &audit::Client,
    link: &Link,
    tool: &Tool,
    credentials: &Credentials,
) -> Result<(), Ending> {
    let outcome = state.flow.verifier.verify(tool, credentials).await;
    state.metrics.verification(outcome.as_str());
    let action = if outcome == Outcome::Connected {
        audit::Action::LinkVerificationSucceeded
    } else {
        audit::Action::LinkVerificationFailed
    };
    let entry = step(action, link)
        .detail("tool", tool.id.clone())
        .detail("method", "oauth")
        .detail("outcome", outcome.as_str());
    audit::record(state, &link.environment.id, entry, Some(client)).await;
    match outcome {
        Outcome::Connected => Ok(()),
        // The account signed in, but the tool does not let it read.
        Outcome::InvalidCredentials | Outcome::MissingPermission => {
            tracing::info!(tool = %tool.id, outcome = outcome.as_str(), link_id = %link.claims.jti, "signed-in tokens did not verify");
            Err(Ending::Unverified)
        }
        // The tool could not say: the end user can only try again later.
        Outcome::WrongInstance | Outcome::RateLimited | Outcome::Unreachable => {
            tracing::warn!(tool = %tool.id, outcome = outcome.as_str(), link_id = %link.claims.jti, "the tool could not verify signed-in tokens");
            Err(Ending::VendorError)
        }
    }
}

async fn end_attempt(state: &AppState, id: &str, ending: Ending) {
    if let Err(error) = state
        .store
        .finish_oauth_attempt(id, ending.as_str(), None)
        .await
    {
        tracing::error!(attempt = %id, %error, "recording how a sign-in ended");
    }
}
