//! A rotated refresh token survives `kill -9`: the real binary refreshes a signed-in
//! integration's tokens, is killed at once, and its successor refreshes again with the token
//! the first one stored. Had the rotated token been lost, the authorization server
//! (`oidc-provider`, which treats the reuse of a rotated refresh token as theft) would have
//! refused the old one and revoked the whole grant.
//!
//! Also the harness of the binary signed in to the provider as Gusto, which the secrets test
//! (`oauth_secrets.rs`) shares.

use std::{
    process::Stdio,
    sync::Arc,
    time::{Duration, Instant},
};

use base64::Engine;
use plugboard::{
    integrations::open_credentials,
    oauth::TokenSet,
    vault::{MasterKey, Vault},
};
use plugboard_store::{Store, ids::IntegrationId};
use serde_json::{Value, json};

use crate::{
    binary::{Binary, get, post},
    both_backends,
    helpers::{Backend, token_of},
    oauth_provider::Provider,
    oauth_signin::{CLIENT_ID, Completed, sign_in_at},
};

/// `plugboard serve` whose Gusto is `provider`, on SQLite in a directory of its own or on a
/// schema of its own on the test PostgreSQL, with a master key the test knows, so that it can
/// open what the binary sealed.
pub struct GustoBinary {
    /// The binary's configuration (its port stays across restarts).
    pub binary: Binary,
    /// A development API key.
    pub api_key: String,
    /// The data directory (the SQLite files).
    pub dir: tempfile::TempDir,
    /// The PostgreSQL schema, when on PostgreSQL.
    pub pg_schema: Option<String>,
    /// The binary's master key.
    pub vault: Vault,
    /// A client for the binary's API.
    pub client: reqwest::Client,
}

