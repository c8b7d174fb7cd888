//! Master key rotation: re-seal every stored secret under the current master key, online.
//!
//! The sequence (docs/security.md has it for operators):
//! 1. `plugboard keys generate` prints a new key.
//! 2. Every instance restarts with `PLUGBOARD_MASTER_KEY=<new>` and
//!    `PLUGBOARD_PREVIOUS_MASTER_KEYS=<old>`: it seals and signs with the new key and still
//!    opens and verifies with the old one, so nothing stored or sent stops working.
//! 3. `plugboard keys rotate` walks credentials, webhook secrets and rotated-out webhook
//!    secrets in batches, opens each value sealed with another key and writes it back sealed
//!    with the current one — a compare-and-set, so a value the servers rewrote meanwhile (a
//!    relink, a secret rotation) is left as they wrote it. The servers keep serving throughout.
//! 4. When `plugboard keys status` shows only the current key, the old key is removed from
//!    `PLUGBOARD_PREVIOUS_MASTER_KEYS`. Start-up refuses a configuration that cannot open
//!    every stored record, so removing it too early is caught, not silently fatal.
//!
//! Links signed with the old key keep working while it is a previous key; once it is removed,
//! links it signed (at most an hour old for embedded links, up to a year for magic links) are
//! refused as invalid. Keep it until those you care about have expired, or revoke and resend.

use plugboard_store::{
    Store,
    sealing::{SealedRecord, SealedSlot},
};

use crate::vault::{Purpose, Vault};

/// What a re-sealing pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RotationReport {
    /// Values now sealed with the current key.
    pub resealed: u64,
    /// Values rewritten by a server while the pass ran (already under the server's key).
    pub changed_meanwhile: u64,
    /// Values that could not be opened: `(slot, record id, why)`. Nothing is written for them.
    pub failed: Vec<(SealedSlot, String, String)>,
}

fn purpose(slot: SealedSlot) -> Purpose {
    match slot {
        SealedSlot::Credentials => Purpose::Credentials,
        SealedSlot::WebhookSecret | SealedSlot::PreviousWebhookSecret => Purpose::WebhookSecret,
        SealedSlot::OauthClientSecret => Purpose::OauthClientSecret,
    }
}

/// Re-seals every stored value not sealed with `vault`'s current key, `batch` at a time, and
/// calls `progress` after each batch. Safe to interrupt and to run again.
pub async fn rotate(
    store: &dyn Store,
    vault: &Vault,
    batch: u32,
    mut progress: impl FnMut(&RotationReport),
) -> plugboard_store::Result<RotationReport> {
    let mut report = RotationReport::default();
    for slot in SealedSlot::ALL {
        let mut after: Option<String> = None;
        loop {
            let records = store
                .sealed_records(slot, vault.key_id(), after.as_deref(), batch)
                .await?;
            let Some(last) = records.last() else {
                break;
            };
            after = Some(last.record_id.clone());
            for record in &records {
                reseal_one(store, vault, record, &mut report).await?;
            }
            progress(&report);
            // Let the servers' writes in between batches (SQLite has one writer).
            tokio::task::yield_now().await;
        }
    }
    Ok(report)
}

async fn reseal_one(
    store: &dyn Store,
    vault: &Vault,
    record: &SealedRecord,
    report: &mut RotationReport,
) -> plugboard_store::Result<()> {
    match vault.reseal(purpose(record.slot), &record.record_id, &record.sealed) {
        Ok(resealed) => {
            if store.reseal(record, &resealed).await? {
                report.resealed += 1;
            } else {
                report.changed_meanwhile += 1;
            }
        }
        Err(error) => {
            report
                .failed
                .push((record.slot, record.record_id.clone(), error.to_string()));
        }
    }
    Ok(())
}
