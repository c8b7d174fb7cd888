//! [`Sealing`] on PostgreSQL. Every statement is shared: [`plugboard_store::sql::sealing`].

use async_trait::async_trait;
use plugboard_store::{
    Result, Sealed, Sealing,
    driver::from_sqlx,
    sealing::{SealedRecord, SealedSlot},
    sql,
};

use crate::PostgresStore;

#[async_trait]
impl Sealing for PostgresStore {
    async fn sealing_key_ids(&self) -> Result<Vec<String>> {
        let rows = sql::sealing::key_ids()
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn sealing_key_counts(&self) -> Result<Vec<(String, u64)>> {
        let rows = sql::sealing::key_counts()
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
        let rows = sql::sealing::records(slot, current_key_id, after, limit)
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(rows.into_iter().map(|row| row.into_record(slot)).collect())
    }

    async fn reseal(&self, record: &SealedRecord, resealed: &Sealed) -> Result<bool> {
        let done = sql::sealing::reseal(record, resealed)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }
}
