//! [`Events`] on SQLite, and the write of an event with its deliveries that every
//! event-writing transaction runs.

use async_trait::async_trait;
use plugboard_store::{Event, Events, Result, driver::from_sqlx, rows::convert_all, sql};
use sqlx::SqliteConnection;

use crate::SqliteStore;

/// Writes an event and its deliveries. Callers wake the worker after their commit
/// ([`SqliteStore::commit`]).
pub(crate) async fn write_event(conn: &mut SqliteConnection, event: &Event) -> Result<()> {
    sql::events::insert(event)
        .execute(&mut *conn)
        .await
        .map_err(from_sqlx)?;
    crate::webhooks::queue_deliveries(conn, event, None).await?;
    Ok(())
}

#[async_trait]
impl Events for SqliteStore {
    async fn record_event(&self, event: &Event) -> Result<()> {
        let mut tx = self.begin().await?;
        write_event(&mut tx, event).await?;
        self.commit(tx).await
    }

    async fn event(&self, environment_id: &str, id: &str) -> Result<Option<Event>> {
        let row = sql::events::get(environment_id, id)
            .fetch_optional(&self.read)
            .await
            .map_err(from_sqlx)?;
        row.map(Event::try_from).transpose()
    }

    async fn integration_events(
        &self,
        environment_id: &str,
        integration_id: &str,
        limit: u32,
    ) -> Result<Vec<Event>> {
        let rows = sql::events::of_integration(environment_id, integration_id, limit)
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn recent_events(&self, environment_id: &str, limit: u32) -> Result<Vec<Event>> {
        let rows = sql::events::recent(environment_id, limit)
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }
}
