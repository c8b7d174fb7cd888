//! `plugboard keys generate | status | rotate`: the master key and the secrets sealed with it.

use std::{io::Write, sync::Arc};

use anyhow::Context;
use base64::Engine;
use plugboard_store::Store;

use super::KeysCommand;
use crate::{config::Config, open_store, vault::Vault};

/// Runs a `keys` subcommand. `generate` needs no database; the others open it.
pub(super) async fn run(command: KeysCommand, config: Config) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate => generate(),
        KeysCommand::Status => {
            let (store, vault) = open(&config).await?;
            print_status(&vault, &store.sealing_key_counts().await?)
        }
        KeysCommand::Rotate { batch_size } => {
            let (store, vault) = open(&config).await?;
            rotate(&*store, &vault, batch_size).await
        }
    }
}

/// The migrated database and the configured keys, current and previous.
async fn open(config: &Config) -> anyhow::Result<(Arc<dyn Store>, Vault)> {
    let store = open_store(config).await?;
    store
        .migrate()
        .await
        .context("applying database migrations")?;
    let vault = Vault::with_previous(&crate::master_key(config)?, &config.previous_master_keys);
    Ok((store, vault))
}

/// Prints a new master key (base64) for `PLUGBOARD_MASTER_KEY`.
fn generate() -> anyhow::Result<()> {
    let key = crate::vault::MasterKey::generate();
    let text =
        zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(key.bytes()));
    writeln!(std::io::stdout(), "{}", text.as_str())?;
    Ok(())
}

/// How a stored key id stands with the configured keys.
fn state_of<'a>(vault: &Vault, id: &str) -> &'a str {
    if id == vault.key_id() {
        "current"
    } else if vault.knows(id) {
        "previous (can be opened)"
    } else {
        "UNKNOWN: configure this key in PLUGBOARD_PREVIOUS_MASTER_KEYS"
    }
}

/// Prints how many secrets each key sealed, and whether previous keys can go.
fn print_status(vault: &Vault, counts: &[(String, u64)]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<14}  {:>9}  STATE", "KEY ID", "SECRETS")?;
    for (id, count) in counts {
        writeln!(out, "{id:<14}  {count:>9}  {}", state_of(vault, id))?;
    }
    if counts.iter().all(|(id, _)| id == vault.key_id()) {
        writeln!(
            out,
            "Every secret is sealed with the current key {}; previous keys can be removed.",
            vault.key_id()
        )?;
    }
    Ok(())
}

/// Re-seals every secret under the current key (`keys.rs`), reporting progress on stderr;
/// fails while secrets under another key remain.
async fn rotate(store: &dyn Store, vault: &Vault, batch_size: u32) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let report = crate::keys::rotate(store, vault, batch_size, |report| {
        eprintln!(
            "re-sealed {} secret(s) so far ({} changed meanwhile by a server)",
            report.resealed, report.changed_meanwhile
        );
    })
    .await?;
    eprintln!(
        "Re-sealed {} secret(s) under key {} in {:.1?}; {} were rewritten by a server meanwhile.",
        report.resealed,
        vault.key_id(),
        started.elapsed(),
        report.changed_meanwhile
    );
    for (slot, id, error) in &report.failed {
        eprintln!("could not re-seal {slot:?} of {id}: {error}");
    }
    let counts = store.sealing_key_counts().await?;
    print_status(vault, &counts)?;
    if !report.failed.is_empty() {
        anyhow::bail!("{} secret(s) could not be opened", report.failed.len());
    }
    if counts.iter().any(|(id, _)| id != vault.key_id()) {
        anyhow::bail!(
            "secrets sealed with another key remain: a server still runs with the old \
             PLUGBOARD_MASTER_KEY; restart every instance with the new key, then run this again"
        );
    }
    Ok(())
}
