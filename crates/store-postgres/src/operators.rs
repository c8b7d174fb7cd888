//! [`Operators`] on PostgreSQL. Every statement is shared: [`plugboard_store::sql::operators`].
//! Every operation that writes more than one statement is one transaction. A sign-in token is
//! single-use across processes because redeeming deletes its row with one conditional
//! `DELETE`: PostgreSQL re-checks a concurrent second redemption against the deleted row, so
//! it finds nothing.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use plugboard_store::{
    Operator, OperatorSession, Operators, Result, SigninToken, driver::from_sqlx,
    rows::convert_all, sql,
};

use crate::PostgresStore;

#[async_trait]
impl Operators for PostgresStore {
    async fn insert_operator(&self, operator: &Operator, token: &SigninToken) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sql::operators::insert_operator(operator)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        if done.rows_affected() == 0 {
            // The e-mail address is taken; dropping the transaction rolls it back.
            return Ok(false);
        }
        sql::operators::insert_token(token)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        self.commit(tx).await?;
        Ok(true)
    }

    async fn operator(&self, id: &str) -> Result<Option<Operator>> {
        let row = sql::operators::operator(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(from_sqlx)?;
        row.map(Operator::try_from).transpose()
    }

    async fn operator_by_email(&self, email: &str) -> Result<Option<Operator>> {
        let row = sql::operators::operator_by_email(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(from_sqlx)?;
        row.map(Operator::try_from).transpose()
    }

    async fn list_operators(&self) -> Result<Vec<Operator>> {
        let rows = sql::operators::list_operators()
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?;
        convert_all(rows)
    }

    async fn set_operator_disabled(
        &self,
        id: &str,
        disabled_at: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sql::operators::set_disabled(id, disabled_at)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if disabled_at.is_some() {
            sql::operators::delete_sessions(id)
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
            sql::operators::delete_tokens(id)
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
        }
        self.commit(tx).await?;
        Ok(true)
    }

    async fn reset_operator(&self, id: &str, token: &SigninToken) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sql::operators::reset(id)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sql::operators::delete_sessions(id)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        sql::operators::delete_tokens(id)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        sql::operators::insert_token(token)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        self.commit(tx).await?;
        Ok(true)
    }

    async fn redeem_signin_token(
        &self,
        hash: &[u8],
        password_hash: &str,
        session: &OperatorSession,
        now: DateTime<Utc>,
    ) -> Result<Option<Operator>> {
        let mut tx = self.begin().await?;
        let taken = sql::operators::take_token(hash, now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        let Some((operator_id,)) = taken else {
            return Ok(None);
        };
        let row = sql::operators::set_password(&operator_id, password_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        let Some(row) = row else {
            // A disabled operator: rolling back keeps the token (it goes with the next
            // disable or prune) and writes nothing.
            return Ok(None);
        };
        let operator = Operator::try_from(row)?;
        sql::operators::delete_sessions(&operator_id)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        sql::operators::insert_session(session, &operator_id)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        self.commit(tx).await?;
        Ok(Some(operator))
    }

    async fn signin_token_operator(
        &self,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<Operator>> {
        let row = sql::operators::token_operator(hash, now)
            .fetch_optional(&self.pool)
            .await
            .map_err(from_sqlx)?;
        row.map(Operator::try_from).transpose()
    }

    async fn record_signin_failure(
        &self,
        operator_id: &str,
        now: DateTime<Utc>,
        restart_before: DateTime<Utc>,
    ) -> Result<()> {
        sql::operators::record_failure(operator_id, now, restart_before)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }

    async fn start_operator_session(&self, session: &OperatorSession) -> Result<()> {
        let mut tx = self.begin().await?;
        sql::operators::signed_in(&session.operator_id, session.created_at)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        sql::operators::insert_session(session, &session.operator_id)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        self.commit(tx).await?;
        Ok(())
    }

    async fn operator_session(
        &self,
        id_hash: &[u8],
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> Result<Option<(OperatorSession, Operator)>> {
        let row = sql::operators::session(id_hash, now, idle_since)
            .fetch_optional(&self.pool)
            .await
            .map_err(from_sqlx)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn touch_operator_session(&self, id_hash: &[u8], now: DateTime<Utc>) -> Result<()> {
        sql::operators::touch_session(id_hash, now)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(())
    }

    async fn end_operator_session(&self, id_hash: &[u8]) -> Result<bool> {
        let done = sql::operators::delete_session(id_hash)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn end_operator_sessions(&self, operator_id: &str) -> Result<u64> {
        let done = sql::operators::delete_sessions(operator_id)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(done.rows_affected())
    }

    async fn prune_operator_sessions(
        &self,
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> Result<u64> {
        let sessions = sql::operators::prune_sessions(now, idle_since)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        let tokens = sql::operators::prune_tokens(now)
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        Ok(sessions.rows_affected() + tokens.rows_affected())
    }
}
