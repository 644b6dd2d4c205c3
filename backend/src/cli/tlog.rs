//! The transparency log on the command line: `ipxfer log-key generate`, `ipxfer witness ...`,
//! `ipxfer ledger verify --file --vkey` and `ipxfer ledger monitor`, none of which needs the
//! database; and the demo's log key and two witnesses.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::clock::SharedClock;
use crate::domain::export::bundle::{self, BundleKeys};
use crate::domain::tlog::{self, LogVerifier, WitnessSigner, WitnessVerifier};
use crate::services::tlog::{LogConfig, WitnessConfig};
use crate::services::{monitor, witness};

#[derive(Debug, Subcommand)]
pub enum LogKeyCommand {
    /// Make the log's Ed25519 key, named by the log's origin (--log-origin, or the host of
    /// --base-url): writes the private key to FILE and prints the verifier key to give auditors
    /// and witnesses.
    Generate {
        #[arg(long = "out", short = 'o', value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Make a witness key: writes the private key to FILE and prints the cosignature verifier
    /// key to give the log's operator and auditors.
    GenerateKey {
        /// The witness's name, e.g. `witness.ripe.net`.
        #[arg(long)]
        name: String,
        #[arg(long = "out", short = 'o', value_name = "FILE")]
        out: PathBuf,
    },
    /// Run a witness: cosign each checkpoint that a consistency proof ties to the last one it
    /// cosigned for that log (C2SP tlog-witness, `POST /add-checkpoint`).
    Serve {
        /// The witness's private key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The verifier key of each log to witness.
        #[arg(long = "log-vkey", value_name = "VKEY", required = true)]
        log_vkey: Vec<String>,
        #[arg(long, default_value = "127.0.0.1:3920")]
        addr: SocketAddr,
        /// Where the witness records the last tree it cosigned per log (default: the key file
        /// with `.state.json`).
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
    },
}

/// The keys a bundle or the log is checked against.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// The log's verifier key (`ipxfer log-key generate` printed it).
    #[arg(long, value_name = "VKEY")]
    pub vkey: Option<String>,
    /// A witness's verifier key; repeat for each witness to count.
    #[arg(long = "witness", value_name = "VKEY")]
    pub witness: Vec<String>,
    /// How many of the given witnesses must have cosigned (default: all of them).
    #[arg(long, value_name = "N")]
    pub quorum: Option<usize>,
}

impl TrustArgs {
    fn keys(&self) -> anyhow::Result<Option<BundleKeys>> {
        let Some(vkey) = &self.vkey else {
            anyhow::ensure!(
                self.witness.is_empty() && self.quorum.is_none(),
                "--witness and --quorum need the log's --vkey"
            );
            return Ok(None);
        };
        let witnesses = self
            .witness
            .iter()
            .map(|w| WitnessVerifier::parse(w))
            .collect::<Result<Vec<_>, _>>()?;
        let quorum = self.quorum.unwrap_or(witnesses.len());
        anyhow::ensure!(
            quorum <= witnesses.len(),
            "--quorum {quorum} is more than the {} witness keys given",
            witnesses.len()
        );
        Ok(Some(BundleKeys {
            log: LogVerifier::parse(vkey)?,
            witnesses,
            quorum,
        }))
    }
}

/// Writes a new private key file, never over an existing one.
fn write_key(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).with_context(|| {
        format!(
            "cannot create {} (a key file is never overwritten)",
            path.display()
        )
    })?;
    writeln!(f, "{text}")?;
    Ok(())
}

pub fn log_key(command: LogKeyCommand, origin: &str) -> anyhow::Result<()> {
    match command {
        LogKeyCommand::Generate { out } => {
            let (skey, vkey) = tlog::generate_log_key(&mut rand_core::OsRng, origin)?;
            write_key(&out, &skey)?;
            eprintln!(
                "wrote the log's private key for {origin} to {}; keep it secret and start serve \
                 with --log-key {}. The verifier key:",
                out.display(),
                out.display()
            );
            println!("{vkey}");
            Ok(())
        }
    }
}

pub async fn witness(command: WitnessCommand, clock: SharedClock) -> anyhow::Result<()> {
    match command {
        WitnessCommand::GenerateKey { name, out } => {
            let (skey, vkey) = tlog::generate_witness_key(&mut rand_core::OsRng, &name)?;
            write_key(&out, &skey)?;
            eprintln!(
                "wrote the witness's private key to {}; the verifier key:",
                out.display()
            );
            println!("{vkey}");
            Ok(())
        }
        WitnessCommand::Serve {
            key,
            log_vkey,
            addr,
            state,
        } => {
            let signer = read_witness_key(&key)?;
            let logs = log_vkey
                .iter()
                .map(|v| LogVerifier::parse(v))
                .collect::<Result<Vec<_>, _>>()?;
            let state = state.unwrap_or_else(|| key.with_extension("state.json"));
            let w = witness::Witness::open(signer, logs, &state, clock)?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            println!("witness verifier key: {}", w.vkey());
            witness::serve(w, listener, crate::web::shutdown_signal()).await
        }
    }
}

fn read_witness_key(path: &Path) -> anyhow::Result<WitnessSigner> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the witness key {}", path.display()))?;
    WitnessSigner::parse(&text).with_context(|| format!("in {}", path.display()))
}

