//! The [`Store`] on SQLite: Plugboard's zero-setup default.
//!
//! SQLite allows one writer at a time. Rather than let many pooled connections fight over the
//! write lock (and surface `SQLITE_BUSY`), writes go through a pool of exactly one connection,
//! which queues them in process; reads use a separate pool and, in WAL mode, never wait for
//! the writer. Other processes on the same file (the CLI while a server runs) are handled by
//! the busy timeout; every write transaction starts with a write so it never has to upgrade a
//! read lock.

use std::{path::Path, str::FromStr, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use plugboard_store::{
    ApiKey, Environment, EnvironmentName, Event, Integration, IntegrationCursor, IntegrationFilter,
    IntegrationStatus, MagicLink, NewIntegration, Relink, Result, Sealed, Store, StoreError,
    audit::{AuditEvent, AuditFilter, SealedRecord, SealedSlot},
    ids::{self, IntegrationId},
    rows::{
        ApiKeyRow, AuditEventRow, EnvironmentRow, EventRow, INSERT_AUDIT_EVENT_SQL, IntegrationRow,
        MagicLinkRow, SEALING_KEY_COUNTS_SQL, SealedRecordRow, SealedRow, convert_all, from_sqlx,
        is_unique_violation, list_audit_events_sql, reseal_sql, sealed_records_sql,
    },
    to_millis,
    webhooks::{
        AttemptOutcome, Claim, ClaimedDelivery, Delivery, DeliveryCursor, DeliveryDetail,
        DeliveryFilter, EndpointChanges, WebhookEndpoint,
    },
};
use sqlx::{
    Sqlite, SqliteConnection, SqlitePool, Transaction,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

mod redeem;
mod webhooks;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const INTEGRATION_COLUMNS: &str = "id, environment_id, tool, category, status, setup_status, \
    end_user_email, end_user_organization_name, end_user_origin_id, scope_config_id, \
    remote_environment, created_at, updated_at";

/// A SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
    redeemer: redeem::Redeemer,
    /// Signalled after a commit that may have queued webhook deliveries, so this process's
    /// worker sends them at once instead of at its next poll.
    wake: std::sync::Arc<tokio::sync::Notify>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://path` or `sqlite::memory:`
    /// is not supported: the reader and writer pools need a shared file).
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(from_sqlx)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable across application crashes in WAL mode; only an OS crash or
            // power loss can lose the last transactions.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(from_sqlx)?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await
            .map_err(from_sqlx)?;
        let redeemer = redeem::Redeemer::spawn(write.clone());
        Ok(Self {
            read,
            write,
            redeemer,
            wake: std::sync::Arc::default(),
        })
    }

    /// Opens the database file at `path`.
    pub async fn open(path: &Path) -> Result<Self> {
        Self::connect(&format!("sqlite://{}", path.display())).await
    }

    async fn begin(&self) -> Result<Transaction<'static, Sqlite>> {
        self.write.begin().await.map_err(from_sqlx)
    }
}

/// Writes an event and its deliveries. Callers signal `wake` after their commit.
async fn insert_event(conn: &mut SqliteConnection, event: &Event) -> Result<()> {
    insert_event_row(conn, event).await?;
    webhooks::queue_deliveries(conn, event, None).await?;
    Ok(())
}

async fn insert_event_row(conn: &mut SqliteConnection, event: &Event) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (id, environment_id, event_type, payload, created_at, detail) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&event.id)
    .bind(&event.environment_id)
    .bind(&event.event_type)
    .bind(&event.payload)
    .bind(to_millis(event.created_at))
    .bind(&event.detail)
    .execute(conn)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

async fn consume_link(
    conn: &mut SqliteConnection,
    link: &plugboard_store::ConsumedLink,
    integration_id: &IntegrationId,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO consumed_links (link_id, integration_id, consumed_at, expires_at) \
         VALUES (?, ?, ?, ?)",
    )
    .bind(&link.link_id)
    .bind(integration_id.as_str())
    .bind(to_millis(now))
    .bind(to_millis(link.expires_at))
    .execute(conn)
    .await
    .map_err(|error| {
        if is_unique_violation(&error) {
            StoreError::LinkAlreadyUsed
        } else {
            from_sqlx(error)
        }
    })?;
    Ok(())
}

