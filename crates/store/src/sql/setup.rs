//! Shared statements of [`crate::Setup`].

use crate::{
    EnvironmentName, EnvironmentSettings, ids,
    rows::{ENVIRONMENT_COLUMNS, EnvironmentRow, EnvironmentSettingsRow},
    to_millis,
};

statements! {
    /// Creates the environment `name` with fresh ids, unless it exists.
    fn insert_environment<'q>(name: EnvironmentName, now: i64) -> Query {
        sqlx::query(
            "INSERT INTO environments (id, name, scope_config_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
        )
        .bind(ids::new_id())
        .bind(name.as_str())
        .bind(ids::new_id())
        .bind(now)
    }

    /// The trivial query of a health check.
    fn select_one<'q>() -> Query {
        sqlx::query("SELECT 1")
    }

    /// Both environments, production first.
    fn environments<'q>() -> QueryAs<EnvironmentRow> {
        sqlx::query_as(text!("SELECT {ENVIRONMENT_COLUMNS} FROM environments ORDER BY name DESC"))
    }

    /// Every environment's saved settings.
    fn settings<'q>() -> QueryAs<EnvironmentSettingsRow> {
        sqlx::query_as(
            "SELECT environment_id, product_name, frame_ancestors, updated_at \
             FROM environment_settings",
        )
    }

    /// Saves one environment's settings.
    fn save_settings<'q>(settings: &'q EnvironmentSettings) -> Query {
        sqlx::query(
            "INSERT INTO environment_settings \
             (environment_id, product_name, frame_ancestors, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (environment_id) DO UPDATE SET product_name = excluded.product_name, \
             frame_ancestors = excluded.frame_ancestors, updated_at = excluded.updated_at",
        )
        .bind(settings.environment_id.as_str())
        .bind(settings.product_name.as_deref())
        .bind(settings.frame_ancestors.as_deref())
        .bind(to_millis(settings.updated_at))
    }
}
