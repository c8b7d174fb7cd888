//! The HTTP listener: Plugboard's own accept loop over hyper, because the server must bound
//! what clients can hold. Without it a thousand idle or half-sent connections exhausted the
//! process's file descriptors, the accept loop failed with "Too many open files" and even
//! `/healthz` stopped answering. Here:
//!
//! - a client has [`HttpConfig::header_timeout`] to send a request's headers, which also ends
//!   idle keep-alive connections (hyper runs one timer for both);
//! - open connections are capped in all and per client address (an IPv6 client by its /64;
//!   trusted proxies exempt), so one client holding sockets cannot starve the others;
//! - a connection over a cap gets a short answer (503 in all, 429 for one client) with
//!   `Connection: close` rather than silence, so a well-behaved client knows to back off;
//! - an accept error (out of file descriptors) is logged and waited out, never fatal;
//! - the process's soft file limit is raised to its hard limit at start-up.

use std::{
    collections::HashMap,
    convert::Infallible,
    future::Future,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use axum::{Router, extract::ConnectInfo, response::IntoResponse};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tower::ServiceExt as _;

use crate::{
    config::HttpConfig,
    error::{ErrorBody, ErrorEnvelope},
    lock,
    ratelimit::ClientKey,
};

/// How many refusals may be in the middle of being answered; past this a connection over a
/// cap is closed without an answer, so answering refusals cannot itself exhaust the process.
const REFUSALS_IN_FLIGHT: usize = 64;
/// How long a refused connection may take to send its request before it is closed anyway.
const REFUSAL_DEADLINE: Duration = Duration::from_secs(2);
/// The most connections counted by default, whatever the file limit.
const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// The most connections one client may hold by default.
const DEFAULT_MAX_PER_CLIENT: usize = 256;

/// Raises the process's soft limit on open files to its hard limit, where the system allows,
/// and returns the limit now in force. Many connections need many descriptors; distributions
/// often start services with a soft limit of 1,024 and a far higher hard limit.
pub fn raise_file_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::debug!(error = %e, "could not raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
        }
    }
}

/// The connection caps in force, from the configuration and the file limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Open connections in all.
    pub total: usize,
    /// Open connections from one client address.
    pub per_client: usize,
}

impl Caps {
    /// The configured caps, or defaults derived from the open-file limit `file_limit`:
    /// three quarters of it in all (files remain for the database, webhooks and logs) and a
    /// quarter of that per client.
    pub fn new(config: &HttpConfig, file_limit: u64) -> Self {
        let from_files = usize::try_from(file_limit / 4 * 3).unwrap_or(usize::MAX);
        let total = config
            .max_connections
            .unwrap_or_else(|| from_files.clamp(16, DEFAULT_MAX_CONNECTIONS));
        let per_client = config
            .max_connections_per_client
            .unwrap_or_else(|| (total / 4).clamp(1, DEFAULT_MAX_PER_CLIENT));
        Self { total, per_client }
    }
}

/// Counts open connections, in all and per client.
struct Counts {
    caps: Caps,
    trusted: Vec<ipnet::IpNet>,
    open: Mutex<(usize, HashMap<ClientKey, usize>)>,
}

/// Why a connection was refused.
enum Refusal {
    /// The server is at its total cap.
    Full,
    /// This client is at its own cap.
    ClientFull,
}

impl Counts {
    /// Counts a new connection from `peer`, or says why it must be refused.
    fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Slot, Refusal> {
        let key = ClientKey::of(peer);
        let exempt = self.trusted.iter().any(|net| net.contains(&peer));
        let mut open = lock(&self.open);
        if open.0 >= self.caps.total {
            return Err(Refusal::Full);
        }
        if !exempt {
            let mine = open.1.entry(key).or_insert(0);
            if *mine >= self.caps.per_client {
                return Err(Refusal::ClientFull);
            }
            *mine += 1;
        }
        open.0 += 1;
        Ok(Slot {
            counts: Arc::clone(self),
            key: (!exempt).then_some(key),
        })
    }
}

