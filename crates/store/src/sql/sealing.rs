//! Shared statements of [`crate::Sealing`]. Each [`SealedSlot`] names a table and its sealed
//! columns; the batch and compare-and-set statements are spelled out per slot.

use crate::{
    Sealed,
    rows::SealedRecordRow,
    sealing::{SealedRecord, SealedSlot},
};

/// The re-sealing batch `SELECT` and the compare-and-set `UPDATE` of one slot, from its table,
/// id column and sealed columns. Batch binds: current key id, after (or NULL), limit. Update
/// binds: new key id, new nonce, new ciphertext, record id, old nonce.
macro_rules! slot_statements {
    ($table:literal, $id:literal, $key:literal, $nonce:literal, $ciphertext:literal) => {
        (
            concat!(
                "SELECT ",
                $id,
                " AS record_id, ",
                $key,
                " AS key_id, ",
                $nonce,
                " AS nonce, ",
                $ciphertext,
                " AS ciphertext FROM ",
                $table,
                " WHERE ",
                $key,
                " IS NOT NULL AND ",
                $key,
                " <> $1 AND ($2 IS NULL OR ",
                $id,
                " > $2) ORDER BY ",
                $id,
                " LIMIT $3"
            ),
            concat!(
                "UPDATE ",
                $table,
                " SET ",
                $key,
                " = $1, ",
                $nonce,
                " = $2, ",
                $ciphertext,
                " = $3 WHERE ",
                $id,
                " = $4 AND ",
                $nonce,
                " = $5"
            ),
        )
    };
}

fn slot_statements(slot: SealedSlot) -> (&'static str, &'static str) {
    match slot {
        SealedSlot::Credentials => {
            slot_statements!(
                "credentials",
                "integration_id",
                "key_id",
                "nonce",
                "ciphertext"
            )
        }
        SealedSlot::WebhookSecret => slot_statements!(
            "webhook_endpoints",
            "id",
            "secret_key_id",
            "secret_nonce",
            "secret_ciphertext"
        ),
        SealedSlot::PreviousWebhookSecret => slot_statements!(
            "webhook_endpoints",
            "id",
            "previous_key_id",
            "previous_nonce",
            "previous_ciphertext"
        ),
        SealedSlot::OauthClientSecret => slot_statements!(
            "oauth_apps",
            "id",
            "secret_key_id",
            "secret_nonce",
            "secret_ciphertext"
        ),
    }
}

statements! {
    /// Every key id that sealed a stored value.
    fn key_ids<'q>() -> QueryAs<(String,)> {
        sqlx::query_as(
            "SELECT key_id FROM credentials UNION SELECT secret_key_id FROM webhook_endpoints \
             UNION SELECT previous_key_id FROM webhook_endpoints WHERE previous_key_id IS NOT NULL \
             UNION SELECT secret_key_id FROM oauth_apps",
        )
    }

    /// How many sealed values each key id sealed, over every slot.
    fn key_counts<'q>() -> QueryAs<(String, i64)> {
        sqlx::query_as(
            "SELECT key_id, COUNT(*) AS n FROM ( \
             SELECT key_id FROM credentials \
             UNION ALL SELECT secret_key_id FROM webhook_endpoints \
             UNION ALL SELECT previous_key_id FROM webhook_endpoints \
             WHERE previous_key_id IS NOT NULL \
             UNION ALL SELECT secret_key_id FROM oauth_apps \
             ) AS sealed GROUP BY key_id ORDER BY key_id",
        )
    }

    /// One batch of values of `slot` not sealed with `current_key_id`, in record-id order.
    fn records<'q>(
        slot: SealedSlot,
        current_key_id: &'q str,
        after: Option<&'q str>,
        limit: u32,
    ) -> QueryAs<SealedRecordRow> {
        sqlx::query_as(slot_statements(slot).0)
            .bind(current_key_id)
            .bind(after)
            .bind(i64::from(limit))
    }

    /// Replaces a sealed value if it is still the one read (compared by nonce).
    fn reseal<'q>(record: &'q SealedRecord, resealed: &'q Sealed) -> Query {
        sqlx::query(slot_statements(record.slot).1)
            .bind(resealed.key_id.as_str())
            .bind(resealed.nonce.as_slice())
            .bind(resealed.ciphertext.as_slice())
            .bind(record.record_id.as_str())
            .bind(record.sealed.nonce.as_slice())
    }
}
