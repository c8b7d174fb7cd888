//! `POST /connect/verify`, one step at a time: [`parse`] reads the form, [`admit`] decides
//! whether this attempt may be tried, [`verify`] asks the tool, and [`complete`] creates the
//! integration. A step that stops the submission answers with the page the end user sees next.

use std::collections::BTreeMap;

use axum::{
    Form,
    extract::rejection::FormRejection,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use chrono::Utc;
use plugboard_catalog::{FieldProblem, Tool};

use super::{
    FIELD_PREFIX, Link, accept_language, chosen_tool, open_link,
    pages::{self, CredentialsForm, Problem},
    problem_of, same_origin, step, tr_for, verify,
};
use crate::{
    AppState, audit,
    integrations::{self, Credentials},
    links::LinkKind,
    ratelimit::Refused,
    tokens,
};

/// What each invalid field's value breaks, by field id.
pub(super) type FieldProblems = BTreeMap<String, FieldProblem>;

/// A posted credentials form, read: the link it belongs to, the tool and the values.
pub(super) struct Submission<'a> {
    link: Link,
    tool: &'a Tool,
    /// Every field of the tool, trimmed; empty when not posted.
    credentials: Credentials,
    /// The signed form state posted back (`tokens::sign_form_state`).
    state: String,
}

impl Submission<'_> {
    /// The form again, with the values as posted and `problems` beside their fields.
    fn form(&self, problems: &FieldProblems) -> CredentialsForm {
        CredentialsForm::submitted(&self.link, self.tool, &self.credentials, problems)
    }

    /// The credentials page showing `form`.
    fn page(&self, state: &AppState, form: CredentialsForm, status: StatusCode) -> Response {
        pages::credentials(state, &self.link, self.tool, form, status)
    }

    /// The form as posted, with `problems` and `summary` at the top.
    fn summarised(
        &self,
        state: &AppState,
        problems: &FieldProblems,
        summary: String,
        status: StatusCode,
    ) -> Response {
        let mut form = self.form(problems);
        form.summary = Some(summary);
        self.page(state, form, status)
    }

    /// Whether the posted form state was signed by us, for this link and tool, and recently
    /// (`tokens::verify_form_state`): the form came from our own credentials page.
    fn state_is_genuine(&self, state: &AppState) -> bool {
        let (link_id, tool) = (&self.link.claims.jti, &self.tool.id);
        tokens::verify_form_state(&state.vault, link_id, tool, &self.state, Utc::now())
    }

    /// The page explaining why this link cannot go on.
    fn problem(&self, state: &AppState, problem: Problem) -> Response {
        pages::problem(state, problem, self.link.tr, Some(&self.link))
    }
}

/// Reads the form: opens its link, then takes the tool and one value per field of the tool.
/// A post from another site is refused as soon as the link is known (its refusal page speaks
/// the link's language), before the rest of the form is read.
pub(super) async fn parse<'s>(
    state: &'s AppState,
    headers: &HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Submission<'s>, Response> {
    let Ok(Form(pairs)) = form else {
        let tr = tr_for(headers);
        return Err(pages::problem(state, Problem::Invalid, tr, None));
    };
    let value = |name: &str| {
        let pair = pairs.iter().find(|(key, _)| key == name);
        pair.map_or("", |(_, value)| value.as_str())
    };
    let link = open_link(state, value("token"), accept_language(headers))
        .await
        .map_err(|(problem, tr)| pages::problem(state, problem, tr, None))?;
    let refuse = |problem| pages::problem(state, problem, link.tr, Some(&link));
    if !same_origin(state, headers) {
        return Err(refuse(Problem::Forbidden));
    }
    let sign_ins = match crate::tools::SignIns::of(state, &link.environment).await {
        Ok(sign_ins) => sign_ins,
        Err(error) => return Err(refuse(problem_of(error.into()))),
    };
    let tool = match chosen_tool(state, &link, Some(value("tool")), &sign_ins) {
        Some(Ok(tool)) if tool.id == value("tool") => tool,
        Some(Err(problem)) => return Err(refuse(problem)),
        _ => return Err(refuse(Problem::ToolUnavailable)),
    };
    let credentials = tool
        .fields
        .iter()
        .map(|field| {
            let raw = value(&format!("{FIELD_PREFIX}{}", field.id));
            (field.id.clone(), raw.trim().to_owned())
        })
        .collect();
    let state = value("state").to_owned();
    Ok(Submission {
        link,
        tool,
        credentials,
        state,
    })
}

/// Whether the submission may be tried: its form state is genuine and fresh, every value
/// passes its field's check, and no rate limit is exceeded. Otherwise the form again, saying
/// why (400, 422 or 429).
#[expect(
    clippy::result_large_err,
    reason = "the refusal is the finished page, returned once to the handler"
)]
pub(super) fn admit<'s>(
    state: &AppState,
    client: &audit::Client,
    submission: Submission<'s>,
) -> Result<Submission<'s>, Response> {
    let Submission { link, tool, .. } = &submission;
    let problems = check_fields(tool, &submission.credentials);
    if !submission.state_is_genuine(state) {
        let expired = link.tr.t("form-expired");
        return Err(submission.summarised(state, &problems, expired, StatusCode::BAD_REQUEST));
    }
    if !problems.is_empty() {
        let form = submission.form(&problems);
        return Err(submission.page(state, form, StatusCode::UNPROCESSABLE_ENTITY));
    }
    if let Err(refused) = check_limits(state, client, link) {
        // The page says the same wait as `Retry-After`.
        let wait = link
            .tr
            .t_count("too-many-attempts", "seconds", refused.retry_after);
        let page = submission.summarised(state, &problems, wait, StatusCode::TOO_MANY_REQUESTS);
        return Err(refused.page(page));
    }
    Ok(submission)
}

