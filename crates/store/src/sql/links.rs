//! Shared statements of [`crate::Links`], and the consumption of a link that the
//! integrations' transactions run.

use chrono::{DateTime, Utc};

use crate::{
    ConsumedLink, MagicLink,
    ids::IntegrationId,
    rows::{LinkProgressRow, MAGIC_LINK_COLUMNS, MagicLinkRow},
    to_millis,
};

/// The order of the end user's steps within one millisecond (entries written in the same
/// millisecond have random ids): a later stage of the flow is the later step.
const STEP_ORDER: &str = "CASE a.action WHEN 'link.completed' THEN 5 \
    WHEN 'link.verification_failed' THEN 4 WHEN 'link.verification_succeeded' THEN 4 \
    WHEN 'link.credentials_submitted' THEN 3 WHEN 'link.signin_started' THEN 3 \
    WHEN 'link.tool_chosen' THEN 2 ELSE 1 END";

statements! {
    /// Records a magic link.
    fn insert<'q>(link: &'q MagicLink) -> Query {
        sqlx::query(text!(
            "INSERT INTO magic_links ({MAGIC_LINK_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(link.id.as_str())
        .bind(link.environment_id.as_str())
        .bind(link.integration_id.as_ref().map(IntegrationId::as_str))
        .bind(link.end_user.email.as_deref())
        .bind(link.end_user.organization_name.as_str())
        .bind(link.end_user.origin_id.as_deref())
        .bind(link.category.as_str())
        .bind(link.tool.as_deref())
        .bind(to_millis(link.created_at))
        .bind(to_millis(link.expires_at))
        .bind(link.revoked_at.map(to_millis))
    }

    /// The link with this id.
    fn get<'q>(id: &'q str) -> QueryAs<MagicLinkRow> {
        sqlx::query_as(text!("SELECT {MAGIC_LINK_COLUMNS} FROM magic_links WHERE id = $1"))
            .bind(id)
    }

    /// A page of an environment's links, newest first, before a `(created_at, id)` position.
    fn list<'q>(
        environment_id: &'q str,
        before: Option<(DateTime<Utc>, &'q str)>,
        limit: u32,
    ) -> QueryAs<MagicLinkRow> {
        sqlx::query_as(text!(
            "SELECT {MAGIC_LINK_COLUMNS} FROM magic_links WHERE environment_id = $1 \
             AND ($2 IS NULL OR (created_at, id) < ($2, $3)) \
             ORDER BY created_at DESC, id DESC LIMIT $4"
        ))
        .bind(environment_id)
        .bind(before.map(|(at, _)| to_millis(at)))
        .bind(before.map(|(_, id)| id))
        .bind(i64::from(limit))
    }

    /// Revokes an unrevoked link of the environment.
    fn revoke<'q>(environment_id: &'q str, id: &'q str, now: DateTime<Utc>) -> Query {
        sqlx::query(
            "UPDATE magic_links SET revoked_at = $1 \
             WHERE environment_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(to_millis(now))
        .bind(environment_id)
        .bind(id)
    }

    /// A page of magic links with their progress: correlated subqueries on the audit trail's
    /// `(environment_id, link_id)` index and the consumption's primary key, so each link costs
    /// a few index lookups whatever the trail's size. The last step is the end user's own.
    fn list_progress<'q>(
        environment_id: &'q str,
        before: Option<(DateTime<Utc>, &'q str)>,
        limit: u32,
    ) -> QueryAs<LinkProgressRow> {
        sqlx::query_as(text!(
            "SELECT {MAGIC_LINK_COLUMNS}, \
             CAST((SELECT COUNT(*) FROM consumed_links c WHERE c.link_id = m.id) AS BIGINT) AS used, \
             (SELECT MIN(a.created_at) FROM audit_events a WHERE a.environment_id = m.environment_id \
                AND a.link_id = m.id AND a.action = 'link.opened') AS opened_at, \
             (SELECT a.action FROM audit_events a WHERE a.environment_id = m.environment_id \
                AND a.link_id = m.id AND a.actor = 'end_user' \
                ORDER BY a.created_at DESC, {STEP_ORDER} DESC, a.id DESC LIMIT 1) AS last_step, \
             (SELECT a.detail FROM audit_events a WHERE a.environment_id = m.environment_id \
                AND a.link_id = m.id AND a.actor = 'end_user' \
                ORDER BY a.created_at DESC, {STEP_ORDER} DESC, a.id DESC LIMIT 1) AS last_detail, \
             (SELECT a.created_at FROM audit_events a WHERE a.environment_id = m.environment_id \
                AND a.link_id = m.id AND a.actor = 'end_user' \
                ORDER BY a.created_at DESC, {STEP_ORDER} DESC, a.id DESC LIMIT 1) AS last_step_at \
             FROM magic_links m WHERE m.environment_id = $1 \
             AND ($2 IS NULL OR (m.created_at, m.id) < ($2, $3)) \
             ORDER BY m.created_at DESC, m.id DESC LIMIT $4"
        ))
        .bind(environment_id)
        .bind(before.map(|(at, _)| to_millis(at)))
        .bind(before.map(|(_, id)| id))
        .bind(i64::from(limit))
    }

    /// The consumption record of a link, if it completed a flow.
    fn consumed<'q>(link_id: &'q str) -> QueryAs<(String,)> {
        sqlx::query_as("SELECT link_id FROM consumed_links WHERE link_id = $1").bind(link_id)
    }

    /// Consumes a link; a second consumption violates the primary key (map the error with
    /// [`crate::driver::from_consume_error`]).
    fn consume<'q>(
        link: &'q ConsumedLink,
        integration_id: &'q IntegrationId,
        now: DateTime<Utc>,
    ) -> Query {
        sqlx::query(
            "INSERT INTO consumed_links (link_id, integration_id, consumed_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(link.link_id.as_str())
        .bind(integration_id.as_str())
        .bind(to_millis(now))
        .bind(to_millis(link.expires_at))
    }
}
