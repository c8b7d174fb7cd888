//! Connections: what a slow, idle or greedy client may hold, over raw TCP against the real
//! listener. Clients are told apart by source address (127.0.0.1 and 127.0.0.2 are both
//! loopback on Linux).

use std::{
    net::SocketAddr,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

use crate::{
    binary::{Binary, Running},
    helpers::{Backend, TestApp, spawn_app_with},
};

/// A connection to `to` from the loopback address `source`.
async fn connect_from(source: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{source}:0").parse().expect("source"))
        .expect("bind source");
    tokio::time::timeout(Duration::from_secs(10), socket.connect(to))
        .await
        .expect("connected within 10 s")
        .expect("connect")
}

/// Everything the server sends until it closes the connection (at most `within`).
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> String {
    let mut received = Vec::new();
    let _ = tokio::time::timeout(within, stream.read_to_end(&mut received)).await;
    String::from_utf8_lossy(&received).into_owned()
}

/// One request on a fresh connection from `source`; the whole answer.
async fn request_from(source: &str, to: SocketAddr, request: &str) -> String {
    let mut stream = connect_from(source, to).await;
    stream.write_all(request.as_bytes()).await.expect("write");
    read_until_closed(&mut stream, Duration::from_secs(10)).await
}

/// The test server's socket address.
fn address_of(app: &TestApp) -> SocketAddr {
    app.base
        .trim_start_matches("http://")
        .parse()
        .expect("the test server's address")
}

/// Asserts that `answer` is a refusal with `status` that tells the client to back off and
/// not to reuse the connection.
fn assert_refused(answer: &str, status: u16) {
    assert!(
        answer.starts_with(&format!("HTTP/1.1 {status}")),
        "{answer}"
    );
    let lower = answer.to_ascii_lowercase();
    assert!(lower.contains("connection: close"), "{answer}");
    assert!(lower.contains("retry-after: 1"), "{answer}");
}

const HEALTHZ: &str = "GET /healthz HTTP/1.1\r\nHost: plugboard\r\nConnection: close\r\n\r\n";

/// Connections that send half a request line and then nothing.
async fn idle_connections(source: &str, to: SocketAddr, count: usize) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for _ in 0..count {
        let mut stream = connect_from(source, to).await;
        stream.write_all(b"GET /healthz HT").await.expect("write");
        held.push(stream);
    }
    held
}

/// Waits until a request from `source` is served, after held connections were let go (the
/// server notices the close on its next read).
async fn served_again(source: &str, to: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if request_from(source, to, HEALTHZ)
            .await
            .starts_with("HTTP/1.1 200")
        {
            return;
        }
        assert!(Instant::now() < deadline, "{source} is served again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_client_holding_its_connections_does_not_lock_out_others() {
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.http.max_connections_per_client = Some(5);
    })
    .await;
    let address = address_of(&app);
    let held = idle_connections("127.0.0.1", address, 5).await;

    // The greedy client's next connection is refused with an answer, not silence.
    let refused = request_from("127.0.0.1", address, HEALTHZ).await;
    assert_refused(&refused, 429);
    assert!(
        refused.contains("PLATFORM.RATE_LIMIT_EXCEEDED"),
        "{refused}"
    );

    // Everyone else is served meanwhile.
    let other = request_from("127.0.0.2", address, HEALTHZ).await;
    assert!(other.starts_with("HTTP/1.1 200"), "{other}");

    drop(held);
    served_again("127.0.0.1", address).await;
}

#[tokio::test]
async fn past_the_total_cap_connections_get_503_and_are_closed() {
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.http.max_connections = Some(3);
        config.http.max_connections_per_client = Some(10);
    })
    .await;
    let address = address_of(&app);
    let held = idle_connections("127.0.0.1", address, 3).await;
    let refused = request_from("127.0.0.2", address, HEALTHZ).await;
    assert_refused(&refused, 503);
    drop(held);
    served_again("127.0.0.2", address).await;
}

#[tokio::test]
async fn headers_and_bodies_must_arrive_in_time_and_idle_connections_end() {
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.http.header_timeout = Duration::from_secs(1);
        config.http.body_timeout = Duration::from_secs(1);
    })
    .await;
    let address = address_of(&app);

    // Half a request line, then nothing: closed after the header timeout.
    let started = Instant::now();
    let mut slow = idle_connections("127.0.0.1", address, 1).await.remove(0);
    read_until_closed(&mut slow, Duration::from_secs(20)).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(15),
        "closed after about a second: {took:?}"
    );

    // An idle keep-alive connection after a served request: closed too.
    let started = Instant::now();
    let mut idle = connect_from("127.0.0.1", address).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: plugboard\r\n\r\n")
        .await
        .expect("write");
    let answer = read_until_closed(&mut idle, Duration::from_secs(20)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(15), "idle closed");

    // A body that stops halfway: refused once the body timeout passes, and closed.
    let started = Instant::now();
    let mut stalled = connect_from("127.0.0.1", address).await;
    let head = format!(
        "POST /v1/connect/create-link HTTP/1.1\r\nHost: plugboard\r\n\
         Authorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"end_user",
        app.dev_key
    );
    stalled.write_all(head.as_bytes()).await.expect("write");
    let answer = read_until_closed(&mut stalled, Duration::from_secs(20)).await;
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "not held: {answer}"
    );
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
}

