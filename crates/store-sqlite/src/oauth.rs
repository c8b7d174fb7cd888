//! [`Oauth`] on SQLite. Every statement is shared ([`plugboard_store::sql::oauth`]) but the
//! no-op write that takes the database's write lock for [`Oauth::lock_credentials`].
//!
//! The single writer connection serialises this process's writes, which is all the app
//! revisions and the single-use attempts need in process; against other processes, each write
//! statement takes the database's write lock before it reads, so a revision's number and a
//! consumption's condition are read under the lock that writes them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use plugboard_store::{
    NewOauthApp, Oauth, OauthApp, OauthAttempt, OauthResult, Result, Sealed, driver::from_sqlx,
    ids::IntegrationId, oauth::CredentialsUpdate, rows::convert_all, sql,
};

use crate::SqliteStore;

#[async_trait]
impl Oauth for SqliteStore {
    async fn put_oauth_app(&self, new: &NewOauthApp) -> Result<OauthApp> {
        let row = sql::oauth::insert_app(new)
            .fetch_one(&self.write)
            .await
            .map_err(from_sqlx)?;
        OauthApp::try_from(row)
    }

    async fn current_oauth_app(
        &self,
        environment_id: &str,
        tool: &str,
    ) -> Result<Option<OauthApp>> {
        let row = sql::oauth::current_app(environment_id, tool)
            .fetch_optional(&self.read)
            .await
            .map_err(from_sqlx)?;
        row.map(OauthApp::try_from).transpose()
    }

    async fn current_oauth_apps(&self, environment_id: &str) -> Result<Vec<OauthApp>> {
        let rows = sql::oauth::current_apps(environment_id)
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn oauth_app(&self, id: &str) -> Result<Option<OauthApp>> {
        let row = sql::oauth::app(id)
            .fetch_optional(&self.read)
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
        let done = sql::oauth::retire_app(environment_id, tool, at)
            .execute(&self.write)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_oauth_attempt(&self, attempt: &OauthAttempt) -> Result<()> {
        sql::oauth::insert_attempt(attempt)
            .execute(&self.write)
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
            .fetch_optional(&self.write)
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
            .execute(&self.write)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn oauth_attempt(&self, link_id: &str, id: &str) -> Result<Option<OauthAttempt>> {
        let row = sql::oauth::attempt(link_id, id)
            .fetch_optional(&self.read)
            .await
            .map_err(from_sqlx)?;
        row.map(OauthAttempt::try_from).transpose()
    }

    async fn take_oauth_result(&self, link_id: &str, id: &str) -> Result<Option<OauthResult>> {
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
        tx.commit().await.map_err(from_sqlx)?;
        OauthResult::try_from(row).map(Some)
    }

    async fn prune_oauth_attempts(&self, before: DateTime<Utc>, limit: u32) -> Result<u64> {
        let done = sql::oauth::prune_attempts(before, limit)
            .execute(&self.write)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected())
    }

    async fn lock_credentials<'a>(
        &'a self,
        id: &'a IntegrationId,
        update: Box<dyn FnOnce(Sealed) -> CredentialsUpdate<'a> + Send + 'a>,
    ) -> Result<bool> {
        // The writer connection is held until the commit, so this process's other writes queue
        // behind the update (the closure must not write through the store, or it waits for
        // itself); other processes wait on the database's write lock.
        let mut tx = self.begin().await?;
        // A write first: it takes the database's write lock before the credentials are read,
        // so a process that refreshed meanwhile has committed, and we read its tokens. (A
        // read first would take only a read snapshot, and the write after it could fail with
        // SQLITE_BUSY_SNAPSHOT instead of waiting.)
        let locked =
            sqlx::query("UPDATE credentials SET key_id = key_id WHERE integration_id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
        if locked.rows_affected() == 0 {
            return Ok(false);
        }
        let current = sql::integrations::credentials(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        if let Some(sealed) = update(current.into()).await {
            sql::oauth::store_credentials(id, &sealed)
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
        }
        tx.commit().await.map_err(from_sqlx)?;
        Ok(true)
    }
}
