//! The OAuth tools' vendor in the tests: panva's `oidc-provider`, a certified OAuth 2.0 /
//! OpenID Connect server, started on loopback from `tests/oauth/provider.mjs` (see its README),
//! with a resource API that checks the access tokens it issued. Only the end user's browser is
//! played here, over plain HTTP with the provider's cookies.

use std::{
    io::{BufRead, BufReader},
    process::{Child, ChildStdin, Command, Stdio},
};

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

/// A running authorization server. Dropping it stops it (its stdin closes, and it is killed).
pub struct Provider {
    /// Its issuer (`http://127.0.0.1:<port>`).
    pub issuer: String,
    /// The authorization endpoint.
    pub authorize: String,
    /// The token endpoint.
    pub token: String,
    /// The resource API's base: what the catalog override points the tool's API at.
    pub api_base: String,
    control: String,
    child: Child,
    _stdin: ChildStdin,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// Starts one (Node and `tests/oauth/node_modules` are installed by `scripts/test`).
    pub fn start() -> Self {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/oauth/provider.mjs"
        );
        let mut child = Command::new("node")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node tests/oauth/provider.mjs (run scripts/test to install it)");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the provider's first line");
        let started: Value = serde_json::from_str(&line).expect("the provider's JSON line");
        let field = |name: &str| started[name].as_str().expect(name).to_owned();
        Self {
            issuer: field("issuer"),
            authorize: field("authorization_endpoint"),
            token: field("token_endpoint"),
            api_base: field("api_base"),
            control: field("control"),
            child,
            _stdin: stdin,
        }
    }

    /// The catalog overrides that make the provider `tool`'s vendor.
    pub fn overrides(&self, tool: &str) -> [(String, String); 3] {
        [
            (tool.to_owned(), self.api_base.clone()),
            (format!("{tool}/authorize"), self.authorize.clone()),
            (format!("{tool}/token"), self.token.clone()),
        ]
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let response = reqwest::Client::new()
            .post(format!("{}/{path}", self.control))
            .json(&body)
            .send()
            .await
            .expect("provider control");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    /// Registers a client that may redirect to `redirect_uri`, authenticating at the token
    /// endpoint with `method` (`client_secret_basic` or `client_secret_post`).
    pub async fn add_client(&self, id: &str, secret: &str, redirect_uri: &str, method: &str) {
        self.control(
            "clients",
            json!({
                "client_id": id,
                "client_secret": secret,
                "redirect_uris": [redirect_uri],
                "token_endpoint_auth_method": method,
            }),
        )
        .await;
    }

    /// Changes the access-token lifetime (seconds) and the delay of token answers (ms).
    pub async fn configure(&self, access_token_ttl: Option<u64>, token_delay_ms: Option<u64>) {
        let mut body = serde_json::Map::new();
        if let Some(ttl) = access_token_ttl {
            body.insert("access_token_ttl".into(), ttl.into());
        }
        if let Some(delay) = token_delay_ms {
            body.insert("token_delay_ms".into(), delay.into());
        }
        self.control("config", Value::Object(body)).await;
    }

    /// Revokes every grant: refreshes answer `invalid_grant`, access tokens stop working.
    pub async fn revoke_all(&self) {
        self.control("revoke", json!({})).await;
    }

    /// Token requests so far, by grant type.
    pub async fn stats(&self) -> Value {
        reqwest::get(format!("{}/stats", self.control))
            .await
            .expect("stats")
            .json()
            .await
            .expect("stats JSON")
    }

    /// Refresh requests so far.
    pub async fn refreshes(&self) -> u64 {
        self.stats().await["token_requests"]["refresh_token"]
            .as_u64()
            .unwrap_or(0)
    }

    /// Plays the end user at the vendor: follows `authorize_url` to the sign-in form, signs
    /// in, and allows (or denies) access. Returns where the vendor sends the browser back
    /// (Plugboard's callback with `code`, `state` and `iss`, or an `error`).
    pub async fn consent(&self, authorize_url: &str, allow: bool) -> String {
        let browser = VendorBrowser::default();
        let interaction = browser.redirect_of(authorize_url).await;
        let form = [
            ("login", "ada@example.com"),
            ("password", "secret"),
            ("decision", if allow { "allow" } else { "deny" }),
        ];
        let mut next = browser.post_form(&self.absolute(&interaction), &form).await;
        // The provider resumes the authorization request, then redirects to the client.
        for _ in 0..5 {
            let absolute = self.absolute(&next);
            if !absolute.starts_with(&self.issuer) {
                return absolute;
            }
            next = browser.redirect_of(&absolute).await;
        }
        panic!("the provider never sent the browser back: {next}");
    }

    fn absolute(&self, location: &str) -> String {
        if location.starts_with('/') {
            format!("{}{location}", self.issuer)
        } else {
            location.to_owned()
        }
    }
}

/// The end user's browser at the vendor: no redirects followed, cookies kept by hand.
#[derive(Default)]
struct VendorBrowser {
    cookies: std::sync::Mutex<Vec<(String, String)>>,
}

impl VendorBrowser {
    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    fn cookie_header(&self) -> String {
        let cookies = self.cookies.lock().expect("cookies");
        cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&self, response: &reqwest::Response) {
        let mut cookies = self.cookies.lock().expect("cookies");
        for set in response.headers().get_all(header::SET_COOKIE) {
            let Some((pair, _)) = set
                .to_str()
                .ok()
                .map(|s| s.split_once(';').unwrap_or((s, "")))
            else {
                continue;
            };
            if let Some((name, value)) = pair.split_once('=') {
                cookies.retain(|(kept, _)| kept != name);
                cookies.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
    }

    async fn redirect_of(&self, url: &str) -> String {
        let response = Self::client()
            .get(url)
            .header(header::COOKIE, self.cookie_header())
            .send()
            .await
            .expect("GET at the vendor");
        self.keep(&response);
        location(&response)
    }

    async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> String {
        let response = Self::client()
            .post(url)
            .header(header::COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .expect("POST at the vendor");
        self.keep(&response);
        location(&response)
    }
}

/// The `Location` of a redirect.
#[track_caller]
pub fn location(response: &reqwest::Response) -> String {
    assert!(
        response.status().is_redirection() || response.status() == StatusCode::SEE_OTHER,
        "expected a redirect, got {}",
        response.status()
    );
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("Location")
        .to_owned()
}
