//! Which catalog tools an environment may connect. The catalog (`plugboard-catalog`) knows
//! every tool; this adds the rules that depend on the environment: tools marked
//! `development_only` (the sandbox) exist only in development, and an OAuth-only tool exists
//! only where the operator registered an OAuth app for it (a tool nobody can sign in to is
//! not offered as a dead end).

use std::collections::BTreeSet;

use plugboard_catalog::{AuthKind, Catalog, Category, Tool};
use plugboard_store::{Environment, EnvironmentName, StoreError};

use crate::{AppState, config::Config};

/// The tools an environment's end users sign in to: those with an `[oauth]` section and a
/// current OAuth app there.
#[derive(Debug, Clone, Default)]
pub struct SignIns(BTreeSet<String>);

impl SignIns {
    /// The sign-in tools of `environment`, read from its OAuth apps.
    pub async fn of(state: &AppState, environment: &Environment) -> Result<Self, StoreError> {
        let apps = state.store.current_oauth_apps(&environment.id).await?;
        Ok(Self(apps.into_iter().map(|app| app.tool).collect()))
    }

    /// Whether end users connect `tool` by signing in (rather than with a key).
    pub fn signs_in(&self, tool: &Tool) -> bool {
        tool.signs_in() && self.0.contains(&tool.id)
    }

    /// Whether `tool` can be connected at all: an OAuth-only tool needs an app.
    fn connectable(&self, tool: &Tool) -> bool {
        tool.auth != AuthKind::Oauth2 || self.signs_in(tool)
    }
}

/// The tools of `category` that `environment` can connect, in catalog order.
pub fn offered<'a>(
    catalog: &'a Catalog,
    environment: &Environment,
    category: Category,
    sign_ins: &'a SignIns,
) -> impl Iterator<Item = &'a Tool> {
    let development = environment.name == EnvironmentName::Development;
    catalog.tools().filter(move |tool| {
        tool.supports(category)
            && (development || !tool.development_only)
            && sign_ins.connectable(tool)
    })
}

/// The tool `id` if `environment` can connect it as `category`; otherwise why not, in words
/// an operator can act on.
pub fn available<'a>(
    catalog: &'a Catalog,
    environment: &Environment,
    id: &str,
    category: Category,
    sign_ins: &SignIns,
) -> Result<&'a Tool, String> {
    let tool = catalog
        .get(id)
        .ok_or_else(|| format!("{id:?} is not a tool Plugboard knows"))?;
    if tool.development_only && environment.name != EnvironmentName::Development {
        return Err(format!(
            "{id:?} is only available in the development environment"
        ));
    }
    if !tool.supports(category) {
        return Err(format!("{} cannot be connected as {category}", tool.label));
    }
    if !sign_ins.connectable(tool) {
        return Err(format!(
            "{} is connected by signing in with OAuth, and this environment has no OAuth app for it: register one with PUT /v1/oauth-apps/{}",
            tool.label, tool.id
        ));
    }
    Ok(tool)
}

/// Absolute URL of one of a tool's images (served by `ops.rs`).
pub fn asset_url(config: &Config, tool: &str, file: &str) -> String {
    config.public(&format!("/assets/tools/{tool}/{file}"))
}