/// `ipxfer ledger verify --file BUNDLE [--vkey VKEY ...]`: checks a bundle offline, reading it
/// line by line.
pub fn verify_bundle(path: &Path, trust: &TrustArgs) -> anyhow::Result<()> {
    let keys = trust.keys()?;
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut read_error = None;
    let lines = BufReader::new(file)
        .lines()
        .map_while(|l| l.map_err(|e| read_error = Some(e)).ok());
    let result = bundle::verify_lines_with(lines, keys.as_ref());
    if let Some(e) = read_error {
        return Err(e).with_context(|| format!("cannot read {}", path.display()));
    }
    match result {
        Ok((check, checkpoint)) => {
            println!("{}", check.summary());
            match checkpoint {
                Some(c) => {
                    let c = c.checkpoint;
                    let names: Vec<&str> = c.cosigned_by.iter().map(|(n, _)| n.as_str()).collect();
                    println!(
                        "checkpoint: {} tree size {} root {} signed by the log key{}",
                        c.origin,
                        c.size,
                        tlog::b64(&c.root),
                        if names.is_empty() {
                            String::new()
                        } else {
                            format!(", cosigned by {}", names.join(", "))
                        }
                    );
                }
                None => eprintln!(
                    "note: only the hash chain was checked; pass the log's --vkey to check the \
                     bundle against its signed checkpoint"
                ),
            }
            Ok(())
        }
        Err(e) => {
            println!("{e}");
            anyhow::bail!("the bundle {} did not verify", path.display())
        }
    }
}

/// `ipxfer ledger monitor`.
pub async fn monitor(log: &str, trust: &TrustArgs, state: &Path) -> anyhow::Result<()> {
    let keys = trust
        .keys()?
        .context("ledger monitor needs the log's --vkey")?;
    let report = monitor::run(log, &keys, state).await?;
    println!("{}", report.summary());
    Ok(())
}

/// Reads `--log-key`, when given.
pub fn log_config(
    key: Option<&Path>,
    origin: &str,
    witnesses: &[String],
) -> anyhow::Result<Option<LogConfig>> {
    let witnesses = witnesses
        .iter()
        .map(|w| WitnessConfig::parse(w))
        .collect::<anyhow::Result<Vec<_>>>()?;
    match key {
        Some(path) => Ok(Some(LogConfig::load(path, origin, witnesses)?)),
        None => {
            anyhow::ensure!(
                witnesses.is_empty(),
                "--witness needs --log-key: only a log with a key signs checkpoints to witness"
            );
            Ok(None)
        }
    }
}

/// Where the demo keeps its keys and witness state.
const DEMO_DIR: &str = "data";

/// The demo's witnesses: two registries vouching for the log.
const DEMO_WITNESSES: [&str; 2] = ["witness.arin.demo", "witness.ripencc.demo"];

/// For `serve --demo`: the log key `data/demo-log.key` (made once, kept) unless `--log-key` was
/// given, and two witnesses started in this process on `ports`, each with its own key and a
/// fresh state (the demo's ledger is new each time).
pub async fn demo_log(
    key: Option<&Path>,
    origin: &str,
    ports: &[u16],
    clock: SharedClock,
) -> anyhow::Result<LogConfig> {
    std::fs::create_dir_all(DEMO_DIR)?;
    let key = match key {
        Some(k) => k.to_owned(),
        None => {
            let path = Path::new(DEMO_DIR).join(format!("demo-log-{}.key", file_safe(origin)));
            if !path.exists() {
                let (skey, _) = tlog::generate_log_key(&mut rand_core::OsRng, origin)?;
                write_key(&path, &skey)?;
            }
            path
        }
    };
    let mut witnesses = Vec::new();
    for (name, port) in DEMO_WITNESSES.iter().zip(ports) {
        let wkey = Path::new(DEMO_DIR).join(format!("demo-{name}.key"));
        if !wkey.exists() {
            let (skey, _) = tlog::generate_witness_key(&mut rand_core::OsRng, name)?;
            write_key(&wkey, &skey)?;
        }
        let signer = read_witness_key(&wkey)?;
        let state = wkey.with_extension("state.json");
        let _ = std::fs::remove_file(&state);
        let addr = SocketAddr::from(([127, 0, 0, 1], *port));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("the demo witness {name} cannot listen on {addr}"))?;
        let url = format!("http://{}", listener.local_addr()?);
        witnesses.push(WitnessConfig {
            url,
            verifier: WitnessVerifier::parse(signer.vkey())?,
        });
        let log_vkey = LogConfig::load(&key, origin, Vec::new())?.verifier();
        let w = witness::Witness::open(signer, vec![log_vkey], &state, clock.clone())?;
        tokio::spawn(async move {
            if let Err(e) = witness::serve(w, listener, crate::web::shutdown_signal()).await {
                tracing::error!("demo witness stopped: {e:#}");
            }
        });
    }
    let mut config = LogConfig::load(&key, origin, witnesses)?;
    // The demo shows its checkpoint soon after the seed.
    config.sign_every = std::time::Duration::from_secs(2);
    Ok(config)
}

fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
