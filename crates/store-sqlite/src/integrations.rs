//! [`Integrations`] on SQLite. Every write is one transaction on the writer; redemptions of
//! activation tokens are batched by [`crate::redeem`] (a group commit, since each is a write).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use plugboard_store::{
    DueCheck, Event, Integration, IntegrationCounts, IntegrationCursor, IntegrationFilter,
    IntegrationHealth, IntegrationSearch, IntegrationStatus, Integrations, ListedIntegration,
    NewIntegration, Relink, Result, Sealed,
    driver::{from_consume_error, from_sqlx},
    ids::IntegrationId,
    rows::{INTEGRATION_COLUMNS, convert_all, integration_counts},
    sql, to_millis,
};

use crate::{SqliteStore, events::write_event};

/// The dashboard's search by index, SQLite's own because its name index is FTS5's trigram
/// table (`integrations_names`, the `dashboard_search` migration), asked with the text as a
/// phrase in `$4`. `+environment_id` keeps SQLite from walking the environment's index: the
/// ids are few, found by their own indexes.
static SEARCH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {INTEGRATION_COLUMNS}, failing_since, check_due_at, checked_at FROM integrations \
         WHERE +environment_id = $1 AND $2 IS NOT NULL AND id IN ( \
             SELECT id FROM integrations WHERE id = $2 \
             UNION SELECT id FROM integrations \
                 WHERE environment_id = $1 AND end_user_origin_id = $2 \
             UNION SELECT id FROM integrations \
                 WHERE environment_id = $1 AND lower(end_user_email) = $3 \
             UNION SELECT id FROM integrations_names WHERE integrations_names MATCH $4) {}",
        sql::integrations::SEARCH_FILTERS
    )
});

#[async_trait]
impl Integrations for SqliteStore {
    async fn create_integration(&self, new: &NewIntegration) -> Result<()> {
        let integration = &new.integration;
        let (id, now) = (&integration.id, integration.created_at);
        let mut tx = self.begin().await?;
        // The link goes first: a second completion of the same link fails before any work.
        sql::links::consume(&new.link, id, now)
            .execute(&mut *tx)
            .await
            .map_err(from_consume_error)?;
        sql::integrations::insert(integration)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        sql::integrations::insert_credentials(id, &new.credentials, now)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        let env = integration.environment_id.as_str();
        sql::integrations::insert_activation_token(&new.activation, id, env, now)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        write_event(&mut tx, &new.event).await?;
        self.commit(tx).await
    }

    async fn relink_integration(&self, relink: &Relink) -> Result<Option<Integration>> {
        let mut tx = self.begin().await?;
        let row = sql::integrations::reactivate(relink)
            .fetch_optional(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let integration = Integration::try_from(row)?;
        let (id, now) = (&integration.id, relink.now);
        sql::integrations::replace_credentials(id, &relink.credentials, now)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        sql::links::consume(&relink.link, id, now)
            .execute(&mut *tx)
            .await
            .map_err(from_consume_error)?;
        let env = integration.environment_id.as_str();
        sql::integrations::insert_activation_token(&relink.activation, id, env, now)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        if let Some(event) = &relink.event {
            write_event(&mut tx, event).await?;
        }
        self.commit(tx).await?;
        Ok(Some(integration))
    }

    async fn redeem_activation_token(
        &self,
        environment_id: &str,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<Integration>> {
        self.redeemer
            .redeem(environment_id, hash, to_millis(now))
            .await
    }

    async fn integration(
        &self,
        environment_id: &str,
        id: &IntegrationId,
    ) -> Result<Option<Integration>> {
        let row = sql::integrations::get(environment_id, id)
            .fetch_optional(&self.read)
            .await
            .map_err(from_sqlx)?;
        row.map(Integration::try_from).transpose()
    }

    async fn list_integrations(
        &self,
        environment_id: &str,
        filter: &IntegrationFilter,
        after: Option<&IntegrationCursor>,
        limit: u32,
    ) -> Result<Vec<Integration>> {
        let rows = sql::integrations::list(environment_id, filter, after, limit)
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn search_integrations(
        &self,
        environment_id: &str,
        search: &IntegrationSearch,
        before: Option<&IntegrationCursor>,
        limit: u32,
    ) -> Result<Vec<ListedIntegration>> {
        let query = match sql::integrations::indexed_text(search) {
            Some(text) => sql::integrations::search_indexed(
                &SEARCH,
                environment_id,
                search,
                before,
                limit,
                Some(sql::integrations::fts5_phrase(text)),
            ),
            None => sql::integrations::search(environment_id, search, before, limit),
        };
        let rows = query.fetch_all(&self.read).await.map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn integration_health(
        &self,
        environment_id: &str,
        id: &IntegrationId,
    ) -> Result<Option<IntegrationHealth>> {
        let row = sql::integrations::health(environment_id, id)
            .fetch_optional(&self.read)
            .await
            .map_err(from_sqlx)?;
        row.map(IntegrationHealth::try_from).transpose()
    }

    async fn count_integrations(&self, environment_id: &str) -> Result<IntegrationCounts> {
        let rows = sql::integrations::count_by_status(environment_id)
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        integration_counts(rows)
    }

    async fn delete_integration(
        &self,
        environment_id: &str,
        id: &IntegrationId,
        event: &Event,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sql::integrations::delete(environment_id, id)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        // Not a cascading foreign key: the request log is written in batches that may land
        // after a deletion, and one such entry must not fail the whole batch.
        sql::request_log::delete_for_integration(environment_id, id)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        write_event(&mut tx, event).await?;
        self.commit(tx).await?;
        Ok(true)
    }

    async fn update_integration_status(
        &self,
        environment_id: &str,
        id: &IntegrationId,
        from: IntegrationStatus,
        to: IntegrationStatus,
        event: &Event,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sql::integrations::update_status(environment_id, id, from, to, now)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        write_event(&mut tx, event).await?;
        self.commit(tx).await?;
        Ok(true)
    }

    async fn integration_credentials(&self, id: &IntegrationId) -> Result<Option<Sealed>> {
        let row = sql::integrations::credentials(id)
            .fetch_optional(&self.read)
            .await
            .map_err(from_sqlx)?;
        Ok(row.map(Sealed::from))
    }

    async fn claim_connection_checks(
        &self,
        now: DateTime<Utc>,
        interval: chrono::Duration,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueCheck>> {
        let rows = sql::integrations::claim_checks(now, interval, lease_until, limit)
            .fetch_all(&self.write)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn record_connection_check(
        &self,
        id: &IntegrationId,
        updated_at: DateTime<Utc>,
        failing_since: Option<DateTime<Utc>>,
        next: DateTime<Utc>,
    ) -> Result<bool> {
        let done = sql::integrations::record_check(id, updated_at, failing_since, next)
            .execute(&self.write)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn schedule_connection_check(&self, id: &IntegrationId, at: DateTime<Utc>) -> Result<()> {
        sql::integrations::schedule_check(id, at)
            .execute(&self.write)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }
}
