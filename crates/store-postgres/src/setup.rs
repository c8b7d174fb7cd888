//! [`Setup`] on PostgreSQL: the probe has a connection of its own, so a saturated pool does
//! not look like an outage.

use async_trait::async_trait;
use chrono::Utc;
use plugboard_store::{
    Environment, EnvironmentName, EnvironmentSettings, Result, Setup, StoreError,
    driver::from_sqlx, rows::convert_all, sql, to_millis,
};

use crate::PostgresStore;

#[async_trait]
impl Setup for PostgresStore {
    async fn migrate(&self) -> Result<()> {
        crate::MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|error| StoreError::Other(Box::new(error)))?;
        let now = to_millis(Utc::now());
        for name in EnvironmentName::ALL {
            sql::setup::insert_environment(name, now)
                .execute(&self.pool)
                .await
                .map_err(from_sqlx)?;
        }
        Ok(())
    }

    async fn probe(&self) -> Result<()> {
        sql::setup::select_one()
            .execute(&self.probe)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }

    async fn ping(&self) -> Result<()> {
        sql::setup::select_one()
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }

    async fn environments(&self) -> Result<Vec<Environment>> {
        let rows = sql::setup::environments()
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn environment_settings(&self) -> Result<Vec<EnvironmentSettings>> {
        let rows = sql::setup::settings()
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn save_environment_settings(&self, settings: &EnvironmentSettings) -> Result<()> {
        sql::setup::save_settings(settings)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }
}