/// One counted connection; dropping it (when the connection ends) gives the place back.
struct Slot {
    counts: Arc<Counts>,
    key: Option<ClientKey>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = lock(&self.counts.open);
        open.0 -= 1;
        if let Some(key) = self.key
            && let Some(mine) = open.1.get_mut(&key)
        {
            *mine -= 1;
            if *mine == 0 {
                open.1.remove(&key);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, closes idle
/// connections and waits for requests in flight to finish. Handlers receive the peer address
/// as [`ConnectInfo<SocketAddr>`] (the audit trail records it).
pub async fn serve(
    app: Router,
    listener: TcpListener,
    http: &HttpConfig,
    trusted_proxies: Vec<ipnet::IpNet>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let caps = Caps::new(http, raise_file_limit());
    tracing::debug!(
        total = caps.total,
        per_client = caps.per_client,
        "connection caps"
    );
    let counts = Arc::new(Counts {
        caps,
        trusted: trusted_proxies,
        open: Mutex::new((0, HashMap::new())),
    });
    let refusals = Arc::new(Semaphore::new(REFUSALS_IN_FLIGHT));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(http.header_timeout);
    let mut last_accept_warning: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors (EMFILE/ENFILE) or memory: wait for connections to
                    // end rather than spin or exit. Anything else (a connection reset before
                    // it was accepted) is the client's business.
                    if is_resource_exhaustion(&e) {
                        if last_accept_warning.is_none_or(|at| at.elapsed() > Duration::from_secs(10)) {
                            tracing::warn!(error = %e, "cannot accept connections for now; retrying");
                            last_accept_warning = Some(Instant::now());
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        match counts.admit(peer.ip()) {
            Ok(slot) => {
                let service = TowerToHyperService::new(app.clone().map_request(
                    move |mut request: hyper::Request<Incoming>| {
                        request.extensions_mut().insert(ConnectInfo(peer));
                        request
                    },
                ));
                let connection =
                    graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    // Errors here are the client's: a reset, a malformed request, a timeout.
                    if let Err(e) = connection.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    drop(slot);
                });
            }
            Err(refusal) => {
                let Ok(permit) = Arc::clone(&refusals).try_acquire_owned() else {
                    continue; // dropping the stream closes it
                };
                if matches!(refusal, Refusal::Full) {
                    tracing::warn!(
                        cap = caps.total,
                        "connection refused: the server holds its most connections"
                    );
                } else {
                    tracing::debug!(
                        cap = caps.per_client,
                        "connection refused: its client holds its most connections"
                    );
                }
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(REFUSAL_DEADLINE, refuse(stream, refusal)).await;
                    drop(permit);
                });
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Answers one request on a connection over a cap, then closes it.
async fn refuse(stream: tokio::net::TcpStream, refusal: Refusal) {
    let service = hyper::service::service_fn(move |_request| {
        std::future::ready(Ok::<_, Infallible>(refusal_response(&refusal)))
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(REFUSAL_DEADLINE)
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// The refusal in Kombo's error envelope, like every other API error.
fn refusal_response(refusal: &Refusal) -> axum::response::Response {
    use axum::http::{HeaderValue, StatusCode, header};
    let (status, code, title, message) = match refusal {
        Refusal::Full => (
            StatusCode::SERVICE_UNAVAILABLE,
            "PLATFORM.UNKNOWN_ERROR",
            "Service unavailable",
            "Plugboard holds as many connections as it may. Retry in a moment.",
        ),
        Refusal::ClientFull => (
            StatusCode::TOO_MANY_REQUESTS,
            "PLATFORM.RATE_LIMIT_EXCEEDED",
            "Rate limit exceeded",
            "Too many open connections from your address. Close some, then retry.",
        ),
    };
    let envelope = ErrorEnvelope {
        status: "error",
        error: ErrorBody {
            code: Some(code),
            title: Some(title),
            message: message.to_owned(),
            log_url: None,
        },
    };
    let mut response = (status, axum::Json(envelope)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Whether an accept error means the process is out of a resource (and will recover as
/// connections close), rather than a problem with one connection.
fn is_resource_exhaustion(e: &std::io::Error) -> bool {
    // EMFILE 24, ENFILE 23, ENOBUFS 105, ENOMEM 12 on Linux.
    matches!(e.raw_os_error(), Some(24 | 23 | 105 | 12))
}

/// Binds `address` for `serve`, with a message naming it when that fails.
pub async fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .with_context(|| format!("binding {address}"))
}

/// How long a refused request's unread body may take to arrive before the connection is
/// closed instead of kept.
const DRAIN_FOR: Duration = Duration::from_secs(1);

/// Middleware: when a response is ready before its request's body was read (an early
/// refusal: a 401, a 429, a 503 from the health guard), the rest of the body is read and
/// discarded, briefly and within the body limit, so the connection stays usable; if it does
/// not arrive in time the response says `Connection: close`. hyper itself would close such a
/// connection silently, and the client would send its next request on a connection about to
/// close and get no answer at all. Whichever part of the code refused, this covers it.
pub async fn close_if_body_unread(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use http_body::Body as _;
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let slot = Arc::new(Mutex::new(BodySlot::default()));
    let request = request.map(|inner| {
        lock(&slot).body = Some(inner);
        axum::body::Body::new(Tracked {
            slot: Arc::clone(&slot),
        })
    });
    let mut response = next.run(request).await;
    let unread = {
        let mut slot = lock(&slot);
        if slot.done { None } else { slot.body.take() }
    };
    if let Some(body) = unread {
        let drained = tokio::time::timeout(
            DRAIN_FOR,
            axum::body::to_bytes(body, crate::extract::BODY_LIMIT),
        )
        .await;
        if !matches!(drained, Ok(Ok(_))) {
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
    }
    response
}

/// A request's body, kept here rather than in the request so that it outlives a handler
/// that refused without reading it.
#[derive(Default)]
struct BodySlot {
    body: Option<axum::body::Body>,
    /// Read to the end.
    done: bool,
}

/// The body a handler sees: reads through the [`BodySlot`] and notes the end.
struct Tracked {
    slot: Arc<Mutex<BodySlot>>,
}

impl http_body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let mut slot = lock(&self.slot);
        let Some(body) = slot.body.as_mut() else {
            return std::task::Poll::Ready(None);
        };
        let polled = std::pin::Pin::new(&mut *body).poll_frame(cx);
        if matches!(polled, std::task::Poll::Ready(None)) || body.is_end_stream() {
            slot.done = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        let slot = lock(&self.slot);
        slot.done
            || slot
                .body
                .as_ref()
                .is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        lock(&self.slot).body.as_ref().map_or_else(
            || http_body::SizeHint::with_exact(0),
            http_body::Body::size_hint,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_follow_the_file_limit_unless_configured() {
        let defaults = HttpConfig::default();
        assert_eq!(
            Caps::new(&defaults, 1024),
            Caps {
                total: 768,
                per_client: 192
            }
        );
        assert_eq!(
            Caps::new(&defaults, 1 << 20),
            Caps {
                total: 10_000,
                per_client: 256
            }
        );
        let configured = HttpConfig {
            max_connections: Some(50),
            max_connections_per_client: Some(5),
            ..HttpConfig::default()
        };
        assert_eq!(
            Caps::new(&configured, 1024),
            Caps {
                total: 50,
                per_client: 5
            }
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("address");
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("address");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("address");
        assert_eq!(ClientKey::of(a), ClientKey::of(b));
        assert_ne!(ClientKey::of(a), ClientKey::of(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("address");
        assert_eq!(
            ClientKey::of(mapped),
            ClientKey::of("192.0.2.7".parse::<IpAddr>().expect("address"))
        );
    }

    #[test]
    fn slots_are_given_back_and_trusted_proxies_are_exempt() {
        let counts = Arc::new(Counts {
            caps: Caps {
                total: 3,
                per_client: 1,
            },
            trusted: vec!["10.0.0.0/8".parse().expect("address")],
            open: Mutex::new((0, HashMap::new())),
        });
        let client: IpAddr = "192.0.2.1".parse().expect("address");
        let proxy: IpAddr = "10.1.2.3".parse().expect("address");
        let first = counts.admit(client).ok().expect("first");
        assert!(matches!(counts.admit(client), Err(Refusal::ClientFull)));
        let _p1 = counts.admit(proxy).ok().expect("proxy");
        let _p2 = counts.admit(proxy).ok().expect("proxy again");
        assert!(matches!(counts.admit(proxy), Err(Refusal::Full)));
        drop(first);
        assert!(counts.admit(client).is_ok());
        assert!(
            !lock(&counts.open).1.contains_key(&ClientKey::of(client)),
            "forgotten"
        );
    }
}
