//! The database health watch: a probe a few times a second, so that while the database is
//! unreachable the API answers 503 at once instead of holding each request until a connection
//! attempt times out, and requests already waiting on it are answered too.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use plugboard_store::Store;
use tokio::sync::watch;

use crate::{AppState, error::ApiError};

/// How often the database is probed.
const PROBE_EVERY: Duration = Duration::from_millis(250);
/// How long a probe may take before it counts as a timeout.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// How many probes in a row must time out before the database counts as unreachable. A probe
/// that fails (the connection refused or reset, as in a restart) counts at once; one that is
/// merely slow may have been starved of CPU by the very load it would then refuse with 503s,
/// so a second opinion is asked. A database that stops answering is noticed within about
/// 1.25 s, a refused connection within 250 ms.
const TIMEOUTS_BEFORE_DOWN: u32 = 2;

/// Starts probing `store`; the receiver says whether the database was reachable at the last
/// probe. The probe stops when every receiver is gone.
pub fn watch(store: Arc<dyn Store>) -> watch::Receiver<bool> {
    let (sender, receiver) = watch::channel(true);
    tokio::spawn(async move {
        let mut timeouts = 0;
        loop {
            let up = match tokio::time::timeout(PROBE_TIMEOUT, store.probe()).await {
                Ok(answer) => {
                    timeouts = 0;
                    answer.is_ok()
                }
                Err(_) => {
                    timeouts += 1;
                    timeouts < TIMEOUTS_BEFORE_DOWN && *sender.borrow()
                }
            };
            report(&sender, up);
            tokio::select! {
                () = tokio::time::sleep(PROBE_EVERY) => {}
                () = sender.closed() => return,
            }
        }
    });
    receiver
}

/// Publishes the probe's verdict, logging each change.
fn report(sender: &watch::Sender<bool>, up: bool) {
    sender.send_if_modified(|known| {
        if *known == up {
            return false;
        }
        if up {
            tracing::info!("the database is reachable again");
        } else {
            tracing::warn!("the database is unreachable: answering 503 until it is back");
        }
        *known = up;
        true
    });
}

/// Middleware of the API: 503 with `Retry-After` while the database is unreachable, and for a
/// request in flight when it becomes unreachable.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut up = state.database_up.clone();
    if !*up.borrow_and_update() {
        // The unread body is drained by `listener::close_if_body_unread`, which keeps the
        // connection usable or says `Connection: close`.
        drop(request);
        return ApiError::Unavailable.into_response();
    }
    tokio::select! {
        response = next.run(request) => response,
        _ = up.wait_for(|up| !*up) => ApiError::Unavailable.into_response(),
    }
}
