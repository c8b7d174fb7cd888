//! `GET /connect/oauth/status` and `GET /connect/oauth/finish`: the flow page learns how an
//! attempt ended, and gets the activation token once.

use axum::{
    Json,
    extract::{Query, State, rejection::QueryRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use plugboard_store::ids;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{Ending, private};
use crate::flow::{
    Link, accept_language,
    pages::{self, Problem, SigninEnd},
    problem_of, tr_for,
};
use crate::{AppState, audit, vault::Purpose};

/// Query of the flow's questions about an attempt. No `Debug`: it holds the link token.
#[derive(Default, Deserialize)]
pub(crate) struct AttemptQuery {
    token: Option<String>,
    tool: Option<String>,
    attempt: Option<String>,
    /// `closed` or `blocked`: the flow page saw the popup closed before it ended, or never
    /// open.
    gave_up: Option<String>,
}

/// The answer of [`status`].
#[derive(Debug, Serialize)]
struct Status {
    /// `null` while the sign-in goes on, then how it ended (`done`, `denied`, …).
    outcome: Option<&'static str>,
}

/// `GET /connect/oauth/status`: how attempt `attempt` of the link stands, for the flow page
/// that waits for its popup (a popup that lost its opener cannot tell it).
pub(crate) async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: audit::Client,
    query: Result<Query<AttemptQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    // A sign-in that connected has used its link: the page waiting for it must still learn so.
    let link = match finished_link(&state, &headers, &client, query.token.as_deref()) {
        Ok(link) => link,
        Err(refused) => return private(refused),
    };
    let attempt = query.attempt.as_deref().unwrap_or_default();
    let outcome = match state.store.oauth_attempt(&link.claims.jti, attempt).await {
        Ok(Some(attempt)) => attempt
            .outcome
            .as_deref()
            .and_then(Ending::parse)
            .map(Ending::as_str),
        Ok(None) => None,
        Err(error) => {
            tracing::warn!(%error, "reading a sign-in attempt");
            return private(StatusCode::SERVICE_UNAVAILABLE.into_response());
        }
    };
    private(Json(Status { outcome }).into_response())
}

/// The link of a finish page. A sign-in that connected has used its link, so here the link
/// is only checked to be genuine and unexpired (and rate-limited like every page): what the
/// page shows is the outcome of an attempt of this very link, which the store hands out once.
#[expect(
    clippy::result_large_err,
    reason = "the refusal is the finished page, returned once to the handler"
)]
fn finished_link(
    state: &AppState,
    headers: &HeaderMap,
    client: &audit::Client,
    token: Option<&str>,
) -> Result<Link, Response> {
    let tr = tr_for(headers);
    if let Err(refused) = state.limits.pages_per_client.check_client(client.ip) {
        let wait = Problem::RateLimited(refused.retry_after);
        return Err(refused.page(pages::problem(state, wait, tr, None)));
    }
    let token = token.unwrap_or_default();
    let claims = crate::tokens::verify_link(&state.vault, token, Utc::now())
        .map_err(|_| pages::problem(state, Problem::Invalid, tr, None))?;
    let tr = crate::flow::i18n::Tr::for_link(claims.lang, accept_language(headers));
    let environment = state
        .environments
        .by_id(&claims.env)
        .cloned()
        .ok_or_else(|| pages::problem(state, Problem::Invalid, tr, None))?;
    let link = Link {
        token: token.to_owned(),
        claims,
        environment,
        tr,
    };
    if let Err(refused) = state.limits.pages.check(&link.claims.jti) {
        let wait = Problem::RateLimited(refused.retry_after);
        return Err(refused.page(pages::problem(state, wait, link.tr, Some(&link))));
    }
    Ok(link)
}

/// `GET /connect/oauth/finish`: the flow page after a sign-in: connected (the success page,
/// with the activation token, handed out once), or what went wrong and a way to try again.
pub(crate) async fn finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: audit::Client,
    query: Result<Query<AttemptQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let link = match finished_link(&state, &headers, &client, query.token.as_deref()) {
        Ok(link) => link,
        Err(refused) => return private(refused),
    };
    let refuse = |problem| private(pages::problem(&state, problem, link.tr, Some(&link)));
    let tool_id = link.claims.tool.as_deref().or(query.tool.as_deref());
    let Some(tool) = tool_id
        .and_then(|id| state.catalog.get(id))
        .filter(|t| t.signs_in())
    else {
        return refuse(Problem::ToolUnavailable);
    };
    let attempt = query.attempt.as_deref().unwrap_or_default();
    match query.gave_up.as_deref() {
        // The popup never opened: there is no attempt to end.
        Some("blocked") => {
            // No attempt exists to tie this to: only a link that can still be used reports it.
            if let Err(error) = crate::links::check(&state, &link.claims).await {
                return refuse(problem_of(error));
            }
            crate::flow::submit::record_failure_reason(
                &state,
                &link,
                &tool.id,
                Ending::Blocked.as_str(),
            )
            .await;
            return private(pages::signin_end(
                &state,
                &link,
                tool,
                SigninEnd::Failed(Ending::Blocked),
            ));
        }
        // Closed, or so it looks (see `SigninEnd::Closed`): unless the callback has already
        // ended the attempt, say so, and keep waiting for it quietly.
        Some("closed") if ids::is_id(attempt) => {
            let pending = matches!(
                state.store.oauth_attempt(&link.claims.jti, attempt).await,
                Ok(Some(found)) if found.outcome.is_none()
            );
            if pending {
                crate::flow::submit::record_failure_reason(
                    &state,
                    &link,
                    &tool.id,
                    Ending::Closed.as_str(),
                )
                .await;
                return private(pages::signin_end(
                    &state,
                    &link,
                    tool,
                    SigninEnd::Closed(attempt),
                ));
            }
        }
        _ => {}
    }
    let result = match state
        .store
        .take_oauth_result(&link.claims.jti, attempt)
        .await
    {
        Ok(result) => result,
        Err(error) => return refuse(problem_of(error.into())),
    };
    let Some(result) = result else {
        // Unknown, already read, or still going on (the callback is on its way).
        let outcome = match state.store.oauth_attempt(&link.claims.jti, attempt).await {
            Ok(Some(attempt)) => Some(attempt.outcome),
            _ => None,
        };
        return private(match outcome {
            Some(None) => pages::signin_end(&state, &link, tool, SigninEnd::Pending(attempt)),
            // Connected, and its page already shown (a reload): the link is used.
            Some(Some(done)) if done == Ending::Done.as_str() => {
                pages::problem(&state, Problem::Used, link.tr, Some(&link))
            }
            _ => pages::signin_end(&state, &link, tool, SigninEnd::Failed(Ending::Closed)),
        });
    };
    let ending = Ending::parse(&result.outcome).unwrap_or(Ending::VendorError);
    if ending != Ending::Done {
        return private(pages::signin_end(
            &state,
            &link,
            tool,
            SigninEnd::Failed(ending),
        ));
    }
    let Some(sealed) = result.result else {
        return refuse(Problem::Server);
    };
    let token = match state.vault.open(Purpose::OauthAttempt, attempt, &sealed) {
        Ok(plaintext) => Zeroizing::new(String::from_utf8_lossy(&plaintext).into_owned()),
        Err(error) => {
            tracing::error!(%attempt, %error, "opening a sign-in's activation token");
            return refuse(Problem::Server);
        }
    };
    let framed = headers
        .get("sec-fetch-dest")
        .is_some_and(|dest| dest.as_bytes() == b"iframe");
    private(pages::success(&state, &link, tool, &token, framed))
}
