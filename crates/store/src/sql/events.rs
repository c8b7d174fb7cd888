//! Shared statements of [`crate::Events`]. The fan-out of an event to its deliveries differs
//! between the dialects and lives in each backend's `webhooks` module.

use crate::{
    Event,
    rows::{EVENT_COLUMNS, EventRow},
    to_millis,
};

statements! {
    /// Writes the event row (without its deliveries).
    fn insert<'q>(event: &'q Event) -> Query {
        sqlx::query(text!(
            "INSERT INTO events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
            .bind(event.id.as_str())
            .bind(event.environment_id.as_str())
            .bind(event.event_type.as_str())
            .bind(event.payload.as_str())
            .bind(to_millis(event.created_at))
            .bind(event.detail.as_deref())
            .bind(event.integration_id.as_deref())
    }

    /// The newest events about one integration.
    fn of_integration<'q>(environment_id: &'q str, integration_id: &'q str, limit: u32) -> QueryAs<EventRow> {
        sqlx::query_as(text!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE environment_id = $1 AND integration_id = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        ))
        .bind(environment_id)
        .bind(integration_id)
        .bind(i64::from(limit))
    }

    /// The event with this id in this environment.
    fn get<'q>(environment_id: &'q str, id: &'q str) -> QueryAs<EventRow> {
        sqlx::query_as(text!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE environment_id = $1 AND id = $2"
        ))
        .bind(environment_id)
        .bind(id)
    }

    /// The event with this id, whatever its environment (a delivery's own event).
    fn by_id<'q>(id: &'q str) -> QueryAs<EventRow> {
        sqlx::query_as(text!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1")).bind(id)
    }

    /// The newest events of an environment.
    fn recent<'q>(environment_id: &'q str, limit: u32) -> QueryAs<EventRow> {
        sqlx::query_as(text!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE environment_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(environment_id)
        .bind(i64::from(limit))
    }
}
