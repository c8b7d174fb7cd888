//! `TestReceiver`: a webhook receiver on loopback that records every request and answers as
//! told: a status, `429` with `Retry-After`, a redirect, or never (a hanging endpoint).

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use tokio::{net::TcpListener, sync::Notify};

/// How the receiver answers a request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// This status, with a short body.
    Status(u16),
    /// `429 Too Many Requests` with `Retry-After: <seconds>`.
    RetryAfter(u64),
    /// `302 Found` to this location.
    Redirect(String),
    /// Never answers.
    Hang,
    /// `200`, after this long.
    Slow(Duration),
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: String,
    /// When it arrived.
    pub at: Instant,
}

impl Received {
    /// A header as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Answer>>,
    default: Mutex<Option<Answer>>,
    arrived: Notify,
}

/// A running receiver; stops when dropped.
pub struct TestReceiver {
    /// `http://127.0.0.1:<port>/hook`.
    pub url: String,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let answer = {
        let scripted = inner.script.lock().expect("script").pop_front();
        scripted
            .or_else(|| inner.default.lock().expect("default").clone())
            .unwrap_or(Answer::Status(200))
    };
    inner.received.lock().expect("received").push(Received {
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    });
    inner.arrived.notify_waiters();
    match answer {
        Answer::Status(status) => {
            let status = StatusCode::from_u16(status).expect("status");
            (status, format!("answer {}", status.as_u16())).into_response()
        }
        Answer::RetryAfter(seconds) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, seconds.to_string())],
            "slow down",
        )
            .into_response(),
        Answer::Redirect(location) => {
            (StatusCode::FOUND, [(header::LOCATION, location)], "moved").into_response()
        }
        Answer::Hang => std::future::pending().await,
        Answer::Slow(delay) => {
            tokio::time::sleep(delay).await;
            (StatusCode::OK, "ok").into_response()
        }
    }
}

impl TestReceiver {
    /// Starts a receiver answering 200 until told otherwise.
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let app = Router::new()
            .route("/{*path}", post(receive))
            .with_state(Arc::clone(&inner));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{address}/hook"),
            inner,
            task,
        }
    }

    /// Answers every request without a scripted answer like this.
    pub fn answer(&self, answer: Answer) {
        *self.inner.default.lock().expect("default") = Some(answer);
    }

    /// Answers the next requests like these, in order.
    pub fn then(&self, answers: impl IntoIterator<Item = Answer>) {
        self.inner.script.lock().expect("script").extend(answers);
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.inner.received.lock().expect("received").clone()
    }

    /// Waits until at least `count` requests have arrived, failing after `timeout`.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let arrived = self.inner.arrived.notified();
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "expected {count} webhook requests within {timeout:?}, got {}",
                received.len()
            );
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), arrived).await;
        }
    }
}
