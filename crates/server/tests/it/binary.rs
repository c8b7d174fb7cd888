//! The real `plugboard` binary, for tests that need a process of their own (a crash, a
//! database restart, TRACE logs): configure it, create an API key with its CLI, start it and
//! wait until it is ready.

use std::{
    path::Path,
    process::{Child, Command, ExitStatus, Output, Stdio},
    time::{Duration, Instant},
};

/// A free port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// The binary's configuration: a data directory, a port, and further `PLUGBOARD_*` variables.
pub struct Binary {
    /// The port `serve` listens on.
    pub port: u16,
    env: Vec<(String, String)>,
}

impl Binary {
    /// A configuration on `dir` and a free port, logging warnings, with `extra` variables on top.
    pub fn new(dir: &Path, extra: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut env = vec![
            ("PLUGBOARD_DATA_DIR".to_owned(), dir.display().to_string()),
            ("PLUGBOARD_LISTEN".to_owned(), format!("127.0.0.1:{port}")),
            ("PLUGBOARD_LOG".to_owned(), "warn".to_owned()),
            // The tests' webhook receivers listen on loopback.
            (
                "PLUGBOARD_WEBHOOK_ALLOW_LOOPBACK".to_owned(),
                "true".to_owned(),
            ),
        ];
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        Self { port, env }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The binary with exactly this configuration in its environment.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_plugboard"));
        command
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    /// Runs a CLI command to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        let output = self
            .command()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("run plugboard");
        assert!(
            output.status.success(),
            "plugboard {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// A development API key, made with the CLI.
    pub fn api_key(&self) -> String {
        let output = self.run(&[
            "api-keys",
            "create",
            "--environment",
            "development",
            "--name",
            "test",
        ]);
        let key = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        assert!(key.starts_with("pb_dev_"), "{key}");
        key
    }

    /// `plugboard <args>` in the background, its log to `stderr`. Killed when dropped.
    pub fn spawn(&self, args: &[&str], stderr: Stdio) -> Running {
        let child = self
            .command()
            .args(args)
            .stderr(stderr)
            .spawn()
            .expect("spawn plugboard");
        Running(child)
    }

    /// `plugboard serve`, its log to `stderr`, once `/readyz` answers. Killed when dropped.
    pub async fn serve(&self, stderr: Stdio) -> Running {
        let running = self.spawn(&["serve"], stderr);
        let client = reqwest::Client::new();
        let started = Instant::now();
        while client
            .get(format!("{}/readyz", self.base()))
            .send()
            .await
            .map_or(true, |r| !r.status().is_success())
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "plugboard did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        running
    }
}

/// A running server process, killed when dropped so a failing test leaves none behind.
pub struct Running(pub Child);

impl Running {
    /// Sends SIGTERM, as a process manager stopping the service does, and waits for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = self.0.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(sent.success(), "kill -TERM {pid}");
        self.0.wait().expect("wait")
    }
}

impl std::ops::Deref for Running {
    type Target = Child;

    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET`s `url` with `key` and returns the answer's JSON.
pub async fn get(client: &reqwest::Client, url: &str, key: &str) -> serde_json::Value {
    let response = client.get(url).bearer_auth(key).send().await;
    let response = response.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    response.json().await.expect("a JSON answer")
}

/// `POST`s `body` (or nothing) to `url` with `key` and returns the answer's JSON.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let mut request = client.post(url).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"))
        .json()
        .await
        .expect("a JSON answer")
}

/// Creates a webhook endpoint for `url` on the server at `base`; returns `data` (id, secret).
pub async fn add_endpoint(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    url: &str,
) -> serde_json::Value {
    let created = post(
        client,
        &format!("{base}/v1/webhooks"),
        key,
        Some(serde_json::json!({ "url": url })),
    )
    .await;
    created["data"].clone()
}
