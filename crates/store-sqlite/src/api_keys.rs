//! [`ApiKeys`] on SQLite. Every statement is shared: [`plugboard_store::sql::api_keys`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use plugboard_store::{ApiKey, ApiKeys, Result, driver::from_sqlx, rows::convert_all, sql};

use crate::SqliteStore;

#[async_trait]
impl ApiKeys for SqliteStore {
    async fn insert_api_key(&self, key: &ApiKey) -> Result<()> {
        sql::api_keys::insert(key)
            .execute(&self.write)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }

    async fn active_api_key_by_hash(&self, hash: &[u8]) -> Result<Option<ApiKey>> {
        let row = sql::api_keys::active_by_hash(hash)
            .fetch_optional(&self.read)
            .await
            .map_err(from_sqlx)?;
        row.map(ApiKey::try_from).transpose()
    }

    async fn list_api_keys(&self, environment_id: Option<&str>) -> Result<Vec<ApiKey>> {
        let rows = sql::api_keys::list(environment_id)
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn touch_api_key(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        sql::api_keys::touch(id, now)
            .execute(&self.write)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }

    async fn revoke_api_key(&self, id: &str, now: DateTime<Utc>) -> Result<bool> {
        let done = sql::api_keys::revoke(id, now)
            .execute(&self.write)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }
}