impl GustoBinary {
    /// Configures the binary (with `extra` variables on top) and creates an API key with its
    /// command line; `serve` starts it.
    pub async fn new(backend: Backend, provider: &Provider, extra: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let master = MasterKey::generate();
        let key = base64::engine::general_purpose::STANDARD.encode(master.bytes());
        let overrides = provider
            .overrides("gusto")
            .map(|(tool, url)| format!("{tool}={url}"))
            .join(",");
        let mut env = vec![
            ("PLUGBOARD_MASTER_KEY".to_owned(), key),
            ("PLUGBOARD_TOOL_BASE_URLS".to_owned(), overrides),
        ];
        let mut pg_schema = None;
        if backend == Backend::Postgres {
            let (schema, _) = plugboard_store_postgres::testing::isolated_options()
                .await
                .expect("schema");
            let url = format!(
                "{}?options%5Bsearch_path%5D={schema}",
                plugboard_store_postgres::testing::test_url()
            );
            env.push(("PLUGBOARD_DATABASE_URL".to_owned(), url));
            pg_schema = Some(schema);
        }
        let mut all: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        all.extend_from_slice(extra);
        let binary = Binary::new(dir.path(), &all);
        let api_key = binary.api_key();
        Self {
            binary,
            api_key,
            dir,
            pg_schema,
            vault: Vault::new(&master),
            client: reqwest::Client::new(),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        self.binary.base()
    }

    /// Registers the provider's client as the environment's Gusto app over the API, with
    /// `secret`; returns the answer's text.
    pub async fn register_app(&self, provider: &Provider, secret: &str) -> String {
        let response = self
            .client
            .put(format!("{}/v1/oauth-apps/gusto", self.base()))
            .bearer_auth(&self.api_key)
            .json(&json!({
                "client_id": CLIENT_ID,
                "client_secret": secret,
                "scopes": ["openid", "offline_access"],
            }))
            .send()
            .await
            .expect("PUT /v1/oauth-apps/gusto");
        let headers = format!("{:?}", response.headers());
        let text = response.text().await.expect("body");
        let saved: Value = serde_json::from_str(&text).expect("JSON");
        let redirect_uri = saved["data"]["redirect_uri"]
            .as_str()
            .expect("redirect_uri");
        provider
            .add_client(CLIENT_ID, secret, redirect_uri, "client_secret_post")
            .await;
        format!("{headers} {text}")
    }

    /// A new link's token (HRIS, so that Gusto is offered).
    pub async fn link_token(&self) -> String {
        let created = post(
            &self.client,
            &format!("{}/v1/connect/create-link", self.base()),
            &self.api_key,
            Some(json!({
                "end_user_email": "admin@acme.example",
                "end_user_organization_name": "Acme, Inc.",
                "integration_category": "HRIS",
            })),
        )
        .await;
        token_of(created["data"]["link"].as_str().expect("link"))
    }

    /// The integration an activation token stands for.
    pub async fn redeem(&self, activation: &str) -> String {
        let url = format!(
            "{}/v1/connect/integration-by-token/{activation}",
            self.base()
        );
        let reply = get(&self.client, &url, &self.api_key).await;
        reply["data"]["id"].as_str().expect("id").to_owned()
    }

    /// Signs a new link in to Gusto and redeems it: the sign-in and the integration.
    pub async fn signed_in(&self, provider: &Provider) -> (Completed, String) {
        let link = self.link_token().await;
        let completed = sign_in_at(&self.base(), &link, provider).await;
        let integration = self.redeem(&completed.activation).await;
        (completed, integration)
    }

    /// A passthrough call to the provider's API for `integration`: the whole answer, whose
    /// `data.status` is the tool's status.
    pub async fn call(&self, integration: &str) -> Value {
        self.client
            .post(format!("{}/v1/passthrough/gusto/v1", self.base()))
            .bearer_auth(&self.api_key)
            .header("x-integration-id", integration)
            .json(&json!({"method": "GET", "path": "/me"}))
            .send()
            .await
            .expect("passthrough")
            .json()
            .await
            .expect("JSON")
    }

    /// A store on the binary's database, beside the running binary.
    pub async fn store(&self) -> Arc<dyn Store> {
        match &self.pg_schema {
            None => Arc::new(
                plugboard_store_sqlite::SqliteStore::open(&self.dir.path().join("plugboard.db"))
                    .await
                    .expect("sqlite"),
            ),
            Some(schema) => {
                let options =
                    plugboard_store_postgres::testing::schema_options(schema).expect("options");
                Arc::new(
                    plugboard_store_postgres::PostgresStore::connect_with(options)
                        .await
                        .expect("postgres"),
                )
            }
        }
    }

    /// The tokens the binary stored for `integration`, opened with its master key.
    pub async fn tokens(&self, integration: &str) -> TokenSet {
        let store = self.store().await;
        let id = IntegrationId::parse(integration).expect("integration id");
        let opened = open_credentials(store.as_ref(), &self.vault, &id)
            .await
            .expect("credentials");
        TokenSet::from_credentials(opened.get()).expect("signed-in tokens")
    }
}

async fn a_rotated_refresh_token_survives_kill_9(backend: Backend) {
    let provider = Provider::start();
    // Six-second tokens, fresh for three (half their lifetime): long enough for a restart to
    // fit in, so the successor's first call shows it found the stored access token too.
    provider.configure(Some(6), None).await;
    let gusto = GustoBinary::new(backend, &provider, &[]).await;
    let mut server = gusto.binary.serve(Stdio::inherit()).await;
    gusto.register_app(&provider, "durability-secret").await;
    let (_, integration) = gusto.signed_in(&provider).await;

    tokio::time::sleep(Duration::from_millis(3500)).await;
    let reply = gusto.call(&integration).await;
    assert_eq!(reply["data"]["status"], 200, "{reply}");
    let refreshed = Instant::now();
    // Killed the moment the call that refreshed has answered: nothing is flushed on the way out.
    server.0.kill().expect("kill -9");
    server.0.wait().expect("wait");
    drop(server);
    assert_eq!(provider.refreshes().await, 1);

    let _server = gusto.binary.serve(Stdio::inherit()).await;
    if refreshed.elapsed() < Duration::from_millis(2500) {
        // The access token of refresh #1 is still fresh: read from the database, not renewed.
        let reply = gusto.call(&integration).await;
        assert_eq!(reply["data"]["status"], 200, "{reply}");
        assert_eq!(
            provider.refreshes().await,
            1,
            "the stored access token is used"
        );
    }
    let past_half = Duration::from_millis(3500).saturating_sub(refreshed.elapsed());
    tokio::time::sleep(past_half).await;
    let reply = gusto.call(&integration).await;
    assert_eq!(reply["data"]["status"], 200, "{reply}");
    let stats = provider.stats().await;
    assert_eq!(stats["token_requests"]["refresh_token"], 2, "{stats}");
    assert_eq!(
        stats["refresh_failures"], 0,
        "the rotated refresh token was stored before the kill: {stats}"
    );
}

both_backends!(a_rotated_refresh_token_survives_kill_9);
