//! `restock`: the one binary. `serve` runs the API, the projections and the background workers in
//! one process; the other subcommands operate on the same database.

mod cli;
mod commands;
mod demo;
mod telemetry;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    if let Err(e) = telemetry::init(&cli.log, cli.log_format) {
        eprintln!("error: {e}");
        return std::process::ExitCode::from(2);
    }
    match commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
