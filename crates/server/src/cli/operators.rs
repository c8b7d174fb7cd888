//! `plugboard operators create | list | disable | enable | reset`: the dashboard's accounts.
//! Sign-in links go to stdout (they are the only way in, so a script can mail them); they
//! are never logged.

use std::io::Write;

use super::{OperatorsCommand, flag_error};
use crate::{AppState, audit::Caller, config::Config, events::format_time, operators};

/// Runs an `operators` subcommand.
pub(super) async fn run(command: OperatorsCommand, config: Config) -> anyhow::Result<()> {
    let state = AppState::new(config).await?;
    let caller = Caller::cli();
    let mut out = std::io::stdout().lock();
    match command {
        OperatorsCommand::Create { email, role } => {
            let (operator, link) = operators::create(&state, &email, role.into(), &caller)
                .await
                .map_err(flag_error)?;
            writeln!(
                out,
                "created {} ({}); send them this one-time sign-in link (valid 3 days):",
                operator.email,
                operator.role.as_str()
            )?;
            writeln!(out, "{link}")?;
        }
        OperatorsCommand::List => {
            writeln!(
                out,
                "{:<27}  {:<7}  {:<8}  {:<24}  EMAIL",
                "ID", "ROLE", "STATE", "LAST SIGN-IN"
            )?;
            for operator in operators::list(&state).await.map_err(flag_error)? {
                let state = if operator.disabled_at.is_some() {
                    "disabled"
                } else if operator.password_hash.is_none() {
                    "invited"
                } else {
                    "active"
                };
                let last = operator
                    .last_signed_in_at
                    .map_or_else(|| "-".to_owned(), format_time);
                writeln!(
                    out,
                    "{:<27}  {:<7}  {:<8}  {:<24}  {}",
                    operator.id,
                    operator.role.as_str(),
                    state,
                    last,
                    operator.email
                )?;
            }
        }
        OperatorsCommand::Disable { operator } => {
            let changed = operators::set_disabled(&state, &operator, true, &caller)
                .await
                .map_err(flag_error)?;
            writeln!(out, "disabled {}; their sessions ended", changed.email)?;
        }
        OperatorsCommand::Enable { operator } => {
            let changed = operators::set_disabled(&state, &operator, false, &caller)
                .await
                .map_err(flag_error)?;
            writeln!(out, "enabled {}", changed.email)?;
        }
        OperatorsCommand::Reset { operator } => {
            let link = operators::reset(&state, &operator, &caller)
                .await
                .map_err(flag_error)?;
            writeln!(
                out,
                "reset {operator}: their password and sessions are gone; send them this one-time sign-in link (valid 3 days):"
            )?;
            writeln!(out, "{link}")?;
        }
    }
    Ok(())
}
