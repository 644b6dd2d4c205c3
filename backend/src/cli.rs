//! The `ipxfer` command line: each subcommand parses its arguments and makes one call.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use time::OffsetDateTime;

use crate::config::{DEFAULT_DATABASE_URL, prepare_database_url};
use crate::services::import::{self, Outcome, Progress};
use crate::services::{ledger, stats};
use crate::{db, web};

/// Coordinates IPv4 address transfers between the five Regional Internet Registries.
#[derive(Debug, Parser)]
#[command(name = "ipxfer", version, about)]
pub struct Cli {
    /// Database: `sqlite://path?mode=rwc` (embedded default) or `postgres://user:pass@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations, then serve the web interface.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "IPXFER_ADDR", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Import registry data.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Counts per registry and ledger entries by kind.
    Stats {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Work with the ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A delegated-extended statistics file of one RIR: organisations, holdings, inventory.
    Delegated { file: PathBuf },
    /// A published NRO transfer log (4.0, 4.1, 5.0): historic transfers as `imported` entries.
    Transfers { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Re-compute the hash chain and check the holdings against snapshot plus ledger.
    Verify,
}

/// Runs a parsed command line. Errors are returned for `main` to print.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    prepare_database_url(&cli.database_url).context("cannot create the database folder")?;
    let conn = db::connect(&cli.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", redact(&cli.database_url)))?;
    db::migrate(&conn)
        .await
        .context("cannot migrate the database")?;
    match cli.command {
        Command::Serve { addr } => web::serve(conn, addr).await,
        Command::Migrate => {
            println!("database is up to date");
            Ok(())
        }
        Command::Import(ImportCommand::Delegated { file }) => {
            let bytes = read(&file)?;
            let bar = Bar::new();
            let r =
                import::import_delegated(&conn, &bytes, OffsetDateTime::now_utc(), &bar).await?;
            bar.0.finish_and_clear();
            for m in &r.count_mismatches {
                eprintln!("note: {m}");
            }
            match r.outcome {
                Outcome::Unchanged => println!(
                    "{}: this file was already imported; nothing changed",
                    r.registry
                ),
                Outcome::Imported => println!(
                    "{}: {} organisations, {} holdings ({} IPv4 addresses), {} inventory records \
                     ({} addresses); {} ASN/IPv6 records not tracked",
                    r.registry,
                    r.organisations,
                    r.holdings,
                    r.holding_addresses,
                    r.inventory_records,
                    r.inventory_addresses,
                    r.other_records
                ),
            }
            Ok(())
        }
        Command::Import(ImportCommand::Transfers { file }) => {
            let bytes = read(&file)?;
            let r = import::import_transfer_log(&conn, &bytes, OffsetDateTime::now_utc()).await?;
            for n in &r.notes {
                eprintln!("note: {n}");
            }
            println!(
                "{} transfer log {}: {} transfers, {} ledger entries added, {} already present, \
                 {} without IPv4 skipped",
                r.producer,
                r.stats_version,
                r.transfers,
                r.entries_added,
                r.entries_already_present,
                r.asn_or_ipv6_only
            );
            Ok(())
        }
        Command::Stats { json } => {
            let s = stats::stats(&conn).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                println!(
                    "{:<10} {:>13} {:>9} {:>15} {:>15}",
                    "registry", "organisations", "holdings", "IPv4 held", "inventory"
                );
                for (name, r) in &s.registries {
                    println!(
                        "{:<10} {:>13} {:>9} {:>15} {:>15}",
                        name, r.organisations, r.holdings, r.ipv4_addresses, r.inventory_addresses
                    );
                }
                let kinds: Vec<String> = s.ledger.iter().map(|(k, n)| format!("{n} {k}")).collect();
                println!("ledger: {}", kinds.join(", "));
            }
            Ok(())
        }
        Command::Ledger(LedgerCommand::Verify) => {
            let v = ledger::verify(&conn).await?;
            println!("{}", v.summary());
            if v.is_intact() {
                Ok(())
            } else {
                anyhow::bail!("the ledger did not verify")
            }
        }
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Hides the password of a database URL in messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// A progress bar on standard error, drawn only when it is a terminal.
struct Bar(ProgressBar);

impl Bar {
    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed}")
                .expect("the template is valid"),
        );
        Bar(bar)
    }
}

impl Progress for Bar {
    fn advance(&self, done: u64, total: u64) {
        self.0.set_length(total);
        self.0.set_position(done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://ipxfer:secret@127.0.0.1/ipxfer"),
            "postgres://ipxfer:***@127.0.0.1/ipxfer"
        );
        assert_eq!(redact(DEFAULT_DATABASE_URL), DEFAULT_DATABASE_URL);
    }

    #[test]
    fn command_line_parses() {
        let cli = Cli::try_parse_from(["ipxfer", "import", "delegated", "file"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Import(ImportCommand::Delegated { .. })
        ));
        let err = Cli::try_parse_from(["ipxfer", "serve", "--addr", "nowhere"]).unwrap_err();
        assert!(err.to_string().contains("invalid value 'nowhere'"), "{err}");
    }
}