/// Each field's problem with its value, by the catalog's rule for the field.
fn check_fields(tool: &Tool, credentials: &Credentials) -> FieldProblems {
    tool.fields
        .iter()
        .filter_map(|field| {
            let value = credentials.get(&field.id).map_or("", String::as_str);
            let problem = field.check(value).err()?;
            Some((field.id.clone(), problem))
        })
        .collect()
}

/// The credential attempt limits. Per client first and per environment last, so that a
/// refusal by a narrower limit does not use up the environment's allowance.
fn check_limits(state: &AppState, client: &audit::Client, link: &Link) -> Result<(), Refused> {
    let limits = &state.limits;
    limits
        .credentials_per_client
        .check_client(client.ip)
        .and_then(|()| limits.credentials.check(&link.claims.jti))
        .and_then(|()| {
            limits
                .credentials_per_environment
                .check(&link.environment.id)
        })
}

/// Asks the tool whether the credentials work, with an audit entry before and after. When
/// they do not: the `connection-flow-failed` event, and the form again saying why (422).
pub(super) async fn verify(
    state: &AppState,
    client: &audit::Client,
    submission: &Submission<'_>,
) -> Result<(), Response> {
    let Submission { link, tool, .. } = submission;
    let submitted =
        step(audit::Action::LinkCredentialsSubmitted, link).detail("tool", tool.id.clone());
    audit::record(state, &link.environment.id, submitted, Some(client)).await;
    let outcome = state
        .flow
        .verifier
        .verify(tool, &submission.credentials)
        .await;
    state.metrics.verification(outcome.as_str());
    let connected = outcome == verify::Outcome::Connected;
    let verified = if connected {
        audit::Action::LinkVerificationSucceeded
    } else {
        audit::Action::LinkVerificationFailed
    };
    let entry = step(verified, link)
        .detail("tool", tool.id.clone())
        .detail("outcome", outcome.as_str());
    audit::record(state, &link.environment.id, entry, Some(client)).await;
    if connected {
        return Ok(());
    }
    tracing::info!(tool = %tool.id, outcome = outcome.as_str(), link_id = %link.claims.jti, "credentials did not verify");
    record_failure_reason(state, link, &tool.id, outcome.as_str()).await;
    let mut form = submission.form(&FieldProblems::new());
    form.summary = Some(pages::outcome_message(&link.tr, tool, outcome));
    form.failure = Some(outcome.as_str());
    Err(submission.page(state, form, StatusCode::UNPROCESSABLE_ENTITY))
}

/// Writes `connection-flow-failed` for `tool`, with `reason` (a verification outcome, or how a
/// sign-in ended) in its log. A failure to write it must not hide the end user's real problem,
/// so it is logged rather than shown.
pub(super) async fn record_failure_reason(state: &AppState, link: &Link, tool: &str, reason: &str) {
    let end_user = plugboard_store::EndUser {
        email: link.claims.email.clone(),
        organization_name: link.claims.org.clone(),
        origin_id: link.claims.oid.clone(),
    };
    let event = crate::events::connection_flow_failed(
        &link.environment.id,
        tool,
        link.claims.cat,
        &end_user,
        reason,
        |path| state.config.public(path),
        Utc::now(),
    );
    if let Err(error) = state.store.record_event(&event).await {
        tracing::error!(%error, "could not record connection-flow-failed");
    }
}

/// Creates the integration (or renews a relinked one's credentials) and shows the success
/// page, which hands over the activation token; or the page saying why the link cannot end.
pub(super) async fn complete(
    state: &AppState,
    headers: &HeaderMap,
    client: &audit::Client,
    submission: Submission<'_>,
) -> Response {
    let Submission {
        link,
        tool,
        credentials,
        ..
    } = &submission;
    let completed = match link.claims.kind {
        LinkKind::Connect => {
            integrations::complete_connection(state, &link.claims, &tool.id, credentials).await
        }
        LinkKind::Relink => integrations::complete_relink(state, &link.claims, credentials).await,
    };
    let activation_token = match completed {
        Ok(token) => token,
        Err(error) => return submission.problem(state, problem_of(error)),
    };
    let mut entry = step(audit::Action::LinkCompleted, link).detail("tool", tool.id.clone());
    if let Some(integration) = &link.claims.iid {
        entry = entry.target("integration", integration);
    }
    audit::record(state, &link.environment.id, entry, Some(client)).await;
    let framed = headers
        .get("sec-fetch-dest")
        .is_some_and(|dest| dest.as_bytes() == b"iframe");
    pages::success(state, link, tool, &activation_token, framed)
}
