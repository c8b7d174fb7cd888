//! Shared statements of [`crate::Setup`].

use crate::{EnvironmentName, ids, rows::ENVIRONMENT_COLUMNS, rows::EnvironmentRow};

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
}
