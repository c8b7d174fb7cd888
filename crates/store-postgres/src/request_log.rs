//! [`RequestLog`] on PostgreSQL. Every statement is shared: [`plugboard_store::sql::request_log`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use plugboard_store::{
    RequestLog, Result,
    driver::from_sqlx,
    ids::IntegrationId,
    request_log::{RequestFilter, RequestLogEntry},
    rows::convert_all,
    sql::{self, request_log::INSERT_ROWS},
};

use crate::PostgresStore;

#[async_trait]
impl RequestLog for PostgresStore {
    async fn record_requests(&self, entries: &[RequestLogEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await.map_err(from_sqlx)?;
        for chunk in entries.chunks(INSERT_ROWS) {
            sql::request_log::insert(chunk)
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
        }
        tx.commit().await.map_err(from_sqlx)
    }

    async fn list_requests(
        &self,
        environment_id: &str,
        integration_id: &IntegrationId,
        filter: &RequestFilter,
        before: Option<(DateTime<Utc>, &str)>,
        limit: u32,
    ) -> Result<Vec<RequestLogEntry>> {
        let rows = sql::request_log::list(environment_id, integration_id, filter, before, limit)
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn request_entry(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<RequestLogEntry>> {
        let row = sql::request_log::entry(environment_id, id)
            .fetch_optional(&self.pool)
            .await
            .map_err(from_sqlx)?;
        row.map(RequestLogEntry::try_from).transpose()
    }

    async fn prune_requests(&self, before: DateTime<Utc>, limit: u32) -> Result<u64> {
        let done = sql::request_log::prune(before, limit)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected())
    }
}
