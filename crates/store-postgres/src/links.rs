//! [`Links`] on PostgreSQL. Every statement is shared: [`plugboard_store::sql::links`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use plugboard_store::{
    LinkProgress, Links, MagicLink, Result, driver::from_sqlx, rows::convert_all, sql,
};

use crate::PostgresStore;

#[async_trait]
impl Links for PostgresStore {
    async fn insert_magic_link(&self, link: &MagicLink) -> Result<()> {
        sql::links::insert(link)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }

    async fn magic_link(&self, id: &str) -> Result<Option<MagicLink>> {
        let row = sql::links::get(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(from_sqlx)?;
        row.map(MagicLink::try_from).transpose()
    }

    async fn list_magic_links(
        &self,
        environment_id: &str,
        before: Option<(DateTime<Utc>, &str)>,
        limit: u32,
    ) -> Result<Vec<MagicLink>> {
        let rows = sql::links::list(environment_id, before, limit)
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn list_link_progress(
        &self,
        environment_id: &str,
        before: Option<(DateTime<Utc>, &str)>,
        limit: u32,
    ) -> Result<Vec<LinkProgress>> {
        let rows = sql::links::list_progress(environment_id, before, limit)
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn revoke_magic_link(
        &self,
        environment_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = sql::links::revoke(environment_id, id, now)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn link_consumed(&self, link_id: &str) -> Result<bool> {
        let row = sql::links::consumed(link_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(row.is_some())
    }
}
