//! Connection checks: noticing when an integration's credentials stop working.
//!
//! Each `ACTIVE` or `INVALID` integration's credentials are verified again with its tool's
//! catalog verification request, every `PLUGBOARD_CONNECTION_CHECK_INTERVAL` (jittered, so
//! checks spread out), and at once when the tool refuses a passthrough call with 401 or 403
//! ([`soon`]). Checks are claimed from the database under a lease, so several processes share
//! the work and a check that dies with its process comes back; at most
//! `PLUGBOARD_CONNECTION_CHECK_CONCURRENCY` run per tool and process.
//!
//! What a check concludes follows Kombo's states: credentials the tool refuses (401 or 403,
//! or a refused login) for longer than the grace period (three days by default) make the
//! integration `INVALID`; a later check that succeeds, or a relink, makes it `ACTIVE` again.
//! Either change writes `integration-state-changed`. A tool that cannot be reached, rate
//! limits or answers 404 proves nothing about the credentials and changes nothing.

use std::{collections::HashMap, future::Future, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use plugboard_catalog::Catalog;
use plugboard_store::{DueCheck, Integration, IntegrationStatus, Store, ids::IntegrationId};
use rand::Rng;
use tokio::sync::{Notify, Semaphore};

use crate::{
    AppState,
    config::ChecksConfig,
    events,
    flow::verify::Outcome,
    flow::verify::Verifier,
    integrations,
    metrics::Metrics,
    oauth::{self, tokens::RefreshError},
    vault::Vault,
};

/// How often the database is asked for due checks when nothing wakes the loop.
const POLL: Duration = Duration::from_secs(60);

/// How long a claimed check is leased: if its process dies, another takes it after this.
const LEASE: chrono::Duration = chrono::Duration::minutes(10);

/// Checks claimed per round.
const BATCH: u32 = 50;

/// What the checker needs of the application's state.
#[derive(Clone)]
pub struct Context {
    /// Due checks are claimed and results recorded here.
    pub store: Arc<dyn Store>,
    /// Opens the integrations' credentials.
    pub vault: Arc<Vault>,
    /// The tools' verification requests.
    pub catalog: Arc<Catalog>,
    /// Sends them (the hosted flow's verifier, with the same base-URL overrides).
    pub verifier: Verifier,
    /// Interval, grace and concurrency.
    pub config: ChecksConfig,
    /// Checks by outcome.
    pub metrics: Arc<Metrics>,
    /// Wakes the loop when a check is brought forward in this process.
    pub wake: Arc<Notify>,
    /// The application, for refreshing OAuth integrations' tokens before their check (which
    /// makes the checks the sweep that keeps idle integrations' refresh tokens in use).
    pub app: AppState,
}

impl Context {
    /// The checker's share of the application's state.
    pub fn of(state: &AppState) -> Self {
        Self {
            store: Arc::clone(&state.store),
            vault: Arc::clone(&state.vault),
            catalog: Arc::new(state.catalog.clone()),
            verifier: state.flow.verifier.clone(),
            config: state.config.checks.clone(),
            metrics: Arc::clone(&state.metrics),
            wake: Arc::clone(&state.check_wake),
            app: state.clone(),
        }
    }
}

/// Brings `id`'s connection check forward to now: its tool just refused a call. A failure is
/// logged, not returned: the regular check comes anyway.
pub async fn soon(state: &AppState, id: &IntegrationId) {
    match state.store.schedule_connection_check(id, Utc::now()).await {
        Ok(()) => state.check_wake.notify_one(),
        Err(error) => {
            tracing::warn!(integration_id = %id, %error, "could not schedule a connection check");
        }
    }
}

/// Checks `id`'s credentials within moments, at an operator's request (the dashboard's
/// "Check now"); the outcome shows on the integration as any check's does.
pub async fn check_now(
    state: &AppState,
    environment: &plugboard_store::Environment,
    id: &IntegrationId,
    caller: &crate::audit::Caller,
) -> Result<(), crate::error::DomainError> {
    crate::integrations::get(state, environment, id).await?;
    state
        .store
        .schedule_connection_check(id, Utc::now())
        .await?;
    state.check_wake.notify_one();
    let entry = caller
        .entry(crate::audit::Action::IntegrationCheckRequested)
        .target("integration", id.as_str());
    caller.record(state, &environment.id, entry).await;
    Ok(())
}

/// Runs due checks until `shutdown` completes.
pub async fn run(context: Context, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        check_due(&context, Utc::now()).await;
        tokio::select! {
            () = &mut shutdown => return,
            () = context.wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Claims and runs every check due at `now` (a parameter, so tests can move the clock);
/// returns how many ran.
pub async fn check_due(context: &Context, now: DateTime<Utc>) -> usize {
    let interval =
        chrono::Duration::from_std(context.config.interval).unwrap_or(chrono::Duration::days(1));
    let per_tool: std::sync::Mutex<HashMap<String, Arc<Semaphore>>> = Default::default();
    let started = std::time::Instant::now();
    let mut ran = 0;
    loop {
        // Each batch's lease runs from when it is claimed: earlier batches took real time.
        let elapsed = chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
        let lease_until = now + elapsed + LEASE;
        let due = match context
            .store
            .claim_connection_checks(now, interval, lease_until, BATCH)
            .await
        {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(%error, "could not claim connection checks");
                return ran;
            }
        };
        let claimed = due.len();
        let mut tasks = tokio::task::JoinSet::new();
        for check in due {
            let semaphore = crate::lock(&per_tool)
                .entry(check.integration.tool.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(context.config.per_tool as usize)))
                .clone();
            let context = context.clone();
            tasks.spawn(async move {
                let _permit = semaphore.acquire_owned().await;
                check_one(&context, check, now).await;
            });
        }
        while tasks.join_next().await.is_some() {}
        ran += claimed;
        if claimed < BATCH as usize {
            return ran;
        }
    }
}

/// What a check's outcome says about the credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// They work.
    Work,
    /// The tool refuses them.
    Refused,
    /// Nothing can be concluded (unreachable, rate limited, not found).
    Unknown,
}

