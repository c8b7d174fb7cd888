//! [`Setup`] on SQLite: migrations run on the writer, health checks on the reader pool.

use async_trait::async_trait;
use chrono::Utc;
use plugboard_store::{
    Environment, EnvironmentName, EnvironmentSettings, Result, Setup, StoreError,
    driver::from_sqlx, rows::convert_all, sql, to_millis,
};

use crate::SqliteStore;

#[async_trait]
impl Setup for SqliteStore {
    async fn migrate(&self) -> Result<()> {
        crate::MIGRATOR
            .run(&self.write)
            .await
            .map_err(|error| StoreError::Other(Box::new(error)))?;
        let now = to_millis(Utc::now());
        for name in EnvironmentName::ALL {
            sql::setup::insert_environment(name, now)
                .execute(&self.write)
                .await
                .map_err(from_sqlx)?;
        }
        Ok(())
    }

    async fn ping(&self) -> Result<()> {
        sql::setup::select_one()
            .execute(&self.read)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }

    async fn environments(&self) -> Result<Vec<Environment>> {
        let rows = sql::setup::environments()
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn environment_settings(&self) -> Result<Vec<EnvironmentSettings>> {
        let rows = sql::setup::settings()
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn save_environment_settings(&self, settings: &EnvironmentSettings) -> Result<()> {
        sql::setup::save_settings(settings)
            .execute(&self.write)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }
}
