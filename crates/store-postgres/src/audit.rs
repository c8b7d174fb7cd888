//! [`Audit`] on PostgreSQL. Every statement is shared: [`plugboard_store::sql::audit`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use plugboard_store::{
    Audit, Result,
    audit::{ActionCount, AuditEvent, AuditFilter},
    driver::from_sqlx,
    rows::convert_all,
    sql,
};

use crate::PostgresStore;

#[async_trait]
impl Audit for PostgresStore {
    async fn record_audit_event(&self, event: &AuditEvent) -> Result<()> {
        sql::audit::insert(event)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }

    async fn list_audit_events(
        &self,
        environment_id: &str,
        filter: &AuditFilter,
        before: Option<(DateTime<Utc>, &str)>,
        limit: u32,
    ) -> Result<Vec<AuditEvent>> {
        let rows = sql::audit::list(environment_id, filter, before, limit)
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn count_audit_actions(
        &self,
        environment_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<ActionCount>> {
        let rows = sql::audit::count_by_hour(environment_id, since)
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }
}
