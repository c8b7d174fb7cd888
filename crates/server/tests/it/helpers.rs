//! The test harness: a real Plugboard server on port 0, on SQLite or PostgreSQL, driven over
//! HTTP, with direct access to its state for what the API cannot do yet (completing a flow).

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use plugboard::{
    AppState, api_keys,
    config::{Config, Database, MasterKeySource},
    integrations::{self, Credentials},
    links::LinkClaims,
    tokens,
    vault::{MasterKey, Vault},
};
use plugboard_store::{EnvironmentName, Store};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::{net::TcpListener, sync::watch};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh schema on `PLUGBOARD_TEST_POSTGRES_URL`.
    Postgres,
}

/// Generates `sqlite::name` and `postgres::name` tests for each `async fn name(Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            )+
        }
    };
}

/// A running server.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The server's state, shared with the running server.
    pub state: AppState,
    /// A development API key.
    pub dev_key: String,
    /// A production API key.
    pub prod_key: String,
    /// The data directory (SQLite file, master key).
    pub data_dir: tempfile::TempDir,
    /// The PostgreSQL schema, when on PostgreSQL.
    pub pg_schema: Option<String>,
    client: reqwest::Client,
    shutdown: watch::Sender<bool>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// A parsed response: status and JSON body (`Value::Null` for a non-JSON body).
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body as JSON.
    pub json: Value,
    /// Raw body.
    pub text: String,
}

impl Reply {
    /// Reads a response whole.
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            json,
            text,
        }
    }

    /// Asserts a 200 success envelope and returns `data`.
    #[track_caller]
    pub fn data(&self) -> &Value {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "expected success, got {}",
            self.text
        );
        assert_eq!(self.json["status"], "success", "{}", self.text);
        &self.json["data"]
    }

    /// Asserts an error envelope with `status` and `code`, and returns the message.
    #[track_caller]
    pub fn error(&self, status: u16, code: Option<&str>) -> String {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        let error = &self.json["error"];
        assert_eq!(self.json["status"], "error", "{}", self.text);
        assert_eq!(error["code"].as_str(), code, "{}", self.text);
        let keys: Vec<_> = error
            .as_object()
            .expect("error object")
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            keys.len(),
            4,
            "code, title, message, log_url: {}",
            self.text
        );
        // Only a passthrough call's error has a log entry to point at.
        assert!(
            (error["log_url"].is_null()
                || error["log_url"]
                    .as_str()
                    .is_some_and(|url| url.contains("/requests/")))
                && error["title"].is_string(),
            "{}",
            self.text
        );
        error["message"].as_str().expect("message").to_owned()
    }
}

/// Configuration for a test server in `dir`.
pub fn test_config(dir: &std::path::Path, address: SocketAddr, database: Database) -> Config {
    Config {
        listen: address,
        data_dir: dir.to_path_buf(),
        database,
        public_url: format!("http://{address}").parse().expect("url"),
        master_key: MasterKeySource::Configured(MasterKey::generate()),
        metrics_token: Some(METRICS_TOKEN.to_owned().into()),
        // Every test client is 127.0.0.1, and some open a thousand connections at once; the
        // per-client cap has tests of its own (connections.rs).
        http: plugboard::config::HttpConfig {
            max_connections_per_client: Some(4096),
            ..plugboard::config::HttpConfig::default()
        },
        ..Config::defaults()
    }
}

/// The `PLUGBOARD_METRICS_TOKEN` of test servers: `/metrics` on the public listener answers
/// only requests bearing it.
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789";

