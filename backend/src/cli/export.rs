//! `ipxfer export ...`: argument types, the output file or standard output, and one service call
//! each.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use sea_orm::DatabaseConnection;
use time::{Date, OffsetDateTime};

use crate::domain::Rir;
use crate::domain::export::nro::NroVersion;
use crate::domain::export::{LedgerFilter, parse_day};
use crate::services::export::{self, ExportReport, WriteSink};

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The NRO transfer log (transfers_latest.json) as a registry publishes it.
    TransferLog {
        /// 4.0: completed transfers; 5.0: also in-flight inter-RIR transfers with their status.
        #[arg(long = "version", value_name = "4.0|5.0", default_value = "4.0")]
        version: NroVersion,
        /// The registry whose log to write; the NRO's combined log when left out.
        #[arg(long, value_name = "RIR")]
        producer: Option<Rir>,
        #[command(flatten)]
        common: ExportArgs,
    },
    /// CSV with one row per moved range.
    Csv {
        #[command(flatten)]
        common: ExportArgs,
    },
    /// A delegated-extended snapshot of one registry's current holdings and inventory.
    Delegated {
        #[arg(long, value_name = "RIR")]
        registry: Rir,
        /// Only this organisation's holdings (id or handle).
        #[arg(long, value_name = "ID|HANDLE")]
        org: Option<String>,
        /// Write to FILE instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// The ledger entries with their hashes, for `ipxfer ledger verify --file` offline.
    Bundle {
        #[command(flatten)]
        common: ExportArgs,
    },
}

/// Output and filters shared by the ledger exports.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only transfers with this registry on either side.
    #[arg(long, value_name = "RIR")]
    pub registry: Option<Rir>,
    /// Only transfers of this organisation (id or handle) on either side.
    #[arg(long, value_name = "ID|HANDLE")]
    pub org: Option<String>,
    /// Only transfers on or after this day (UTC).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    pub from: Option<Date>,
    /// Only transfers on or before this day (UTC).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    pub to: Option<Date>,
}

impl ExportArgs {
    async fn filter(&self, conn: &DatabaseConnection) -> anyhow::Result<LedgerFilter> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            anyhow::bail!("--from {from} is after --to {to}: nothing would be exported");
        }
        let org_ids = match &self.org {
            Some(org) => Some(export::organisation_ids(conn, org).await?),
            None => None,
        };
        Ok(LedgerFilter {
            registry: self.registry,
            org_ids,
            from: self.from,
            to: self.to,
            ..LedgerFilter::default()
        })
    }

    /// The filter as the bundle's header records it.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(r) = self.registry {
            parts.push(format!("registry={r}"));
        }
        if let Some(o) = &self.org {
            parts.push(format!("org={o}"));
        }
        if let Some(d) = self.from {
            parts.push(format!("from={d}"));
        }
        if let Some(d) = self.to {
            parts.push(format!("to={d}"));
        }
        parts.join(" ")
    }
}

/// Standard output or a file; a file is removed again when the export fails half-way.
enum Output {
    Stdout(WriteSink<BufWriter<io::Stdout>>),
    File(WriteSink<BufWriter<File>>, PathBuf),
}

impl Output {
    fn open(path: Option<&Path>) -> anyhow::Result<Output> {
        Ok(match path {
            None => Output::Stdout(WriteSink(BufWriter::new(io::stdout()))),
            Some(p) => {
                let file =
                    File::create(p).with_context(|| format!("cannot create {}", p.display()))?;
                Output::File(WriteSink(BufWriter::new(file)), p.to_owned())
            }
        })
    }
}

/// Runs `f` on the output, then closes it (or removes a half-written file).
macro_rules! with_output {
    ($path:expr, |$sink:ident| $body:expr) => {{
        match Output::open($path)? {
            Output::Stdout(mut $sink) => {
                let r = $body;
                $sink.flush()?;
                r
            }
            Output::File(mut $sink, path) => {
                let r = $body;
                match r {
                    Ok(report) => {
                        $sink.flush()?;
                        Ok(report)
                    }
                    Err(e) => {
                        drop($sink);
                        let _ = std::fs::remove_file(&path);
                        Err(e)
                    }
                }
            }
        }
    }};
}

/// Runs one export command. A reader that stops early (`| head`) ends the export quietly, as
/// other command-line tools do.
pub async fn run(
    conn: &DatabaseConnection,
    command: ExportCommand,
    log: Option<&crate::services::tlog::LogConfig>,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    // What `report.rows` counts: the transfer log groups a transfer's entries into one object,
    // so "records" would not say what was counted.
    let counted = match &command {
        ExportCommand::Delegated { .. } => "holdings and inventory blocks",
        _ => "ledger entries",
    };
    let report = match export(conn, command, log, now).await {
        Ok(report) => report,
        Err(e) if is_broken_pipe(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    let in_flight = if report.in_flight > 0 {
        format!(" and {} in-flight or cancelled transfers", report.in_flight)
    } else {
        String::new()
    };
    eprintln!("exported {} {counted}{in_flight}", report.rows);
    Ok(())
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

async fn export(
    conn: &DatabaseConnection,
    command: ExportCommand,
    log: Option<&crate::services::tlog::LogConfig>,
    now: OffsetDateTime,
) -> anyhow::Result<ExportReport> {
    Ok(match command {
        ExportCommand::TransferLog {
            version,
            producer,
            common,
        } => {
            let filter = common.filter(conn).await?;
            with_output!(common.output.as_deref(), |sink| {
                export::transfer_log(conn, &mut sink, version, producer, &filter, now).await
            })?
        }
        ExportCommand::Csv { common } => {
            let filter = common.filter(conn).await?;
            with_output!(common.output.as_deref(), |sink| {
                export::csv(conn, &mut sink, &filter).await
            })?
        }
        ExportCommand::Bundle { common } => {
            let filter = common.filter(conn).await?;
            let text = common.describe();
            with_output!(common.output.as_deref(), |sink| {
                export::bundle(conn, &mut sink, &filter, text, now, log).await
            })?
        }
        ExportCommand::Delegated {
            registry,
            org,
            output,
        } => {
            let org_ids = match &org {
                Some(o) => Some(export::organisation_ids(conn, o).await?),
                None => None,
            };
            with_output!(output.as_deref(), |sink| {
                export::delegated(conn, &mut sink, registry, org_ids.as_deref(), now).await
            })?
        }
    })
}
