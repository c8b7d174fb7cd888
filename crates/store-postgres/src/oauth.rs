//! [`Oauth`] on PostgreSQL. The statements are shared ([`plugboard_store::sql::oauth`]) but
//! two locks, which are PostgreSQL's own: the environment's row, locked while an app revision
//! is numbered or retired, and `SELECT … FOR UPDATE` on an integration's credentials.
//!
//! Single-use attempts need no lock: each is one conditional `UPDATE`, and PostgreSQL
//! re-checks the condition on the row a concurrent winner wrote, so exactly one caller
//! matches.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use plugboard_store::{
    NewOauthApp, Oauth, OauthApp, OauthAttempt, OauthResult, Result, Sealed,
    driver::from_sqlx,
    ids::IntegrationId,
    oauth::CredentialsUpdate,
    rows::{SealedRow, convert_all},
    sql,
};
use sqlx::{Postgres, Transaction};

use crate::PostgresStore;

/// Serialises changes of the environment's OAuth apps across processes. Two puts that read
/// the same latest revision would otherwise collide on the unique key, and a retire could
/// retire the revision a concurrent put was replacing. `FOR NO KEY UPDATE` leaves the foreign
/// keys that point at the environment (which take `FOR KEY SHARE`) unblocked.
async fn lock_apps(tx: &mut Transaction<'static, Postgres>, environment_id: &str) -> Result<()> {
    sqlx::query("SELECT id FROM environments WHERE id = $1 FOR NO KEY UPDATE")
        .bind(environment_id)
        .execute(&mut **tx)
        .await
        .map_err(from_sqlx)?;
    Ok(())
}

#[async_trait]
impl Oauth for PostgresStore {
    async fn put_oauth_app(&self, new: &NewOauthApp) -> Result<OauthApp> {
        let mut tx = self.begin().await?;
        lock_apps(&mut tx, &new.environment_id).await?;
        let row = sql::oauth::insert_app(new)
            .fetch_one(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        self.commit(tx).await?;
        OauthApp::try_from(row)
    }

    async fn current_oauth_app(
        &self,
        environment_id: &str,
        tool: &str,
    ) -> Result<Option<OauthApp>> {
        let row = sql::oauth::current_app(environment_id, tool)
            .fetch_optional(&self.pool)
            .await
            .map_err(from_sqlx)?;
        row.map(OauthApp::try_from).transpose()
    }

    async fn current_oauth_apps(&self, environment_id: &str) -> Result<Vec<OauthApp>> {
        let rows = sql::oauth::current_apps(environment_id)
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn oauth_app(&self, id: &str) -> Result<Option<OauthApp>> {
        let row = sql::oauth::app(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(from_sqlx)?;
        row.map(OauthApp::try_from).transpose()
    }

    async fn retire_oauth_app(
        &self,
        environment_id: &str,
        tool: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        lock_apps(&mut tx, environment_id).await?;
        let done = sql::oauth::retire_app(environment_id, tool, at)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        self.commit(tx).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_oauth_attempt(&self, attempt: &OauthAttempt) -> Result<()> {
        sql::oauth::insert_attempt(attempt)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }

    async fn consume_oauth_attempt(
        &self,
        state_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<OauthAttempt>> {
        let row = sql::oauth::consume_attempt(state_hash, now)
            .fetch_optional(&self.pool)
            .await
            .map_err(from_sqlx)?;
        row.map(OauthAttempt::try_from).transpose()
    }

    async fn finish_oauth_attempt(
        &self,
        id: &str,
        outcome: &str,
        result: Option<&Sealed>,
    ) -> Result<bool> {
        let done = sql::oauth::finish_attempt(id, outcome, result)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn oauth_attempt(&self, link_id: &str, id: &str) -> Result<Option<OauthAttempt>> {
        let row = sql::oauth::attempt(link_id, id)
            .fetch_optional(&self.pool)
            .await
            .map_err(from_sqlx)?;
        row.map(OauthAttempt::try_from).transpose()
    }

    async fn take_oauth_result(&self, link_id: &str, id: &str) -> Result<Option<OauthResult>> {
        // The first UPDATE locks the row: a concurrent taker waits, then finds it taken.
        let mut tx = self.begin().await?;
        let row = sql::oauth::take_result(link_id, id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        let Some(row) = row else {
            return Ok(None);
        };
        sql::oauth::erase_result(id)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        self.commit(tx).await?;
        OauthResult::try_from(row).map(Some)
    }

    async fn prune_oauth_attempts(&self, before: DateTime<Utc>, limit: u32) -> Result<u64> {
        let done = sql::oauth::prune_attempts(before, limit)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected())
    }

    async fn lock_credentials<'a>(
        &'a self,
        id: &'a IntegrationId,
        update: Box<dyn FnOnce(Sealed) -> CredentialsUpdate<'a> + Send + 'a>,
    ) -> Result<bool> {
        // The row lock is held, and a pooled connection with it, until the commit: another
        // process's refresh of the same integration waits at this SELECT and then reads the
        // tokens stored here.
        let mut tx = self.begin().await?;
        let current: Option<SealedRow> = sqlx::query_as(
            "SELECT key_id, nonce, ciphertext FROM credentials WHERE integration_id = $1 \
             FOR UPDATE",
        )
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        let Some(current) = current else {
            return Ok(false);
        };
        if let Some(sealed) = update(current.into()).await {
            sql::oauth::store_credentials(id, &sealed)
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
        }
        self.commit(tx).await?;
        Ok(true)
    }
}