/// Starts a server on `backend`.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Starts a server on `backend` after `configure` adjusts its configuration.
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (store, database, pg_schema): (Arc<dyn Store>, _, _) = match backend {
        Backend::Sqlite => {
            let path = data_dir.path().join("plugboard.db");
            let store = plugboard_store_sqlite::SqliteStore::open(&path)
                .await
                .expect("sqlite");
            (Arc::new(store), Database::Sqlite(path), None)
        }
        Backend::Postgres => {
            let (schema, options) = plugboard_store_postgres::testing::isolated_options()
                .await
                .expect("schema");
            let store = plugboard_store_postgres::PostgresStore::connect_with(options)
                .await
                .expect("postgres");
            (
                Arc::new(store),
                Database::Postgres(plugboard_store_postgres::testing::test_url()),
                Some(schema),
            )
        }
    };
    store.migrate().await.expect("migrate");
    let mut config = test_config(data_dir.path(), address, database);
    // The tests' webhook receivers listen on loopback.
    config.webhooks.allow_loopback = true;
    configure(&mut config);
    let MasterKeySource::Configured(master) = &config.master_key else {
        unreachable!()
    };
    let vault = Vault::with_previous(master, &config.previous_master_keys);
    let state = AppState::from_parts(config, store, vault)
        .await
        .expect("state");
    let cli = plugboard::audit::Caller::cli();
    let (_, dev_key) = api_keys::create(&state, EnvironmentName::Development, "tests", &cli)
        .await
        .expect("dev key");
    let (_, prod_key) = api_keys::create(&state, EnvironmentName::Production, "tests", &cli)
        .await
        .expect("prod key");
    let shutdown = run(&state, listener);
    TestApp {
        base: format!("http://{address}"),
        state,
        dev_key,
        prod_key,
        data_dir,
        pg_schema,
        client: reqwest::Client::new(),
        shutdown,
    }
}

/// Runs `state` on `listener` as `plugboard serve` does: the API, the webhook worker and the
/// connection checker, stopped together when the returned sender says so.
fn run(state: &AppState, listener: TcpListener) -> watch::Sender<bool> {
    let (shutdown, signal) = watch::channel(false);
    let server_state = state.clone();
    let mut server_signal = signal.clone();
    tokio::spawn(async move {
        let _ = plugboard::serve(server_state, listener, async move {
            let _ = server_signal.wait_for(|stop| *stop).await;
        })
        .await;
    });
    let mut worker_signal = signal.clone();
    tokio::spawn(plugboard::webhooks::worker::run(
        plugboard::webhooks::worker::Context::of(state),
        async move {
            let _ = worker_signal.wait_for(|stop| *stop).await;
        },
    ));
    let mut checks_signal = signal;
    tokio::spawn(plugboard::checks::run(
        plugboard::checks::Context::of(state),
        async move {
            let _ = checks_signal.wait_for(|stop| *stop).await;
        },
    ));
    shutdown
}

impl TestApp {
    /// A second server on the same database and master key, as a second instance behind a
    /// load balancer is: its own process state (caches, locks), the same data.
    pub async fn sibling(&self) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let store: Arc<dyn Store> = match &self.pg_schema {
            None => Arc::new(
                plugboard_store_sqlite::SqliteStore::open(
                    &self.data_dir.path().join("plugboard.db"),
                )
                .await
                .expect("sqlite"),
            ),
            Some(schema) => Arc::new(
                plugboard_store_postgres::PostgresStore::connect_with(
                    plugboard_store_postgres::testing::schema_options(schema).expect("options"),
                )
                .await
                .expect("postgres"),
            ),
        };
        let mut config = self.state.config.clone();
        config.listen = address;
        let MasterKeySource::Configured(master) = &config.master_key else {
            unreachable!()
        };
        let vault = Vault::with_previous(master, &config.previous_master_keys);
        let state = AppState::from_parts(config, store, vault)
            .await
            .expect("state");
        let shutdown = run(&state, listener);
        TestApp {
            base: format!("http://{address}"),
            state,
            dev_key: self.dev_key.clone(),
            prod_key: self.prod_key.clone(),
            data_dir: tempfile::tempdir().expect("temp dir"),
            pg_schema: self.pg_schema.clone(),
            client: reqwest::Client::new(),
            shutdown,
        }
    }
}