#[tokio::test]
async fn an_answer_given_before_the_body_was_read_closes_the_connection_openly() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await;
    let address = address_of(&app);
    // A bad key is refused before the body is read; the body is still on its way.
    let mut stream = connect_from("127.0.0.1", address).await;
    stream
        .write_all(
            b"POST /v1/connect/create-link HTTP/1.1\r\nHost: plugboard\r\n\
              Authorization: Bearer nobody\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{",
        )
        .await
        .expect("write");
    let answer = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "the client is told not to reuse the connection: {answer}"
    );

    // A refused request whose small body has arrived: the body is read and discarded, and
    // the connection serves the next request (refusals stay cheaper than service).
    let mut stream = connect_from("127.0.0.1", address).await;
    let body = "{\"end_user_email\":\"a@acme.example\"}";
    let refused = format!(
        "POST /v1/connect/create-link HTTP/1.1\r\nHost: plugboard\r\n\
         Authorization: Bearer nobody\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(format!("{refused}{HEALTHZ}").as_bytes())
        .await
        .expect("write");
    let answers = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    assert!(answers.starts_with("HTTP/1.1 401"), "{answers}");
    assert_eq!(answers.matches("HTTP/1.1 ").count(), 2, "{answers}");
    assert!(answers.contains("HTTP/1.1 200"), "{answers}");

    // A request whose body was read keeps its connection.
    let reply = reqwest::Client::new()
        .post(format!("{}/v1/connect/create-link", app.base))
        .bearer_auth(&app.dev_key)
        .json(&serde_json::json!({"end_user_email": "a@acme.example", "end_user_organization_name": "Acme"}))
        .send()
        .await
        .expect("send");
    assert_eq!(reply.status(), 200);
    assert!(!reply.headers().contains_key("connection"));
}

/// The binary started with an open-file limit of `limit`, as an operator's service manager
/// might impose.
async fn serve_with_file_limit(binary: &Binary, limit: u32) -> Running {
    let template = binary.command();
    let mut command = Command::new("prlimit");
    command
        .arg(format!("--nofile={limit}:{limit}"))
        .arg("--")
        .arg(template.get_program())
        .arg("serve")
        .env_clear()
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (key, value) in template.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    let child = command.spawn().expect("spawn plugboard under prlimit");
    let running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{}/readyz", binary.base()))
        .await
        .map_or(true, |r| !r.status().is_success())
    {
        assert!(Instant::now() < deadline, "plugboard did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running
}

#[tokio::test]
async fn a_flood_of_idle_connections_cannot_exhaust_the_file_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let binary = Binary::new(dir.path(), &[]);
    let _server = serve_with_file_limit(&binary, 128).await;
    let address: SocketAddr = format!("127.0.0.1:{}", binary.port).parse().expect("addr");

    // Far more connections than the process has descriptors for, from one client.
    let mut held = Vec::new();
    for _ in 0..300 {
        let mut stream = connect_from("127.0.0.1", address).await;
        let _ = stream.write_all(b"GET /healthz HT").await;
        held.push(stream);
    }
    // Another client is served throughout, and so is a probe of the greedy one's neighbour.
    for _ in 0..3 {
        let answer = request_from("127.0.0.2", address, HEALTHZ).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    drop(held);
    served_again("127.0.0.1", address).await;
}

#[tokio::test]
async fn metrics_are_served_only_where_configured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let metrics_port = crate::binary::free_port();
    let metrics_listen = format!("127.0.0.1:{metrics_port}");
    let token = "a-metrics-token-of-enough-length";
    let binary = Binary::new(
        dir.path(),
        &[
            ("PLUGBOARD_METRICS_LISTEN", &metrics_listen),
            ("PLUGBOARD_METRICS_TOKEN", token),
        ],
    );
    let _server = binary.serve(Stdio::null()).await;
    let client = reqwest::Client::new();
    let status = |url: String, bearer: Option<&'static str>| {
        let mut request = client.get(url);
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        async move { request.send().await.expect("send").status().as_u16() }
    };
    let public = format!("{}/metrics", binary.base());
    assert_eq!(status(public.clone(), None).await, 404);
    assert_eq!(
        status(public.clone(), Some("a-wrong-token-of-enough-length")).await,
        404
    );
    assert_eq!(status(public, Some(token)).await, 200);
    // The internal address needs no token, and serves nothing else.
    let internal = format!("http://{metrics_listen}");
    assert_eq!(status(format!("{internal}/metrics"), None).await, 200);
    assert_eq!(status(format!("{internal}/healthz"), None).await, 200);
    assert_eq!(
        status(format!("{internal}/v1/check-api-key"), None).await,
        404
    );

    // Without either setting, no /metrics anywhere.
    let plain_dir = tempfile::tempdir().expect("tempdir");
    let plain = Binary::new(plain_dir.path(), &[]);
    let _plain = plain.serve(Stdio::null()).await;
    assert_eq!(status(format!("{}/metrics", plain.base()), None).await, 404);
}

#[tokio::test]
async fn request_framing_that_proxies_could_read_differently_is_refused() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await;
    let address = address_of(&app);
    // Two lengths, a folded header, a space before a colon: a front proxy and Plugboard could
    // disagree on where the request ends or what it says (request smuggling), so none is
    // served. (With both Content-Length and Transfer-Encoding, hyper frames by the latter, as
    // RFC 9112 §6.3 requires of every recipient, proxies included.)
    for request in [
        "POST /healthz HTTP/1.1\r\nHost: p\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
        "GET /healthz HTTP/1.1\r\nHost: p\r\nX-Folded: a\r\n b\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost : p\r\n\r\n",
    ] {
        let answer = request_from("127.0.0.1", address, request).await;
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 400"),
            "{request:?} → {answer}"
        );
        assert!(
            answer.is_empty() || answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
    }
    // A bare LF as line ending is accepted, as RFC 9112 §2.2 allows; it cannot move a
    // request's boundary while the framing above is strict.
    let answer = request_from(
        "127.0.0.1",
        address,
        "GET /healthz HTTP/1.1\nHost: p\nConnection: close\n\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
