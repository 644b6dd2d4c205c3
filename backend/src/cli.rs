//! The `ipxfer` command line: each subcommand parses its arguments and makes one call.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use time::OffsetDateTime;

use crate::config::{DEFAULT_DATABASE_URL, prepare_database_url};
use crate::domain::format::group_thousands as n;
use crate::services::import::{self, Outcome, Progress};
use crate::services::transfers::{self, Settings};
use crate::services::{ledger, stats};
use crate::{db, web};

mod export;
pub use export::{ExportArgs, ExportCommand};

/// Coordinates IPv4 address transfers between the five Regional Internet Registries.
#[derive(Debug, Parser)]
#[command(name = "ipxfer", version, about)]
pub struct Cli {
    /// Database: `sqlite://path?mode=rwc` (embedded default) or `postgres://user:pass@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Operator overrides of the shipped registry policy profiles and fees (TOML).
    #[arg(
        long = "policy",
        env = "IPXFER_POLICY",
        global = true,
        value_name = "FILE"
    )]
    pub policy: Option<PathBuf>,

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
    /// Expire every transfer whose consent or information deadline has passed, and tell everyone
    /// involved. Run it from cron until the background scheduler exists.
    Expire,
    /// Work with the registry policy profiles.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Export the ledger or the holdings in the registries' formats (see docs/exports.md).
    #[command(subcommand)]
    Export(ExportCommand),
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check an operator override file against the shipped profiles, without a database.
    Check { file: PathBuf },
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
    Verify {
        /// Check an exported bundle offline instead (no database needed).
        #[arg(long, value_name = "BUNDLE")]
        file: Option<PathBuf>,
    },
}

/// Runs a parsed command line. Errors are returned for `main` to print.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // Bad policy overrides stop every command before anything else happens.
    let settings = load_settings(cli.policy.as_deref())?;
    if let Command::Policy(PolicyCommand::Check { file }) = &cli.command {
        load_settings(Some(file))?;
        println!(
            "{}: the overrides apply cleanly to the shipped profiles",
            file.display()
        );
        return Ok(());
    }
    if let Command::Ledger(LedgerCommand::Verify { file: Some(file) }) = &cli.command {
        return export::verify_bundle(file);
    }
    prepare_database_url(&cli.database_url).context("cannot create the database folder")?;
    let conn = db::connect(&cli.database_url).await.with_context(|| {
        format!(
            "cannot open the database {} (is the server running and reachable, and are the \
                 name and password right? set it with --database-url or DATABASE_URL)",
            redact(&cli.database_url)
        )
    })?;
    db::migrate(&conn)
        .await
        .context("cannot migrate the database")?;
    match cli.command {
        Command::Serve { addr } => {
            let state = web::AppState::new(conn, settings);
            web::serve(state, addr).await
        }
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
                    n(r.organisations),
                    n(r.holdings),
                    n(r.holding_addresses),
                    n(r.inventory_records),
                    n(r.inventory_addresses),
                    n(r.other_records)
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
                        name,
                        n(r.organisations),
                        n(r.holdings),
                        n(r.ipv4_addresses),
                        n(r.inventory_addresses)
                    );
                }
                let kinds: Vec<String> = s
                    .ledger
                    .iter()
                    .map(|(kind, count)| format!("{} {kind}", n(*count)))
                    .collect();
                println!("ledger: {}", kinds.join(", "));
            }
            Ok(())
        }
        Command::Expire => {
            let expired =
                transfers::expire_overdue(&conn, &settings, OffsetDateTime::now_utc()).await?;
            println!("{} transfers expired", n(expired));
            Ok(())
        }
        Command::Policy(_) => unreachable!("handled before the database is opened"),
        Command::Export(command) => export::run(&conn, command).await,
        Command::Ledger(LedgerCommand::Verify { .. }) => {
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

/// The transfer settings, with the operator's policy overrides when a file is given.
fn load_settings(policy: Option<&Path>) -> anyhow::Result<Settings> {
    match policy {
        None => Ok(Settings::default()),
        Some(path) => {
            let text = String::from_utf8(read(path)?)
                .with_context(|| format!("{} is not UTF-8 text", path.display()))?;
            Settings::with_policy_overrides(&text).with_context(|| format!("in {}", path.display()))
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
    fn policy_overrides_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(&good, "[ripencc.minimum_size]\nprefix = \"/22\"\n").unwrap();
        let settings = load_settings(Some(&good)).unwrap();
        assert_eq!(
            settings
                .profiles
                .get(crate::domain::Rir::RipeNcc)
                .minimum_size
                .prefix
                .bits(),
            22
        );
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[ripencc.minimum_size]\nprefx = \"/22\"\n").unwrap();
        let err = format!("{:#}", load_settings(Some(&bad)).unwrap_err());
        assert!(err.contains("bad.toml") && err.contains("prefx"), "{err}");
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
