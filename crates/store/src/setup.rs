//! Setting a database up and watching it: migrations, health checks, and the two environments
//! every installation has.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Result;

/// The two environments every Plugboard installation has. Each has its own API keys, webhook
/// endpoints and enabled tools; the `sandbox` tool exists only in development.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvironmentName {
    /// Real customers' integrations.
    Production,
    /// The operator's own testing; offers the sandbox tool.
    Development,
}

wire_enum!(EnvironmentName { Production => "production", Development => "development" });

impl EnvironmentName {
    /// Both environments.
    pub const ALL: [EnvironmentName; 2] = [Self::Production, Self::Development];
}

/// An environment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// 24 base58 characters, created by the first migration; returned by `GET /check-api-key`
    /// as `environment_id` and scoping every other record.
    pub id: String,
    /// Which of the two environments this is.
    pub name: EnvironmentName,
    /// Id of the environment's default scope config (Kombo's integrations always have one).
    pub scope_config_id: String,
    /// When the environment was first created.
    pub created_at: DateTime<Utc>,
}

/// What an operator set for an environment in the dashboard, over the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentSettings {
    /// The environment.
    pub environment_id: String,
    /// The product name the flow shows; `None` keeps `PLUGBOARD_PRODUCT_NAME*`.
    pub product_name: Option<String>,
    /// The origins allowed to frame the flow (a `frame-ancestors` source list); `None` keeps
    /// `PLUGBOARD_FRAME_ANCESTORS_*`.
    pub frame_ancestors: Option<String>,
    /// When they were last saved.
    pub updated_at: DateTime<Utc>,
}

/// Migrations, health checks and environments.
#[async_trait]
pub trait Setup: Send + Sync {
    /// Applies pending migrations and creates the two environments if they do not exist.
    async fn migrate(&self) -> Result<()>;

    /// Succeeds when the database answers a trivial query (for `/readyz`).
    async fn ping(&self) -> Result<()>;

    /// Like [`Setup::ping`], but never queues behind busy requests, so a slow answer means the
    /// database is unreachable rather than the pool saturated. The server's health watch
    /// calls it several times a second.
    async fn probe(&self) -> Result<()> {
        self.ping().await
    }

    /// Both environments, production first. Call [`Setup::migrate`] first.
    async fn environments(&self) -> Result<Vec<Environment>>;

    /// The settings operators saved, for the environments that have any.
    async fn environment_settings(&self) -> Result<Vec<EnvironmentSettings>>;

    /// Saves an environment's settings, replacing what was saved before.
    async fn save_environment_settings(&self, settings: &EnvironmentSettings) -> Result<()>;
}
