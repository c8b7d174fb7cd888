//! The `plugboard` binary: parses the command line and hands over to the library.

use clap::Parser;
use plugboard::{
    cli::{Cli, Command, execute},
    config::{Config, LogFormat},
};
use tracing_subscriber::EnvFilter;

fn init_logging(config: &Config) {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal: a log file or a collector would get escape codes.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The defaults need no configuration, so they print even when the configuration is what
    // is wrong: that is when an operator looks at them.
    if matches!(cli.command, Command::DefaultConfig) {
        print!("{}", plugboard::config::DEFAULTS);
        return std::process::ExitCode::SUCCESS;
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("plugboard: configuration error: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    init_logging(&config);
    match execute(cli.command, config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("plugboard: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