async fn insert_activation_token(
    conn: &mut SqliteConnection,
    token: &plugboard_store::NewActivationToken,
    integration_id: &IntegrationId,
    environment_id: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO activation_tokens \
         (token_hash, integration_id, environment_id, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&token.hash)
    .bind(integration_id.as_str())
    .bind(environment_id)
    .bind(to_millis(now))
    .bind(to_millis(token.expires_at))
    .execute(conn)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<()> {
        MIGRATOR
            .run(&self.write)
            .await
            .map_err(|error| StoreError::Other(Box::new(error)))?;
        let now = to_millis(Utc::now());
        for name in EnvironmentName::ALL {
            sqlx::query(
                "INSERT INTO environments (id, name, scope_config_id, created_at) \
                 VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
            )
            .bind(ids::new_id())
            .bind(name.as_str())
            .bind(ids::new_id())
            .bind(now)
            .execute(&self.write)
            .await
            .map_err(from_sqlx)?;
        }
        Ok(())
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }

    async fn environments(&self) -> Result<Vec<Environment>> {
        let rows: Vec<EnvironmentRow> = sqlx::query_as(
            "SELECT id, name, scope_config_id, created_at FROM environments ORDER BY name DESC",
        )
        .fetch_all(&self.read)
        .await
        .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn insert_api_key(&self, key: &ApiKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, environment_id, name, key_hash, prefix, created_at, revoked_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&key.id)
        .bind(&key.environment_id)
        .bind(&key.name)
        .bind(&key.key_hash)
        .bind(&key.prefix)
        .bind(to_millis(key.created_at))
        .bind(key.revoked_at.map(to_millis))
        .execute(&self.write)
        .await
        .map_err(from_sqlx)?;
        Ok(())
    }

    async fn active_api_key_by_hash(&self, hash: &[u8]) -> Result<Option<ApiKey>> {
        let row: Option<ApiKeyRow> = sqlx::query_as(
            "SELECT id, environment_id, name, key_hash, prefix, created_at, revoked_at \
             FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(&self.read)
        .await
        .map_err(from_sqlx)?;
        row.map(ApiKey::try_from).transpose()
    }

    async fn list_api_keys(&self, environment_id: Option<&str>) -> Result<Vec<ApiKey>> {
        let rows: Vec<ApiKeyRow> = sqlx::query_as(
            "SELECT id, environment_id, name, key_hash, prefix, created_at, revoked_at \
             FROM api_keys WHERE (?1 IS NULL OR environment_id = ?1) \
             ORDER BY created_at DESC, id DESC",
        )
        .bind(environment_id)
        .fetch_all(&self.read)
        .await
        .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn revoke_api_key(&self, id: &str, now: DateTime<Utc>) -> Result<bool> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(to_millis(now))
                .bind(id)
                .execute(&self.write)
                .await
                .map_err(from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_magic_link(&self, link: &MagicLink) -> Result<()> {
        sqlx::query(
            "INSERT INTO magic_links (id, environment_id, integration_id, end_user_email, \
             end_user_organization_name, end_user_origin_id, category, tool, created_at, \
             expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&link.id)
        .bind(&link.environment_id)
        .bind(link.integration_id.as_ref().map(IntegrationId::as_str))
        .bind(&link.end_user.email)
        .bind(&link.end_user.organization_name)
        .bind(&link.end_user.origin_id)
        .bind(link.category.as_str())
        .bind(&link.tool)
        .bind(to_millis(link.created_at))
        .bind(to_millis(link.expires_at))
        .bind(link.revoked_at.map(to_millis))
        .execute(&self.write)
        .await
        .map_err(from_sqlx)?;
        Ok(())
    }

    async fn magic_link(&self, id: &str) -> Result<Option<MagicLink>> {
        let row: Option<MagicLinkRow> = sqlx::query_as(
            "SELECT id, environment_id, integration_id, end_user_email, end_user_organization_name, \
             end_user_origin_id, category, tool, created_at, expires_at, revoked_at \
             FROM magic_links WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.read)
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
        let rows: Vec<MagicLinkRow> = sqlx::query_as(
            "SELECT id, environment_id, integration_id, end_user_email, end_user_organization_name, \
             end_user_origin_id, category, tool, created_at, expires_at, revoked_at \
             FROM magic_links WHERE environment_id = ?1 \
             AND (?2 IS NULL OR created_at < ?2 OR (created_at = ?2 AND id < ?3)) \
             ORDER BY created_at DESC, id DESC LIMIT ?4",
        )
        .bind(environment_id)
        .bind(before.map(|(at, _)| to_millis(at)))
        .bind(before.map(|(_, id)| id))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
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
        let done = sqlx::query("UPDATE magic_links SET revoked_at = ?1 WHERE environment_id = ?2 AND id = ?3 AND revoked_at IS NULL")
            .bind(to_millis(now))
            .bind(environment_id)
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_integration(&self, new: &NewIntegration) -> Result<()> {
        let integration = &new.integration;
        let now = integration.created_at;
        let mut tx = self.begin().await?;
        // The link goes first: a second completion of the same link fails before any work.
        consume_link(&mut tx, &new.link, &integration.id, now).await?;
        sqlx::query(&format!(
            "INSERT INTO integrations ({INTEGRATION_COLUMNS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(integration.id.as_str())
        .bind(&integration.environment_id)
        .bind(&integration.tool)
        .bind(integration.category.as_str())
        .bind(integration.status.as_str())
        .bind(integration.setup_status.as_str())
        .bind(&integration.end_user.email)
        .bind(&integration.end_user.organization_name)
        .bind(&integration.end_user.origin_id)
        .bind(&integration.scope_config_id)
        .bind(&integration.remote_environment)
        .bind(to_millis(integration.created_at))
        .bind(to_millis(integration.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        sqlx::query(
            "INSERT INTO credentials (integration_id, key_id, nonce, ciphertext, updated_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(integration.id.as_str())
        .bind(&new.credentials.key_id)
        .bind(&new.credentials.nonce)
        .bind(&new.credentials.ciphertext)
        .bind(to_millis(integration.created_at))
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        let env = &integration.environment_id;
        insert_activation_token(&mut tx, &new.activation, &integration.id, env, now).await?;
        insert_event(&mut tx, &new.event).await?;
        tx.commit().await.map_err(from_sqlx)?;
        self.wake.notify_one();
        Ok(())
    }

    async fn relink_integration(&self, relink: &Relink) -> Result<Option<Integration>> {
        let mut tx = self.begin().await?;
        let row: Option<IntegrationRow> = sqlx::query_as(&format!(
            "UPDATE integrations SET status = 'ACTIVE', updated_at = ?, \
             scope_config_id = COALESCE(?, scope_config_id) \
             WHERE id = ? AND status = ? RETURNING {INTEGRATION_COLUMNS}"
        ))
        .bind(to_millis(relink.now))
        .bind(&relink.scope_config_id)
        .bind(relink.integration_id.as_str())
        .bind(relink.expected_status.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let integration = Integration::try_from(row)?;
        sqlx::query(
            "UPDATE credentials SET key_id = ?, nonce = ?, ciphertext = ?, updated_at = ? \
             WHERE integration_id = ?",
        )
        .bind(&relink.credentials.key_id)
        .bind(&relink.credentials.nonce)
        .bind(&relink.credentials.ciphertext)
        .bind(to_millis(relink.now))
        .bind(integration.id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        consume_link(&mut tx, &relink.link, &integration.id, relink.now).await?;
        let env = &integration.environment_id;
        insert_activation_token(
            &mut tx,
            &relink.activation,
            &integration.id,
            env,
            relink.now,
        )
        .await?;
        if let Some(event) = &relink.event {
            insert_event(&mut tx, event).await?;
        }
        tx.commit().await.map_err(from_sqlx)?;
        self.wake.notify_one();
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
        let row: Option<IntegrationRow> = sqlx::query_as(&format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE id = ? AND environment_id = ?"
        ))
        .bind(id.as_str())
        .bind(environment_id)
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
        let rows: Vec<IntegrationRow> = sqlx::query_as(&format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations \
             WHERE environment_id = ?1 \
             AND (?2 IS NULL OR end_user_origin_id = ?2) \
             AND (?3 IS NULL OR tool = ?3) \
             AND (?4 IS NULL OR category = ?4) \
             AND (?5 IS NULL OR status = ?5) \
             AND (?6 IS NULL OR created_at > ?6 OR (created_at = ?6 AND id > ?7)) \
             ORDER BY created_at, id LIMIT ?8"
        ))
        .bind(environment_id)
        .bind(&filter.origin_id)
        .bind(&filter.tool)
        .bind(filter.category.map(|c| c.as_str()))
        .bind(filter.status.map(IntegrationStatus::as_str))
        .bind(after.map(|cursor| to_millis(cursor.created_at)))
        .bind(after.map(|cursor| cursor.id.as_str()))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn delete_integration(
        &self,
        environment_id: &str,
        id: &IntegrationId,
        event: &Event,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM integrations WHERE id = ? AND environment_id = ?")
            .bind(id.as_str())
            .bind(environment_id)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(from_sqlx)?;
        self.wake.notify_one();
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
        let done = sqlx::query(
            "UPDATE integrations SET status = ?, updated_at = ? \
             WHERE id = ? AND environment_id = ? AND status = ?",
        )
        .bind(to.as_str())
        .bind(to_millis(now))
        .bind(id.as_str())
        .bind(environment_id)
        .bind(from.as_str())
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(from_sqlx)?;
        self.wake.notify_one();
        Ok(true)
    }

    async fn integration_credentials(&self, id: &IntegrationId) -> Result<Option<Sealed>> {
        let row: Option<SealedRow> = sqlx::query_as(
            "SELECT key_id, nonce, ciphertext FROM credentials WHERE integration_id = ?",
        )
        .bind(id.as_str())
        .fetch_optional(&self.read)
        .await
        .map_err(from_sqlx)?;
        Ok(row.map(Sealed::from))
    }

    async fn sealing_key_ids(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT key_id FROM credentials UNION SELECT secret_key_id FROM webhook_endpoints \
             UNION SELECT previous_key_id FROM webhook_endpoints WHERE previous_key_id IS NOT NULL",
        )
        .fetch_all(&self.read)
        .await
        .map_err(from_sqlx)?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn sealing_key_counts(&self) -> Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(SEALING_KEY_COUNTS_SQL)
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        Ok(rows
            .into_iter()
            .map(|(id, n)| (id, u64::try_from(n).unwrap_or_default()))
            .collect())
    }

    async fn sealed_records(
        &self,
        slot: SealedSlot,
        current_key_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<SealedRecord>> {
        let rows: Vec<SealedRecordRow> =
            sqlx::query_as(&sealed_records_sql(slot).replace('$', "?"))
                .bind(current_key_id)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.read)
                .await
                .map_err(from_sqlx)?;
        Ok(rows.into_iter().map(|row| row.into_record(slot)).collect())
    }

    async fn reseal(&self, record: &SealedRecord, resealed: &Sealed) -> Result<bool> {
        let done = sqlx::query(&reseal_sql(record.slot).replace('$', "?"))
            .bind(&resealed.key_id)
            .bind(&resealed.nonce)
            .bind(&resealed.ciphertext)
            .bind(&record.record_id)
            .bind(&record.sealed.nonce)
            .execute(&self.write)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_audit_event(&self, event: &AuditEvent) -> Result<()> {
        sqlx::query(&INSERT_AUDIT_EVENT_SQL.replace('$', "?"))
            .bind(&event.id)
            .bind(&event.environment_id)
            .bind(&event.action)
            .bind(&event.actor)
            .bind(&event.target)
            .bind(&event.link_id)
            .bind(&event.ip)
            .bind(&event.user_agent)
            .bind(&event.detail)
            .bind(to_millis(event.created_at))
            .execute(&self.write)
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
        let rows: Vec<AuditEventRow> = sqlx::query_as(&list_audit_events_sql().replace('$', "?"))
            .bind(environment_id)
            .bind(&filter.action)
            .bind(&filter.actor)
            .bind(&filter.target)
            .bind(&filter.link_id)
            .bind(filter.since.map(to_millis))
            .bind(filter.until.map(to_millis))
            .bind(before.map(|(at, _)| to_millis(at)))
            .bind(before.map(|(_, id)| id))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn link_consumed(&self, link_id: &str) -> Result<bool> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT link_id FROM consumed_links WHERE link_id = ?")
                .bind(link_id)
                .fetch_optional(&self.read)
                .await
                .map_err(from_sqlx)?;
        Ok(row.is_some())
    }

    async fn record_event(&self, event: &Event) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(from_sqlx)?;
        self.wake.notify_one();
        Ok(())
    }

    async fn event(&self, environment_id: &str, id: &str) -> Result<Option<Event>> {
        let row: Option<EventRow> = sqlx::query_as(
            "SELECT id, environment_id, event_type, payload, created_at, detail FROM events \
             WHERE environment_id = ? AND id = ?",
        )
        .bind(environment_id)
        .bind(id)
        .fetch_optional(&self.read)
        .await
        .map_err(from_sqlx)?;
        row.map(Event::try_from).transpose()
    }

    async fn recent_events(&self, environment_id: &str, limit: u32) -> Result<Vec<Event>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT id, environment_id, event_type, payload, created_at, detail FROM events \
             WHERE environment_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
        )
        .bind(environment_id)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn insert_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<()> {
        self.insert_endpoint(endpoint).await
    }

    async fn webhook_endpoint(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>> {
        self.endpoint(environment_id, id).await
    }

    async fn list_webhook_endpoints(
        &self,
        environment_id: Option<&str>,
    ) -> Result<Vec<WebhookEndpoint>> {
        self.endpoints(environment_id).await
    }

    async fn update_webhook_endpoint(
        &self,
        environment_id: &str,
        id: &str,
        changes: &EndpointChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookEndpoint>> {
        self.update_endpoint(environment_id, id, changes, now).await
    }

    async fn rotate_webhook_secret(
        &self,
        environment_id: &str,
        id: &str,
        secret: &Sealed,
        previous_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookEndpoint>> {
        self.rotate_secret(environment_id, id, secret, previous_expires_at, now)
            .await
    }

    async fn delete_webhook_endpoint(&self, environment_id: &str, id: &str) -> Result<bool> {
        self.delete_endpoint(environment_id, id).await
    }

    async fn queue_event_for_endpoint(
        &self,
        event: &Event,
        endpoint_id: &str,
    ) -> Result<Option<String>> {
        self.queue_for_endpoint(event, endpoint_id).await
    }

    async fn claim_deliveries(&self, claim: &Claim<'_>) -> Result<Vec<ClaimedDelivery>> {
        self.claim(claim).await
    }

    async fn release_lease(&self, lease_id: &str, now: DateTime<Utc>) -> Result<u64> {
        self.release(lease_id, now).await
    }

    async fn finish_attempts(&self, outcomes: &[AttemptOutcome], now: DateTime<Utc>) -> Result<()> {
        self.finish(outcomes, now).await
    }

    async fn next_delivery_due(&self) -> Result<Option<DateTime<Utc>>> {
        self.next_due().await
    }

    async fn wait_for_new_deliveries(&self, timeout: Duration) {
        // Only this process's commits are seen; other processes' are found by the caller's
        // polling (`timeout`).
        let _ = tokio::time::timeout(timeout, self.wake.notified()).await;
    }

    async fn list_deliveries(
        &self,
        environment_id: &str,
        endpoint_id: &str,
        filter: &DeliveryFilter,
        after: Option<&DeliveryCursor>,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        self.deliveries(environment_id, endpoint_id, filter, after, limit)
            .await
    }

    async fn delivery(&self, environment_id: &str, id: &str) -> Result<Option<DeliveryDetail>> {
        self.delivery_detail(environment_id, id).await
    }

    async fn retry_delivery(
        &self,
        environment_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Delivery>> {
        self.retry(environment_id, id, now).await
    }
}