fn verdict(outcome: Outcome) -> Verdict {
    match outcome {
        Outcome::Connected => Verdict::Work,
        Outcome::InvalidCredentials | Outcome::MissingPermission => Verdict::Refused,
        Outcome::WrongInstance | Outcome::RateLimited | Outcome::Unreachable => Verdict::Unknown,
    }
}

/// The status a check leads to, if it changes: `INVALID` once the tool has refused the
/// credentials for the grace period, `ACTIVE` again when they work.
fn transition(
    status: IntegrationStatus,
    verdict: Verdict,
    failing_since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    grace: Duration,
) -> Option<IntegrationStatus> {
    match (status, verdict) {
        (IntegrationStatus::Invalid, Verdict::Work) => Some(IntegrationStatus::Active),
        (IntegrationStatus::Active, Verdict::Refused) => {
            let since = failing_since.unwrap_or(now);
            let failing_for = (now - since).to_std().unwrap_or_default();
            (failing_for >= grace).then_some(IntegrationStatus::Invalid)
        }
        _ => None,
    }
}

async fn check_one(context: &Context, check: DueCheck, now: DateTime<Utc>) {
    let integration = &check.integration;
    let next = now + jittered(context.config.interval);
    let outcome = match verify(context, integration).await {
        Ok(outcome) => outcome,
        Err(error) => {
            tracing::error!(integration_id = %integration.id, %error, "connection check failed");
            record(
                context,
                integration,
                integration.updated_at,
                check.failing_since,
                next,
            )
            .await;
            return;
        }
    };
    let verdict = verdict(outcome);
    let failing_since = match verdict {
        Verdict::Work => None,
        Verdict::Refused => Some(check.failing_since.unwrap_or(now)),
        Verdict::Unknown => check.failing_since,
    };
    context.metrics.connection_check(outcome.as_str());
    tracing::info!(
        integration_id = %integration.id,
        outcome = outcome.as_str(),
        "connection checked"
    );
    let mut version = integration.updated_at;
    if let Some(target) = transition(
        integration.status,
        verdict,
        failing_since,
        now,
        context.config.grace,
    ) && change_status(context, integration, target, now).await
    {
        // The status change is a change of the integration: the record follows it.
        version = now;
    }
    record(context, integration, version, failing_since, next).await;
}

/// Moves the integration to `target` with its event, unless its credentials changed during
/// the check (a relink: the verdict was about the old ones) or its status did (a CAS).
async fn change_status(
    context: &Context,
    integration: &Integration,
    target: IntegrationStatus,
    now: DateTime<Utc>,
) -> bool {
    let id = &integration.id;
    match context
        .store
        .integration(&integration.environment_id, id)
        .await
    {
        Ok(Some(current)) if current.updated_at == integration.updated_at => {}
        Ok(_) => return false,
        Err(error) => {
            tracing::warn!(integration_id = %id, %error, "could not re-read the integration");
            return false;
        }
    }
    let event = events::integration_state_changed(integration, target, now);
    let changed = context
        .store
        .update_integration_status(
            &integration.environment_id,
            id,
            integration.status,
            target,
            &event,
            now,
        )
        .await;
    match changed {
        Ok(true) => {
            tracing::info!(
                integration_id = %id,
                status = %target,
                "integration status changed by a connection check"
            );
            true
        }
        // Changed meanwhile (disabled, relinked): the next check sees the new state.
        Ok(false) => false,
        Err(error) => {
            tracing::warn!(integration_id = %id, %error, "could not change the integration's status");
            false
        }
    }
}

