//! The `ipxfer` binary: logging, then the command line.

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// What is logged without `RUST_LOG`: the application's information, and not the migrator's
/// progress or PostgreSQL's notices that its `CREATE ... IF NOT EXISTS` found the table there
/// (four lines before every command's output otherwise).
const DEFAULT_LOG: &str = "info,sea_orm_migration=warn,sqlx::postgres::notice=warn";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG)),
        )
        .with_writer(std::io::stderr)
        .init();
    match ipxfer::cli::run(ipxfer::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
