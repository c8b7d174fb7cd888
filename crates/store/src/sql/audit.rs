//! Shared statements of [`crate::Audit`].

use chrono::{DateTime, Utc};

use crate::{
    audit::{AuditEvent, AuditFilter},
    rows::{AUDIT_EVENT_COLUMNS, ActionCountRow, AuditEventRow},
    to_millis,
};

statements! {
    /// Appends one entry.
    fn insert<'q>(event: &'q AuditEvent) -> Query {
        sqlx::query(text!(
            "INSERT INTO audit_events ({AUDIT_EVENT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(event.id.as_str())
        .bind(event.environment_id.as_str())
        .bind(event.action.as_str())
        .bind(event.actor.as_str())
        .bind(event.target.as_deref())
        .bind(event.link_id.as_deref())
        .bind(event.ip.as_deref())
        .bind(event.user_agent.as_deref())
        .bind(event.detail.as_str())
        .bind(to_millis(event.created_at))
    }

    /// One page of an environment's trail, newest first; a `None` filter matches everything.
    /// With a target (an integration's page), the target is compared without its `IS NULL`
    /// alternative, so the `audit_events_by_target` index finds its entries instead of a walk
    /// through the whole trail.
    fn list<'q>(
        environment_id: &'q str,
        filter: &'q AuditFilter,
        before: Option<(DateTime<Utc>, &'q str)>,
        limit: u32,
    ) -> QueryAs<AuditEventRow> {
        let statement = if filter.target.is_some() {
            text!(
                "SELECT {AUDIT_EVENT_COLUMNS} FROM audit_events WHERE environment_id = $1 \
                 AND ($2 IS NULL OR action = $2) AND ($3 IS NULL OR actor = $3) \
                 AND target = $4 AND ($5 IS NULL OR link_id = $5) \
                 AND ($6 IS NULL OR created_at >= $6) AND ($7 IS NULL OR created_at < $7) \
                 AND ($8 IS NULL OR created_at < $8 OR (created_at = $8 AND id < $9)) \
                 ORDER BY created_at DESC, id DESC LIMIT $10"
            )
        } else {
            text!(
                "SELECT {AUDIT_EVENT_COLUMNS} FROM audit_events WHERE environment_id = $1 \
                 AND ($2 IS NULL OR action = $2) AND ($3 IS NULL OR actor = $3) \
                 AND ($4 IS NULL OR target = $4) AND ($5 IS NULL OR link_id = $5) \
                 AND ($6 IS NULL OR created_at >= $6) AND ($7 IS NULL OR created_at < $7) \
                 AND ($8 IS NULL OR created_at < $8 OR (created_at = $8 AND id < $9)) \
                 ORDER BY created_at DESC, id DESC LIMIT $10"
            )
        };
        sqlx::query_as(statement)
            .bind(environment_id)
            .bind(filter.action.as_deref())
            .bind(filter.actor.as_deref())
            .bind(filter.target.as_deref())
            .bind(filter.link_id.as_deref())
            .bind(filter.since.map(to_millis))
            .bind(filter.until.map(to_millis))
            .bind(before.map(|(at, _)| to_millis(at)))
            .bind(before.map(|(_, id)| id))
            .bind(i64::from(limit))
    }

    /// Entries since a time, counted by action and hour (integer division of milliseconds
    /// reads the same in both dialects).
    fn count_by_hour<'q>(environment_id: &'q str, since: DateTime<Utc>) -> QueryAs<ActionCountRow> {
        sqlx::query_as(
            "SELECT action, created_at / 3600000 AS hour, COUNT(*) AS count FROM audit_events \
             WHERE environment_id = $1 AND created_at >= $2 \
             GROUP BY action, created_at / 3600000",
        )
        .bind(environment_id)
        .bind(to_millis(since))
    }
}