impl TestApp {
    /// Sends a request with an optional bearer key and optional raw JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        Reply::read(request.send().await.expect("request")).await
    }

    /// GET `/metrics` with the metrics token.
    pub async fn metrics(&self) -> Reply {
        self.send(Method::GET, "/metrics", Some(METRICS_TOKEN), None)
            .await
    }

    /// GET with the development key.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, Some(&self.dev_key), None)
            .await
    }

    /// GET with `key`, e.g. the production key.
    pub async fn get_as(&self, key: &str, path: &str) -> Reply {
        self.send(Method::GET, path, Some(key), None).await
    }

    /// A JSON request with the development key.
    pub async fn json(&self, method: Method, path: &str, body: Value) -> Reply {
        self.send(method, path, Some(&self.dev_key), Some(body.to_string()))
            .await
    }

    /// Creates a link for the standard test customer with `key`.
    pub async fn create_link_as(&self, key: &str, extra: Value) -> String {
        let mut body = serde_json::json!({
            "end_user_email": "admin@acme.example",
            "end_user_organization_name": "Acme, Inc.",
            "end_user_origin_id": "36123",
        });
        for (field, value) in extra.as_object().expect("object") {
            body[field] = value.clone();
        }
        let reply = self
            .send(
                Method::POST,
                "/v1/connect/create-link",
                Some(key),
                Some(body.to_string()),
            )
            .await;
        reply.data()["link"].as_str().expect("link").to_owned()
    }

    /// Creates a link in development for the standard test customer.
    pub async fn create_link(&self, extra: Value) -> String {
        self.create_link_as(&self.dev_key, extra).await
    }

    /// Verifies the token inside a link, as the hosted flow will.
    pub fn claims(&self, link: &str) -> LinkClaims {
        let url = reqwest::Url::parse(link).expect("absolute link");
        let token = url
            .query_pairs()
            .find(|(k, _)| k == "token")
            .expect("token")
            .1
            .into_owned();
        tokens::verify_link(&self.state.vault, &token, chrono::Utc::now()).expect("valid link")
    }

    /// Completes the flow of `link` with `tool` and returns the activation token.
    pub async fn complete(&self, link: &str, tool: &str, secret: &str) -> String {
        let credentials: Credentials = [("api_key".to_owned(), secret.to_owned())].into();
        integrations::complete_connection(&self.state, &self.claims(link), tool, &credentials)
            .await
            .expect("flow completes")
    }

    /// Connects `tool` in development with `credentials` (the flow's last step, without the
    /// verification request) and returns the integration id.
    pub async fn connect_tool(&self, tool: &str, credentials: &[(&str, &str)]) -> String {
        let category = self
            .state
            .catalog
            .get(tool)
            .expect("a catalog tool")
            .categories[0];
        let link = self
            .create_link(serde_json::json!({
                "integration_tool": tool,
                "integration_category": category.as_str(),
            }))
            .await;
        let credentials: Credentials = credentials
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let token =
            integrations::complete_connection(&self.state, &self.claims(&link), tool, &credentials)
                .await
                .expect("flow completes");
        self.redeem(&token).await
    }

    /// A passthrough call (`POST /v1/passthrough/{path}`) for `integration` with the
    /// development key.
    pub async fn passthrough(&self, path: &str, integration: &str, body: Value) -> Reply {
        let response = self
            .client
            .post(format!("{}/v1/passthrough/{path}", self.base))
            .bearer_auth(&self.dev_key)
            .header("x-integration-id", integration)
            .json(&body)
            .send()
            .await
            .expect("request");
        Reply::read(response).await
    }

    /// Creates a `personio` integration in development through a link and returns its id.
    pub async fn connected_integration(&self) -> String {
        let link = self.create_link(serde_json::json!({})).await;
        let token = self.complete(&link, "personio", "secret").await;
        self.redeem(&token).await
    }

    /// Every result of the paged list at `path`, `page_size` at a time, following `next`.
    pub async fn every_page(&self, path: &str, page_size: usize) -> Vec<Value> {
        let mut results = Vec::new();
        let mut cursor = String::new();
        loop {
            let reply = self
                .get(&format!("{path}?page_size={page_size}&cursor={cursor}"))
                .await;
            results.extend(reply.data()["results"].as_array().expect("results").clone());
            match reply.data()["next"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => return results,
            }
        }
    }

    /// Redeems an activation token with the development key; returns the integration's id.
    pub async fn redeem(&self, token: &str) -> String {
        let reply = self
            .get(&format!("/v1/connect/integration-by-token/{token}"))
            .await;
        string(reply.data(), "id")
    }

    /// Creates a relink link for integration `id` with default options; returns the link.
    pub async fn relink(&self, id: &str) -> String {
        let path = format!("/v1/integrations/{}/relink", encode(id));
        let reply = self.json(Method::POST, &path, serde_json::json!({})).await;
        string(reply.data(), "link")
    }

    /// Deletes integration `id` as Kombo's SDK does (a `{}` body), asserting success.
    pub async fn delete_integration(&self, id: &str) {
        let path = format!("/v1/integrations/{}", encode(id));
        self.json(Method::DELETE, &path, serde_json::json!({}))
            .await
            .data();
    }

    /// Enables or disables integration `id`, asserting success.
    pub async fn set_integration_enabled(&self, id: &str, enabled: bool) {
        let path = format!("/v1/integrations/{}/enabled", encode(id));
        self.json(Method::PUT, &path, serde_json::json!({ "value": enabled }))
            .await
            .data();
    }

    /// Adds a development webhook endpoint for `url` receiving every event type; returns
    /// (id, secret).
    pub async fn add_webhook(&self, url: &str) -> (String, String) {
        self.post_webhook(serde_json::json!({ "url": url })).await
    }

    /// Adds a development webhook endpoint for `url` receiving only `events`; returns
    /// (id, secret).
    pub async fn add_webhook_for(&self, url: &str, events: &[&str]) -> (String, String) {
        self.post_webhook(serde_json::json!({ "url": url, "events": events }))
            .await
    }

    async fn post_webhook(&self, body: Value) -> (String, String) {
        let reply = self.json(Method::POST, "/v1/webhooks", body).await;
        (string(reply.data(), "id"), string(reply.data(), "secret"))
    }

    /// Enables or disables webhook endpoint `id`, asserting success.
    pub async fn set_webhook_enabled(&self, id: &str, enabled: bool) {
        let path = format!("/v1/webhooks/{id}");
        self.json(
            Method::PATCH,
            &path,
            serde_json::json!({ "enabled": enabled }),
        )
        .await
        .data();
    }

    /// Rotates the secret of webhook endpoint `id`; returns the new secret.
    pub async fn rotate_webhook_secret(&self, id: &str) -> String {
        let path = format!("/v1/webhooks/{id}/rotate-secret");
        let reply = self
            .send(Method::POST, &path, Some(&self.dev_key), None)
            .await;
        string(reply.data(), "secret")
    }

    /// Deletes webhook endpoint `id`, asserting success.
    pub async fn delete_webhook(&self, id: &str) {
        let path = format!("/v1/webhooks/{id}");
        self.send(Method::DELETE, &path, Some(&self.dev_key), None)
            .await
            .data();
    }

    /// Queues a test event for webhook endpoint `id` with the development key; returns
    /// (event id, delivery id).
    pub async fn test_webhook(&self, id: &str) -> (String, String) {
        self.test_webhook_as(&self.dev_key, id).await
    }

    /// Queues a test event for webhook endpoint `id` with `key`; returns (event id, delivery id).
    pub async fn test_webhook_as(&self, key: &str, id: &str) -> (String, String) {
        let path = format!("/v1/webhooks/{id}/test");
        let reply = self.send(Method::POST, &path, Some(key), None).await;
        (
            string(reply.data(), "event_id"),
            string(reply.data(), "delivery_id"),
        )
    }

    /// The newest events of the development environment: (type, payload JSON).
    pub async fn events(&self) -> Vec<(String, Value)> {
        let env = &self.state.environments.development.id;
        let events = self
            .state
            .store
            .recent_events(env, 100)
            .await
            .expect("events");
        events
            .into_iter()
            .map(|event| {
                (
                    event.event_type,
                    serde_json::from_str(&event.payload).expect("payload is JSON"),
                )
            })
            .collect()
    }

    /// Files of the SQLite database (main file and write-ahead log).
    pub fn sqlite_files(&self) -> Vec<PathBuf> {
        ["plugboard.db", "plugboard.db-wal"]
            .iter()
            .map(|f| self.data_dir.path().join(f))
            .filter(|p| p.exists())
            .collect()
    }
}

