//! The `ipxfer` binary: logging, then the command line.

use clap::Parser;
use tracing_subscriber::EnvFilter;

// glibc's allocator spent a tenth of a page view in arena locks and consolidation when SQLite's
// worker threads and tokio's free each other's buffers (perf, docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sea_orm_migration=warn")),
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
