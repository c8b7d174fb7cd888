//! The [`Store`] on PostgreSQL: for production, and for several Plugboard processes sharing
//! one database. Every guarantee of the trait holds across processes: single-use links and
//! activation tokens rest on a primary key and on a conditional `UPDATE`, which PostgreSQL
//! serialises per row.

use std::{str::FromStr, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use plugboard_store::{
    ApiKey, ConsumedLink, Environment, EnvironmentName, Event, Integration, IntegrationCursor,
    IntegrationFilter, IntegrationStatus, MagicLink, NewActivationToken, NewIntegration, Relink,
    Result, Sealed, Store, StoreError,
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
    PgConnection, PgPool,
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
};
use tokio::sync::{Notify, OnceCell};

#[cfg(feature = "testing")]
pub mod testing;
mod webhooks;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

const INTEGRATION_COLUMNS: &str = "id, environment_id, tool, category, status, setup_status, \
    end_user_email, end_user_organization_name, end_user_origin_id, scope_config_id, \
    remote_environment, created_at, updated_at";

/// A PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// One connection of its own for [`Store::probe`], so the health check never waits behind
    /// a saturated `pool`.
    probe: PgPool,
    /// Signalled by the `LISTEN` task when any process commits new deliveries.
    wake: Arc<Notify>,
    /// The `LISTEN` task, started by the first worker that waits.
    listener: Arc<OnceCell<()>>,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host/db`).
    pub async fn connect(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url).map_err(from_sqlx)?;
        Self::connect_with(options).await
    }

    /// Connects with explicit options (tests use this to pin a schema).
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            // A burst of requests queues for a connection for up to this long. An outage is
            // not waited out here: the server's health watch (`Store::probe`) notices it and
            // answers 503 at once.
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(options.clone())
            .await
            .map_err(from_sqlx)?;
        let probe = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .acquire_timeout(Duration::from_millis(500))
            .connect_lazy_with(options);
        Ok(Self {
            pool,
            probe,
            wake: Arc::default(),
            listener: Arc::default(),
        })
    }

    /// Starts (once) a task that listens on this schema's delivery channel and signals `wake`.
    /// While the listening connection is down, workers still poll.
    async fn start_listener(&self) {
        let pool = self.pool.clone();
        let wake = Arc::clone(&self.wake);
        self.listener
            .get_or_init(|| async move {
                tokio::spawn(async move {
                    loop {
                        if let Err(error) = listen(&pool, &wake).await {
                            tracing::warn!(%error, "LISTEN for webhook deliveries failed; retrying");
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                });
            })
            .await;
    }

    /// The connection pool, for backend-specific work such as `LISTEN`.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Listens until the connection fails for good; `PgListener` reconnects by itself and the
/// wake after a reconnect covers notifications missed meanwhile.
async fn listen(pool: &PgPool, wake: &Notify) -> Result<()> {
    let mut listener = PgListener::connect_with(pool).await.map_err(from_sqlx)?;
    let (schema,): (String,) = sqlx::query_as("SELECT current_schema()")
        .fetch_one(pool)
        .await
        .map_err(from_sqlx)?;
    listener
        .listen(&format!("plugboard_deliveries_{schema}"))
        .await
        .map_err(from_sqlx)?;
    wake.notify_one();
    loop {
        listener.recv().await.map_err(from_sqlx)?;
        wake.notify_one();
    }
}

/// Writes an event and its deliveries (whose `NOTIFY` goes out on commit).
async fn insert_event(conn: &mut PgConnection, event: &Event) -> Result<()> {
    insert_event_row(conn, event).await?;
    webhooks::queue_deliveries(conn, event, None).await?;
    Ok(())
}

async fn insert_event_row(conn: &mut PgConnection, event: &Event) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (id, environment_id, event_type, payload, created_at, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
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
    conn: &mut PgConnection,
    link: &ConsumedLink,
    integration_id: &IntegrationId,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO consumed_links (link_id, integration_id, consumed_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
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
    conn: &mut PgConnection,
    token: &NewActivationToken,
    integration_id: &IntegrationId,
    environment_id: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO activation_tokens \
         (token_hash, integration_id, environment_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
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
impl Store for PostgresStore {
    async fn migrate(&self) -> Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|error| StoreError::Other(Box::new(error)))?;
        let now = to_millis(Utc::now());
        for name in EnvironmentName::ALL {
            sqlx::query(
                "INSERT INTO environments (id, name, scope_config_id, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
            )
            .bind(ids::new_id())
            .bind(name.as_str())
            .bind(ids::new_id())
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        }
        Ok(())
    }

    async fn probe(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.probe)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }

    async fn environments(&self) -> Result<Vec<Environment>> {
        let rows: Vec<EnvironmentRow> = sqlx::query_as(
            "SELECT id, name, scope_config_id, created_at FROM environments ORDER BY name DESC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn insert_api_key(&self, key: &ApiKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, environment_id, name, key_hash, prefix, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.id)
        .bind(&key.environment_id)
        .bind(&key.name)
        .bind(&key.key_hash)
        .bind(&key.prefix)
        .bind(to_millis(key.created_at))
        .bind(key.revoked_at.map(to_millis))
        .execute(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(())
    }

    async fn active_api_key_by_hash(&self, hash: &[u8]) -> Result<Option<ApiKey>> {
        let row: Option<ApiKeyRow> = sqlx::query_as(
            "SELECT id, environment_id, name, key_hash, prefix, created_at, revoked_at \
             FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        row.map(ApiKey::try_from).transpose()
    }

    async fn list_api_keys(&self, environment_id: Option<&str>) -> Result<Vec<ApiKey>> {
        let rows: Vec<ApiKeyRow> = sqlx::query_as(
            "SELECT id, environment_id, name, key_hash, prefix, created_at, revoked_at \
             FROM api_keys WHERE ($1::text IS NULL OR environment_id = $1) \
             ORDER BY created_at DESC, id DESC",
        )
        .bind(environment_id)
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn revoke_api_key(&self, id: &str, now: DateTime<Utc>) -> Result<bool> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(to_millis(now))
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_magic_link(&self, link: &MagicLink) -> Result<()> {
        sqlx::query(
            "INSERT INTO magic_links (id, environment_id, integration_id, end_user_email, \
             end_user_organization_name, end_user_origin_id, category, tool, created_at, \
             expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
        .execute(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(())
    }

    async fn magic_link(&self, id: &str) -> Result<Option<MagicLink>> {
        let row: Option<MagicLinkRow> = sqlx::query_as(
            "SELECT id, environment_id, integration_id, end_user_email, end_user_organization_name, \
             end_user_origin_id, category, tool, created_at, expires_at, revoked_at \
             FROM magic_links WHERE id = $1",
        )
        .bind(id)
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
        let rows: Vec<MagicLinkRow> = sqlx::query_as(
            "SELECT id, environment_id, integration_id, end_user_email, end_user_organization_name, \
             end_user_origin_id, category, tool, created_at, expires_at, revoked_at \
             FROM magic_links WHERE environment_id = $1 \
             AND ($2::bigint IS NULL OR (created_at, id) < ($2, $3)) \
             ORDER BY created_at DESC, id DESC LIMIT $4",
        )
        .bind(environment_id)
        .bind(before.map(|(at, _)| to_millis(at)))
        .bind(before.map(|(_, id)| id))
        .bind(i64::from(limit))
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
        let done = sqlx::query("UPDATE magic_links SET revoked_at = $1 WHERE environment_id = $2 AND id = $3 AND revoked_at IS NULL")
            .bind(to_millis(now))
            .bind(environment_id)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_integration(&self, new: &NewIntegration) -> Result<()> {
        let integration = &new.integration;
        let mut tx = self.pool.begin().await.map_err(from_sqlx)?;
        // The link goes first: a second completion of the same link fails before any work.
        let now = integration.created_at;
        consume_link(&mut tx, &new.link, &integration.id, now).await?;
        sqlx::query(&format!(
            "INSERT INTO integrations ({INTEGRATION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
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
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(integration.id.as_str())
        .bind(&new.credentials.key_id)
        .bind(&new.credentials.nonce)
        .bind(&new.credentials.ciphertext)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        let env = &integration.environment_id;
        insert_activation_token(&mut tx, &new.activation, &integration.id, env, now).await?;
        insert_event(&mut tx, &new.event).await?;
        tx.commit().await.map_err(from_sqlx)
    }

    async fn relink_integration(&self, relink: &Relink) -> Result<Option<Integration>> {
        let mut tx = self.pool.begin().await.map_err(from_sqlx)?;
        let row: Option<IntegrationRow> = sqlx::query_as(&format!(
            "UPDATE integrations SET status = 'ACTIVE', updated_at = $1, \
             scope_config_id = COALESCE($2, scope_config_id) \
             WHERE id = $3 AND status = $4 RETURNING {INTEGRATION_COLUMNS}"
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
            "UPDATE credentials SET key_id = $1, nonce = $2, ciphertext = $3, updated_at = $4 \
             WHERE integration_id = $5",
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
        Ok(Some(integration))
    }

    async fn redeem_activation_token(
        &self,
        environment_id: &str,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<Integration>> {
        // Under READ COMMITTED a concurrent redemption waits for the first to commit and then
        // re-checks `redeemed_at IS NULL`, so exactly one succeeds.
        let row: Option<IntegrationRow> = sqlx::query_as(&format!(
            "WITH redeemed AS ( \
                 UPDATE activation_tokens SET redeemed_at = $1 \
                 WHERE token_hash = $2 AND environment_id = $3 AND redeemed_at IS NULL \
                 AND expires_at > $1 RETURNING integration_id) \
             SELECT {INTEGRATION_COLUMNS} FROM integrations \
             WHERE id = (SELECT integration_id FROM redeemed)"
        ))
        .bind(to_millis(now))
        .bind(hash)
        .bind(environment_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        row.map(Integration::try_from).transpose()
    }

    async fn integration(
        &self,
        environment_id: &str,
        id: &IntegrationId,
    ) -> Result<Option<Integration>> {
        let row: Option<IntegrationRow> = sqlx::query_as(&format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE id = $1 AND environment_id = $2"
        ))
        .bind(id.as_str())
        .bind(environment_id)
        .fetch_optional(&self.pool)
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
             WHERE environment_id = $1 \
             AND ($2::text IS NULL OR end_user_origin_id = $2) \
             AND ($3::text IS NULL OR tool = $3) \
             AND ($4::text IS NULL OR category = $4) \
             AND ($5::text IS NULL OR status = $5) \
             AND ($6::bigint IS NULL OR (created_at, id) > ($6, $7)) \
             ORDER BY created_at, id LIMIT $8"
        ))
        .bind(environment_id)
        .bind(&filter.origin_id)
        .bind(&filter.tool)
        .bind(filter.category.map(|c| c.as_str()))
        .bind(filter.status.map(IntegrationStatus::as_str))
        .bind(after.map(|cursor| to_millis(cursor.created_at)))
        .bind(after.map(|cursor| cursor.id.as_str()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
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
        let mut tx = self.pool.begin().await.map_err(from_sqlx)?;
        let done = sqlx::query("DELETE FROM integrations WHERE id = $1 AND environment_id = $2")
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
        let mut tx = self.pool.begin().await.map_err(from_sqlx)?;
        let done = sqlx::query(
            "UPDATE integrations SET status = $1, updated_at = $2 \
             WHERE id = $3 AND environment_id = $4 AND status = $5",
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
        Ok(true)
    }

    async fn integration_credentials(&self, id: &IntegrationId) -> Result<Option<Sealed>> {
        let row: Option<SealedRow> = sqlx::query_as(
            "SELECT key_id, nonce, ciphertext FROM credentials WHERE integration_id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(row.map(Sealed::from))
    }

    async fn sealing_key_ids(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT key_id FROM credentials UNION SELECT secret_key_id FROM webhook_endpoints \
             UNION SELECT previous_key_id FROM webhook_endpoints WHERE previous_key_id IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn sealing_key_counts(&self) -> Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(SEALING_KEY_COUNTS_SQL)
            .fetch_all(&self.pool)
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
        let rows: Vec<SealedRecordRow> = sqlx::query_as(&sealed_records_sql(slot))
            .bind(current_key_id)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(rows.into_iter().map(|row| row.into_record(slot)).collect())
    }

    async fn reseal(&self, record: &SealedRecord, resealed: &Sealed) -> Result<bool> {
        let done = sqlx::query(&reseal_sql(record.slot))
            .bind(&resealed.key_id)
            .bind(&resealed.nonce)
            .bind(&resealed.ciphertext)
            .bind(&record.record_id)
            .bind(&record.sealed.nonce)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_audit_event(&self, event: &AuditEvent) -> Result<()> {
        sqlx::query(INSERT_AUDIT_EVENT_SQL)
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
        let rows: Vec<AuditEventRow> = sqlx::query_as(&list_audit_events_sql())
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
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn link_consumed(&self, link_id: &str) -> Result<bool> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT link_id FROM consumed_links WHERE link_id = $1")
                .bind(link_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(from_sqlx)?;
        Ok(row.is_some())
    }

    async fn record_event(&self, event: &Event) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(from_sqlx)?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(from_sqlx)
    }

    async fn event(&self, environment_id: &str, id: &str) -> Result<Option<Event>> {
        let row: Option<EventRow> = sqlx::query_as(
            "SELECT id, environment_id, event_type, payload, created_at, detail FROM events \
             WHERE environment_id = $1 AND id = $2",
        )
        .bind(environment_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(from_sqlx)?;
        row.map(Event::try_from).transpose()
    }

    async fn recent_events(&self, environment_id: &str, limit: u32) -> Result<Vec<Event>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT id, environment_id, event_type, payload, created_at, detail FROM events \
             WHERE environment_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(environment_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
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
        self.start_listener().await;
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
