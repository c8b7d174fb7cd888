//! Sealed values (credentials, webhook secrets and OAuth client secrets) and the re-sealing
//! of them under a new master key: which keys sealed what, and a compare-and-set replacement.

use async_trait::async_trait;

use crate::Result;

/// Ciphertext produced by the vault, with the id of the key that sealed it so keys can rotate.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Which master-key generation sealed this record.
    pub key_id: String,
    /// The AEAD nonce; unique per sealing, so re-sealing compares it to detect a change.
    pub nonce: Vec<u8>,
    /// The AEAD ciphertext including its tag.
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed")
            .field("key_id", &self.key_id)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// Where a sealed value lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SealedSlot {
    /// An integration's credentials; the record id is the integration id.
    Credentials,
    /// A webhook endpoint's signing secret; the record id is the endpoint id.
    WebhookSecret,
    /// A webhook endpoint's rotated-out secret, while it still signs.
    PreviousWebhookSecret,
    /// An OAuth app revision's client secret; the record id is the app id. Every revision is
    /// re-sealed, retired ones too: their integrations keep refreshing with them. (Sign-in
    /// attempts are sealed too but are no slot: they live ten minutes, so an attempt sealed
    /// under an old key expires long before anyone would retire that key.)
    OauthClientSecret,
}

impl SealedSlot {
    /// Every slot, in the order re-sealing visits them.
    pub const ALL: [Self; 4] = [
        Self::Credentials,
        Self::WebhookSecret,
        Self::PreviousWebhookSecret,
        Self::OauthClientSecret,
    ];
}

/// A sealed value and where it lives, for re-sealing under another key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRecord {
    /// Which column.
    pub slot: SealedSlot,
    /// The integration or endpoint it belongs to (also its associated data).
    pub record_id: String,
    /// The value as stored.
    pub sealed: Sealed,
}

/// Which keys sealed what, and re-sealing.
#[async_trait]
pub trait Sealing: Send + Sync {
    /// The ids of every key that sealed a stored record, so start-up can refuse a master key
    /// that cannot open existing data.
    async fn sealing_key_ids(&self) -> Result<Vec<String>>;

    /// How many sealed values each key id sealed, for `plugboard keys status`.
    async fn sealing_key_counts(&self) -> Result<Vec<(String, u64)>>;

    /// Up to `limit` values of `slot` sealed with a key other than `current_key_id`, with
    /// record ids after `after`, in record-id order: one batch of a re-sealing pass.
    async fn sealed_records(
        &self,
        slot: SealedSlot,
        current_key_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<SealedRecord>>;

    /// Replaces `record.sealed` with `resealed` if the stored value is still `record.sealed`
    /// (compared by nonce, unique per sealing). `false` when it changed meanwhile — a relink
    /// or a secret rotation wrote a new value, already under the current key — or is gone.
    async fn reseal(&self, record: &SealedRecord, resealed: &Sealed) -> Result<bool>;
}