/// Records the check's result, unless the integration changed since `version` (then the
/// check was of what it no longer is, and the change decided what happens next).
async fn record(
    context: &Context,
    integration: &Integration,
    version: DateTime<Utc>,
    failing_since: Option<DateTime<Utc>>,
    next: DateTime<Utc>,
) {
    if let Err(error) = context
        .store
        .record_connection_check(&integration.id, version, failing_since, next)
        .await
    {
        tracing::warn!(integration_id = %integration.id, %error, "could not record a connection check");
    }
}

/// Runs the tool's verification with the stored credentials.
async fn verify(context: &Context, integration: &Integration) -> Result<Outcome, String> {
    let tool = context
        .catalog
        .get(&integration.tool)
        .ok_or_else(|| format!("tool {} is not in the catalog", integration.tool))?;
    let credentials =
        integrations::open_credentials(context.store.as_ref(), &context.vault, &integration.id)
            .await
            .map_err(|e| e.to_string())?;
    if !oauth::signed_in(credentials.get()) {
        return Ok(context.verifier.verify(tool, credentials.get()).await);
    }
    // A signed-in integration is checked with a fresh token: refreshed here when it is near
    // expiry, so the refresh token of an integration nobody uses is still used once per
    // check interval (vendors revoke idle ones).
    let version = integration.updated_at.timestamp_millis();
    let mut refused: Option<std::sync::Arc<zeroize::Zeroizing<String>>> = None;
    loop {
        let stale = refused.as_ref().map(|token| token.as_str());
        let access =
            oauth::tokens::access_token(&context.app, &integration.id, version, tool, stale);
        let token = match access.await {
            Ok(token) => token,
            Err(RefreshError::Revoked | RefreshError::App(_)) => {
                return Ok(Outcome::InvalidCredentials);
            }
            Err(RefreshError::Failed(_) | RefreshError::BackingOff(_)) => {
                return Ok(Outcome::Unreachable);
            }
            Err(RefreshError::Internal(detail)) => return Err(detail),
        };
        let fresh = integrations::Opened::new(oauth::with_access_token(credentials.get(), &token));
        let outcome = context.verifier.verify(tool, fresh.get()).await;
        // A refused token may only have been revoked early, or have no expiry to refresh it
        // by: it counts against the integration only when a refreshed one is refused too.
        if outcome != Outcome::InvalidCredentials || refused.is_some() {
            return Ok(outcome);
        }
        refused = Some(token);
    }
}

/// `interval` lengthened by up to a tenth at random.
fn jittered(interval: Duration) -> chrono::Duration {
    let extra = rand::rng().random_range(0.0..0.1);
    chrono::Duration::from_std(interval.mul_f64(1.0 + extra)).unwrap_or(chrono::Duration::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_invalidate_only_after_the_grace_period() {
        let now = Utc::now();
        let grace = Duration::from_secs(3 * 24 * 3600);
        let active = IntegrationStatus::Active;
        let since = |days| Some(now - chrono::Duration::days(days));
        assert_eq!(
            transition(active, Verdict::Refused, since(1), now, grace),
            None
        );
        assert_eq!(
            transition(active, Verdict::Refused, since(3), now, grace),
            Some(IntegrationStatus::Invalid)
        );
        assert_eq!(
            transition(active, Verdict::Refused, None, now, Duration::ZERO),
            Some(IntegrationStatus::Invalid),
            "no grace: at once"
        );
        assert_eq!(
            transition(active, Verdict::Unknown, since(30), now, grace),
            None
        );
        assert_eq!(
            transition(
                IntegrationStatus::Invalid,
                Verdict::Work,
                since(9),
                now,
                grace
            ),
            Some(IntegrationStatus::Active)
        );
        assert_eq!(
            transition(
                IntegrationStatus::Inactive,
                Verdict::Refused,
                since(9),
                now,
                grace
            ),
            None,
            "a disabled integration stays disabled"
        );
    }

    #[test]
    fn only_refusals_count_against_the_credentials() {
        assert_eq!(verdict(Outcome::InvalidCredentials), Verdict::Refused);
        assert_eq!(verdict(Outcome::MissingPermission), Verdict::Refused);
        for outcome in [
            Outcome::Unreachable,
            Outcome::RateLimited,
            Outcome::WrongInstance,
        ] {
            assert_eq!(verdict(outcome), Verdict::Unknown, "{outcome:?}");
        }
    }
}