/// The string `field` of a JSON object, owned; panics naming the field when it is missing.
#[track_caller]
pub fn string(object: &Value, field: &str) -> String {
    object[field]
        .as_str()
        .unwrap_or_else(|| panic!("no string {field} in {object}"))
        .to_owned()
}

/// Percent-encodes an integration id as Kombo's SDK does (`:` → `%3A`).
pub fn encode(id: &str) -> String {
    id.replace(':', "%3A")
}

/// The token of a link URL.
pub fn token_of(link: &str) -> String {
    link.split_once("token=").expect("token").1.to_owned()
}

/// Fetches the credentials page of `tool` from the server at `base` and returns its signed
/// form state.
pub async fn form_state(base: &str, token: &str, tool: &str) -> String {
    let page = reqwest::get(format!(
        "{base}/connect?token={token}&tool={tool}&step=credentials"
    ))
    .await
    .expect("credentials page");
    assert_eq!(page.status(), 200);
    let text = page.text().await.expect("body");
    let marker = "name=\"state\" value=\"";
    let start = text.find(marker).expect("state field") + marker.len();
    text[start..].split('"').next().expect("state").to_owned()
}

/// Opens the credentials page of `tool` and posts its form with `fields`, as an end user's
/// browser does: status and body.
pub async fn fill_in(
    base: &str,
    token: &str,
    tool: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let state = form_state(base, token, tool).await;
    submit(base, token, tool, &state, fields).await
}

