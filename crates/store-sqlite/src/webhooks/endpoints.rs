//! [`WebhookEndpoints`] on SQLite. Every statement is shared
//! ([`plugboard_store::sql::webhooks`]); only the wake-up after enabling an endpoint is SQLite's.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use plugboard_store::{
    Result, Sealed, WebhookEndpoints,
    driver::from_sqlx,
    rows::convert_all,
    sql,
    webhooks::{EndpointChanges, WebhookEndpoint},
};

use crate::SqliteStore;

#[async_trait]
impl WebhookEndpoints for SqliteStore {
    async fn insert_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<()> {
        sql::webhooks::insert_endpoint(endpoint)
            .execute(&self.write)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }

    async fn webhook_endpoint(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>> {
        let row = sql::webhooks::endpoint(environment_id, id)
            .fetch_optional(&self.read)
            .await
            .map_err(from_sqlx)?;
        row.map(WebhookEndpoint::try_from).transpose()
    }

    async fn list_webhook_endpoints(
        &self,
        environment_id: Option<&str>,
    ) -> Result<Vec<WebhookEndpoint>> {
        let rows = sql::webhooks::endpoints(environment_id)
            .fetch_all(&self.read)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn update_webhook_endpoint(
        &self,
        environment_id: &str,
        id: &str,
        changes: &EndpointChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookEndpoint>> {
        let row = sql::webhooks::update_endpoint(environment_id, id, changes, now)
            .fetch_optional(&self.write)
            .await
            .map_err(from_sqlx)?;
        if changes.enabled == Some(true) {
            // Deliveries that waited for the endpoint are due now.
            self.wake.notify_one();
        }
        row.map(WebhookEndpoint::try_from).transpose()
    }

    async fn rotate_webhook_secret(
        &self,
        environment_id: &str,
        id: &str,
        secret: &Sealed,
        previous_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookEndpoint>> {
        let rotate =
            sql::webhooks::rotate_secret(environment_id, id, secret, previous_expires_at, now);
        let row = rotate
            .fetch_optional(&self.write)
            .await
            .map_err(from_sqlx)?;
        row.map(WebhookEndpoint::try_from).transpose()
    }

    async fn delete_webhook_endpoint(&self, environment_id: &str, id: &str) -> Result<bool> {
        let done = sql::webhooks::delete_endpoint(environment_id, id)
            .execute(&self.write)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }
}
