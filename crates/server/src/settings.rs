//! Environment settings an operator changes in the dashboard, over the configuration: the
//! product name the flow shows, and the origins allowed to frame it. A setting left empty
//! keeps the configured value (`PLUGBOARD_PRODUCT_NAME*`, `PLUGBOARD_FRAME_ANCESTORS_*`).
//!
//! The flow reads them on every page, so they are held in memory: loaded at start-up, reloaded
//! every [`RELOAD_EVERY`] (so a change made through another instance arrives within that
//! time), and replaced at once in the process that saved them.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock, Weak},
    time::Duration,
};

use chrono::Utc;
use plugboard_store::{Environment, EnvironmentName, EnvironmentSettings, Store, StoreError};

use crate::{
    AppState,
    audit::{Action, Caller},
    branding::Branding,
    error::DomainError,
};

/// How often every process reloads the settings.
pub const RELOAD_EVERY: Duration = Duration::from_secs(5);

/// The longest product name, in characters: it sits in the flow's header.
const MAX_PRODUCT_NAME: usize = 60;

/// The saved settings by environment id, as this process last read them.
#[derive(Debug, Default)]
pub struct Settings(RwLock<HashMap<String, EnvironmentSettings>>);

impl Settings {
    /// Reads every environment's settings from the store.
    pub async fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let settings = Self::default();
        settings.reload(store).await?;
        Ok(settings)
    }

    async fn reload(&self, store: &dyn Store) -> Result<(), StoreError> {
        let saved = store.environment_settings().await?;
        let by_id = saved
            .into_iter()
            .map(|settings| (settings.environment_id.clone(), settings))
            .collect();
        *crate::lock_write(&self.0) = by_id;
        Ok(())
    }

    fn get(&self, environment_id: &str) -> Option<EnvironmentSettings> {
        crate::lock_read(&self.0).get(environment_id).cloned()
    }
}

/// Reloads the settings every [`RELOAD_EVERY`] until the state is dropped.
pub fn spawn_reloading(state: &AppState) {
    let settings: Weak<Settings> = Arc::downgrade(&state.settings);
    let store = state.store.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(RELOAD_EVERY).await;
            let Some(settings) = settings.upgrade() else {
                return;
            };
            if let Err(error) = settings.reload(store.as_ref()).await {
                tracing::warn!(%error, "could not reload the environment settings; keeping the last ones");
            }
        }
    });
}

/// The origins allowed to frame the flow's pages of `environment`: the saved setting, else
/// the configuration's.
pub fn frame_ancestors(state: &AppState, environment: &Environment) -> String {
    state
        .settings
        .get(&environment.id)
        .and_then(|settings| settings.frame_ancestors)
        .unwrap_or_else(|| match environment.name {
            EnvironmentName::Production => state.config.frame_ancestors_production.clone(),
            EnvironmentName::Development => state.config.frame_ancestors_development.clone(),
        })
}

/// The flow's branding in `environment`: the configuration's, with the saved product name.
pub fn branding(state: &AppState, environment: Option<&Environment>) -> Branding {
    let name = environment.map_or(EnvironmentName::Production, |env| env.name);
    let mut branding = state.config.branding(name);
    let id = environment.map_or(&state.environments.production.id, |env| &env.id);
    if let Some(product_name) = state.settings.get(id).and_then(|s| s.product_name) {
        branding.product_name = Some(product_name);
    }
    branding
}

/// What an operator saves: empty text keeps the configured value.
#[derive(Debug, Default)]
pub struct SettingsInput {
    /// The product name the flow shows.
    pub product_name: String,
    /// The origins allowed to frame the flow, space-separated.
    pub frame_ancestors: String,
}

/// The settings saved for `environment`, if any.
pub fn saved(state: &AppState, environment: &Environment) -> Option<EnvironmentSettings> {
    state.settings.get(&environment.id)
}

/// Checks and saves `environment`'s settings; they apply in this process at once and in the
/// others within [`RELOAD_EVERY`].
pub async fn save(
    state: &AppState,
    environment: &Environment,
    input: SettingsInput,
    caller: &Caller,
) -> Result<EnvironmentSettings, DomainError> {
    let product_name = Some(input.product_name.trim())
        .filter(|name| !name.is_empty())
        .map(|name| {
            if name.chars().count() > MAX_PRODUCT_NAME || name.chars().any(char::is_control) {
                Err(DomainError::invalid(
                    "product_name",
                    format!("must be at most {MAX_PRODUCT_NAME} characters on one line"),
                ))
            } else {
                Ok(name.to_owned())
            }
        })
        .transpose()?;
    let frame_ancestors = Some(input.frame_ancestors.trim())
        .filter(|text| !text.is_empty())
        .map(|text| {
            crate::config::parse_frame_ancestors(text)
                .map_err(|message| DomainError::invalid("frame_ancestors", message))
        })
        .transpose()?;
    let settings = EnvironmentSettings {
        environment_id: environment.id.clone(),
        product_name,
        frame_ancestors,
        updated_at: Utc::now(),
    };
    state.store.save_environment_settings(&settings).await?;
    crate::lock_write(&state.settings.0).insert(environment.id.clone(), settings.clone());
    let entry = caller
        .entry(Action::SettingsUpdated)
        .target("environment", &environment.id)
        .detail("product_name", settings.product_name.clone())
        .detail("frame_ancestors", settings.frame_ancestors.clone());
    caller.record(state, &environment.id, entry).await;
    tracing::info!(environment = %environment.name, "environment settings saved");
    Ok(settings)
}
