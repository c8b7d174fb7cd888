//! Which catalog tools an environment may connect. The catalog (`plugboard-catalog`) knows
//! every tool; this adds the one rule that depends on the environment: tools marked
//! `development_only` (the sandbox) exist only in development.

use plugboard_catalog::{Catalog, Category, Tool};
use plugboard_store::{Environment, EnvironmentName};

use crate::config::Config;

/// The tools of `category` that `environment` can connect, in catalog order.
pub fn offered<'a>(
    catalog: &'a Catalog,
    environment: &Environment,
    category: Category,
) -> impl Iterator<Item = &'a Tool> {
    let development = environment.name == EnvironmentName::Development;
    catalog
        .tools()
        .filter(move |tool| tool.supports(category) && (development || !tool.development_only))
}

/// The tool `id` if `environment` can connect it as `category`; otherwise why not, in words
/// an operator can act on.
pub fn available<'a>(
    catalog: &'a Catalog,
    environment: &Environment,
    id: &str,
    category: Category,
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
    Ok(tool)
}

/// Absolute URL of one of a tool's images (served by `ops.rs`).
pub fn asset_url(config: &Config, tool: &str, file: &str) -> String {
    config.public(&format!("/assets/tools/{tool}/{file}"))
}
