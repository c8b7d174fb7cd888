//! Retention: the passthrough request log keeps its entries for
//! `PLUGBOARD_REQUEST_LOG_RETENTION` (30 days by default). The worker deletes older ones every
//! few minutes in batches of [`BATCH`], pausing between batches, so that a large backlog never
//! holds the database's writer for long next to the API's writes. The same round deletes the
//! OAuth sign-in attempts that expired more than an hour ago (an attempt lives ten minutes;
//! the hour leaves a finished attempt's outcome to the flow page that asks for it), and the
//! dashboard's sessions that ended (idle or past their lifetime) with expired sign-in links.

use std::{future::Future, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use plugboard_store::Store;

/// Entries deleted per statement.
pub const BATCH: u32 = 1000;

/// How often the log is pruned.
pub const EVERY: Duration = Duration::from_secs(600);

/// The pause between two batches, which lets other writes through.
const PAUSE: Duration = Duration::from_millis(20);

/// Prunes the request log every [`EVERY`] until `shutdown` completes; sessions idle for
/// `session_idle` go too.
pub async fn run(
    store: Arc<dyn Store>,
    retention: Duration,
    session_idle: Duration,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = prune_request_log(store.as_ref(), Utc::now(), retention) => {}
        }
        tokio::select! {
            () = &mut shutdown => return,
            _ = prune_signin_attempts(store.as_ref(), Utc::now()) => {}
        }
        tokio::select! {
            () = &mut shutdown => return,
            _ = prune_operator_sessions(store.as_ref(), Utc::now(), session_idle) => {}
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}

/// Deletes the dashboard sessions that ended by `now` (past their lifetime, or unused for
/// `idle`) and expired sign-in links; returns how many. They already sign no one in: this
/// only keeps the tables small.
pub async fn prune_operator_sessions(store: &dyn Store, now: DateTime<Utc>, idle: Duration) -> u64 {
    let idle = chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::MAX);
    let idle_since = now
        .checked_sub_signed(idle)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    match store.prune_operator_sessions(now, idle_since).await {
        Ok(count) => count,
        Err(error) => {
            tracing::warn!(%error, "pruning dashboard sessions failed; retrying at the next round");
            0
        }
    }
}

/// How long after its expiry a sign-in attempt is kept.
const ATTEMPTS_KEPT: chrono::Duration = chrono::Duration::hours(1);

/// Deletes the sign-in attempts that expired more than an hour before `now`, batch
/// by batch; returns how many.
pub async fn prune_signin_attempts(store: &dyn Store, now: DateTime<Utc>) -> u64 {
    let mut deleted = 0;
    loop {
        match store.prune_oauth_attempts(now - ATTEMPTS_KEPT, BATCH).await {
            Ok(count) => {
                deleted += count;
                if count < u64::from(BATCH) {
                    break;
                }
                tokio::time::sleep(PAUSE).await;
            }
            Err(error) => {
                tracing::warn!(%error, "pruning sign-in attempts failed; retrying at the next round");
                break;
            }
        }
    }
    deleted
}

/// Deletes every entry older than `retention` at `now`, batch by batch; returns how many.
pub async fn prune_request_log(store: &dyn Store, now: DateTime<Utc>, retention: Duration) -> u64 {
    let Ok(retention) = chrono::Duration::from_std(retention) else {
        return 0;
    };
    let before = now - retention;
    let mut deleted = 0;
    loop {
        match store.prune_requests(before, BATCH).await {
            Ok(count) => {
                deleted += count;
                if count < u64::from(BATCH) {
                    break;
                }
                tokio::time::sleep(PAUSE).await;
            }
            Err(error) => {
                tracing::warn!(%error, "pruning the request log failed; retrying at the next round");
                break;
            }
        }
    }
    if deleted > 0 {
        tracing::info!(deleted, "request log entries past their retention deleted");
    }
    deleted
}