/// Posts the credentials form as a browser on the flow's own page would: status and body.
pub async fn submit(
    base: &str,
    token: &str,
    tool: &str,
    state: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let response = submit_response(base, token, tool, state, fields).await;
    (
        response.status().as_u16(),
        response.text().await.expect("body"),
    )
}

/// Posts the credentials form and returns the whole response.
pub async fn submit_response(
    base: &str,
    token: &str,
    tool: &str,
    state: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![
        ("token".to_owned(), token.to_owned()),
        ("tool".to_owned(), tool.to_owned()),
        ("state".to_owned(), state.to_owned()),
    ];
    form.extend(
        fields
            .iter()
            .map(|(k, v)| (format!("field.{k}"), (*v).to_owned())),
    );
    reqwest::Client::new()
        .post(format!("{base}/connect/verify"))
        .header("origin", base)
        .form(&form)
        .send()
        .await
        .expect("post")
}

/// A data-only `pg_dump` of the test schema `schema`: what the database holds, as bytes.
pub fn pg_dump(schema: &str) -> Vec<u8> {
    let output = std::process::Command::new("pg_dump")
        .arg("--dbname")
        .arg(plugboard_store_postgres::testing::test_url())
        .arg("--schema")
        .arg(schema)
        .arg("--data-only")
        .output()
        .expect("pg_dump is installed (postgresql-client)");
    assert!(
        output.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// The activation token on the flow's success page.
pub fn activation_token(html: &str) -> String {
    let marker = "data-activation-token=\"";
    let start = html
        .find(marker)
        .expect("activation token on the success page")
        + marker.len();
    html[start..].split('"').next().expect("token").to_owned()
}
