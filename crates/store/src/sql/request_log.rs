//! Shared statements of [`crate::RequestLog`].
//!
//! PostgreSQL writes a batch with multi-row `INSERT`s: the server flushes up to
//! [`INSERT_ROWS`] entries at a time, and one statement is one round trip instead of hundreds.
//! SQLite writes it as one cached single-row `INSERT` per entry inside the batch's transaction
//! ([`insert`] with one entry, cached): there is no round trip to save, and SQLite looks `$n` parameters up by
//! name, so binding a statement of thousands of them costs time quadratic in their number (the
//! passthrough benchmark found it taking a third of the server's CPU).

use std::{fmt::Write, sync::LazyLock};

use chrono::{DateTime, Utc};

use crate::{
    ids::IntegrationId,
    request_log::{RequestFilter, RequestLogEntry, StatusClass},
    rows::{REQUEST_LOG_COLUMNS, RequestLogRow},
    to_millis,
};

/// Rows per `INSERT` statement. 500 rows of 14 values are 7,000 binds, well under SQLite's
/// limit (32,766) and PostgreSQL's (65,535); a larger batch takes several statements in the
/// backend's one transaction.
pub const INSERT_ROWS: usize = 500;

/// Values per row of [`REQUEST_LOG_COLUMNS`].
const COLUMN_COUNT: usize = 14;

/// The text of an `INSERT` of `rows` rows, 1 to [`INSERT_ROWS`]. Each is a prefix of the text
/// for [`INSERT_ROWS`] rows, so that one text, built once, gives every batch size the
/// `&'static str` that `sqlx::query` borrows, without building a statement per call.
fn insert_text(rows: usize) -> &'static str {
    static TEXT: LazyLock<(String, Vec<usize>)> = LazyLock::new(|| {
        let mut text = format!("INSERT INTO request_log ({REQUEST_LOG_COLUMNS}) VALUES ");
        let mut ends = Vec::with_capacity(INSERT_ROWS);
        for row in 0..INSERT_ROWS {
            let first = row * COLUMN_COUNT + 1;
            text.push_str(if row == 0 { "(" } else { ", (" });
            for n in first..first + COLUMN_COUNT {
                let comma = if n == first { "" } else { ", " };
                write!(text, "{comma}${n}").expect("writing to a String cannot fail");
            }
            text.push(')');
            ends.push(text.len());
        }
        (text, ends)
    });
    &TEXT.0[..TEXT.1[rows - 1]]
}

/// A byte count as the 64-bit signed integer both schemas store; no body comes near the cap.
fn byte_count(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

statements! {
    /// Appends `entries`, 1 to [`INSERT_ROWS`] of them, in one statement.
    fn insert<'q>(entries: &'q [RequestLogEntry]) -> Query {
        assert!(
            (1..=INSERT_ROWS).contains(&entries.len()),
            "a request-log insert takes 1 to {INSERT_ROWS} entries, not {}",
            entries.len()
        );
        // A single-row insert (SQLite's way) is kept in the connection's statement cache;
        // multi-row texts are not: batches of every size would push the hot statements of
        // other areas out of it.
        let mut query = sqlx::query(insert_text(entries.len())).persistent(entries.len() == 1);
        for entry in entries {
            query = query
                .bind(entry.id.as_str())
                .bind(entry.environment_id.as_str())
                .bind(entry.integration_id.as_str())
                .bind(entry.tool.as_str())
                .bind(entry.api.as_str())
                .bind(entry.method.as_str())
                .bind(entry.path.as_str())
                .bind(entry.remote_status.map(i64::from))
                .bind(entry.error.as_deref())
                .bind(i64::from(entry.duration_ms))
                .bind(byte_count(entry.request_bytes))
                .bind(byte_count(entry.response_bytes))
                .bind(i64::from(entry.attempts))
                .bind(to_millis(entry.created_at));
        }
        query
    }

    /// One page of an integration's log, newest first; a `None` filter matches everything. A
    /// status class is the hundred from its lowest status, or no status at all for `Failed`.
    fn list<'q>(
        environment_id: &'q str,
        integration_id: &'q IntegrationId,
        filter: &'q RequestFilter,
        before: Option<(DateTime<Utc>, &'q str)>,
        limit: u32,
    ) -> QueryAs<RequestLogRow> {
        let lowest = filter
            .status_class
            .and_then(StatusClass::lowest_status)
            .map(i64::from);
        let failed = (filter.status_class == Some(StatusClass::Failed)).then_some(true);
        sqlx::query_as(text!(
            "SELECT {REQUEST_LOG_COLUMNS} FROM request_log \
             WHERE environment_id = $1 AND integration_id = $2 \
             AND ($3 IS NULL OR api = $3) AND ($4 IS NULL OR method = $4) \
             AND ($5 IS NULL OR (remote_status >= $5 AND remote_status < $5 + 100)) \
             AND ($6 IS NULL OR remote_status IS NULL) \
             AND ($7 IS NULL OR created_at >= $7) AND ($8 IS NULL OR created_at < $8) \
             AND ($9 IS NULL OR created_at < $9 OR (created_at = $9 AND id < $10)) \
             ORDER BY created_at DESC, id DESC LIMIT $11"
        ))
        .bind(environment_id)
        .bind(integration_id.as_str())
        .bind(filter.api.as_deref())
        .bind(filter.method.as_deref())
        .bind(lowest)
        .bind(failed)
        .bind(filter.since.map(to_millis))
        .bind(filter.until.map(to_millis))
        .bind(before.map(|(at, _)| to_millis(at)))
        .bind(before.map(|(_, id)| id))
        .bind(i64::from(limit))
    }

    /// One entry of an environment.
    fn entry<'q>(environment_id: &'q str, id: &'q str) -> QueryAs<RequestLogRow> {
        sqlx::query_as(text!(
            "SELECT {REQUEST_LOG_COLUMNS} FROM request_log WHERE environment_id = $1 AND id = $2"
        ))
        .bind(environment_id)
        .bind(id)
    }

    /// Deletes up to `limit` of the oldest entries made before `before`.
    fn prune<'q>(before: DateTime<Utc>, limit: u32) -> Query {
        sqlx::query(
            "DELETE FROM request_log WHERE id IN \
             (SELECT id FROM request_log WHERE created_at < $1 ORDER BY created_at LIMIT $2)",
        )
        .bind(to_millis(before))
        .bind(i64::from(limit))
    }

    /// Deletes an integration's log, in the transaction that deletes the integration.
    fn delete_for_integration<'q>(
        environment_id: &'q str,
        integration_id: &'q IntegrationId,
    ) -> Query {
        sqlx::query("DELETE FROM request_log WHERE environment_id = $1 AND integration_id = $2")
            .bind(environment_id)
            .bind(integration_id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_has_a_value() {
        assert_eq!(REQUEST_LOG_COLUMNS.split(',').count(), COLUMN_COUNT);
    }

    #[test]
    fn insert_texts_are_prefixes_of_the_longest() {
        assert!(
            insert_text(1)
                .ends_with("VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)")
        );
        assert!(insert_text(2).ends_with(
            "$13, $14), ($15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)"
        ));
        assert!(insert_text(INSERT_ROWS).ends_with("$6999, $7000)"));
    }
}
