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
/// How long a probe may take before the database counts as unreachable. With
/// [`PROBE_EVERY`], an outage is noticed within 750 ms.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// Starts probing `store`; the receiver says whether the database was reachable at the last
/// probe. The probe stops when every receiver is gone.
pub fn watch(store: Arc<dyn Store>) -> watch::Receiver<bool> {
    let (sender, receiver) = watch::channel(true);
    tokio::spawn(async move {
        loop {
            let up = matches!(
                tokio::time::timeout(PROBE_TIMEOUT, store.probe()).await,
                Ok(Ok(()))
            );
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
            tokio::select! {
                () = tokio::time::sleep(PROBE_EVERY) => {}
                () = sender.closed() => return,
            }
        }
    });
    receiver
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
