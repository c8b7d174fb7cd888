//! Magic links: recorded when created so they can be listed and revoked, and consumed when
//! they complete a flow so that one link creates at most one integration.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use plugboard_catalog::Category;

use crate::{EndUser, Result, ids::IntegrationId};

/// A magic link as recorded, so it can be listed and revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MagicLink {
    /// The link id inside the token.
    pub id: String,
    /// Its environment.
    pub environment_id: String,
    /// For relink links, the integration they relink.
    pub integration_id: Option<IntegrationId>,
    /// Whom it is for.
    pub end_user: EndUser,
    /// Category of the flow.
    pub category: Category,
    /// Pre-selected tool.
    pub tool: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A link that completed a flow. Links are stateless tokens; this row only exists so that one
/// link can complete at most one integration, and can be pruned once the link has expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedLink {
    /// The link id from the token.
    pub link_id: String,
    /// When the link itself expires.
    pub expires_at: DateTime<Utc>,
}

/// A magic link with how far its end user got, for the dashboard's list of links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkProgress {
    /// The link.
    pub link: MagicLink,
    /// Whether it completed a flow.
    pub used: bool,
    /// When the end user first opened it.
    pub opened_at: Option<DateTime<Utc>>,
    /// The end user's last step (an audit action, `link.…`), if any.
    pub last_step: Option<String>,
    /// That step's facts (the audit entry's JSON detail, e.g. why a verification failed).
    pub last_detail: Option<String>,
    /// When that step happened.
    pub last_step_at: Option<DateTime<Utc>>,
}

/// Magic links. A link is consumed by [`crate::Integrations::create_integration`] and
/// [`crate::Integrations::relink_integration`], in their transactions.
#[async_trait]
pub trait Links: Send + Sync {
    /// Records a magic link so that it can be listed and revoked.
    async fn insert_magic_link(&self, link: &MagicLink) -> Result<()>;

    /// The magic link with this id.
    async fn magic_link(&self, id: &str) -> Result<Option<MagicLink>>;

    /// Up to `limit` magic links of the environment, newest first, created before `before`
    /// (a `(created_at, id)` position) when given.
    async fn list_magic_links(
        &self,
        environment_id: &str,
        before: Option<(DateTime<Utc>, &str)>,
        limit: u32,
    ) -> Result<Vec<MagicLink>>;

    /// [`Links::list_magic_links`] with each link's progress, read from the end user's steps
    /// in the audit trail and from its consumption, in one query.
    async fn list_link_progress(
        &self,
        environment_id: &str,
        before: Option<(DateTime<Utc>, &str)>,
        limit: u32,
    ) -> Result<Vec<LinkProgress>>;

    /// Revokes a magic link; `false` if the environment has no unrevoked link with this id.
    async fn revoke_magic_link(
        &self,
        environment_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool>;

    /// Whether a link has completed a flow.
    async fn link_consumed(&self, link_id: &str) -> Result<bool>;
}
