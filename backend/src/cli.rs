//! The `ipxfer` command line: each subcommand parses its arguments and makes one call.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sea_orm::DatabaseConnection;
use time::OffsetDateTime;

use crate::background::{self, Intervals};
use crate::clock::{SharedClock, SystemClock};
use crate::config::{
    DEFAULT_DATABASE_URL, DEMO_DATABASE_URL, Settings, prepare_database_url, redact,
    remove_demo_database,
};
use crate::domain::Rir;
use crate::domain::authz::AccountRole;
use crate::domain::format::group_thousands as n;
use crate::mail::{DEFAULT_FROM, MailConfig, Mailer};
use crate::services::accounts::{self, Invitation};
use crate::services::import::{self, Outcome, Progress};
use crate::services::outbox::DeliveryPolicy;
use crate::services::transfers;
use crate::services::{demo, ledger, outbox, scale, stats};
use crate::{db, web};

mod bare;
mod export;
mod tlog;
mod token;
pub use export::{ExportArgs, ExportCommand};
pub use tlog::{LogKeyCommand, TrustArgs, WitnessCommand};

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

    /// The address people reach ipxfer at, for links in e-mails (`https://ipxfer.example.net`).
    /// Defaults to `http://` and the address `serve` listens on.
    #[arg(long, env = "IPXFER_BASE_URL", global = true, value_name = "URL")]
    pub base_url: Option<String>,

    /// The transparency log's private key file (`ipxfer log-key generate`): `serve` signs
    /// checkpoints with it and `export bundle` signs bundles.
    #[arg(
        long = "log-key",
        env = "IPXFER_LOG_KEY",
        global = true,
        value_name = "FILE"
    )]
    pub log_key: Option<PathBuf>,

    /// The log's origin, the first line of each checkpoint and its key's name (default: the
    /// base URL without `http://`).
    #[arg(
        long = "log-origin",
        env = "IPXFER_LOG_ORIGIN",
        global = true,
        value_name = "ORIGIN"
    )]
    pub log_origin: Option<String>,

    /// Seconds an outbox claim keeps other workers off a message being sent (default 600). A
    /// process that dies holding claims has them released at once by the next `serve` or
    /// `worker` started on the same machine; elsewhere they wait this long.
    #[arg(
        long,
        env = "IPXFER_OUTBOX_LEASE",
        global = true,
        value_name = "SECONDS"
    )]
    pub outbox_lease: Option<u64>,

    /// Requests, database statements and waits for a database connection that take this many
    /// milliseconds or more are logged as warnings (with the request's path and status, or the
    /// statement's text and time).
    #[arg(
        long,
        env = "IPXFER_SLOW_MS",
        global = true,
        value_name = "MILLISECONDS",
        default_value_t = db::DEFAULT_SLOW.as_millis() as u64,
        value_parser = clap::value_parser!(u64).range(1..=3_600_000)
    )]
    pub slow_ms: u64,

    #[command(flatten)]
    pub mail: MailArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Where e-mail goes: SMTP, or a folder of `.eml` files; neither keeps it queued.
#[derive(Debug, Args)]
pub struct MailArgs {
    /// SMTP server in lettre's URL form: `smtp://127.0.0.1:1025`, `smtps://user:pass@host`,
    /// `smtp://host:587?tls=required`.
    #[arg(
        long,
        env = "SMTP_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,

    /// Sender of every e-mail.
    #[arg(long, env = "MAIL_FROM", global = true, default_value = DEFAULT_FROM)]
    pub mail_from: String,

    /// Write e-mails as `.eml` files into this folder instead of sending them (development).
    #[arg(long, env = "MAIL_DIR", global = true, value_name = "DIR")]
    pub mail_dir: Option<PathBuf>,
}

impl MailArgs {
    /// The mail configuration these flags describe.
    pub fn config(&self) -> MailConfig {
        MailConfig {
            smtp_url: self.smtp_url.clone(),
            mail_dir: self.mail_dir.clone(),
            from: self.mail_from.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations, then serve the web interface.
    Serve(ServeArgs),
    /// Personal access tokens of the JSON API.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Seed data into an empty database.
    #[command(subcommand)]
    Seed(SeedCommand),
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
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
    /// involved (the scheduler of `serve` and `worker` does this every minute too).
    Expire,
    /// Send the e-mail outbox and run the deadline scheduler, without the web interface, until
    /// stopped. Needs SMTP_URL or MAIL_DIR.
    Worker,
    /// Inspect and retry the e-mail outbox.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Work with the registry policy profiles.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Export the ledger or the holdings in the registries' formats (see docs/exports.md).
    #[command(subcommand)]
    Export(ExportCommand),
    /// The transparency log's signing key (see docs/transparency.md).
    #[command(subcommand)]
    LogKey(LogKeyCommand),
    /// A witness that cosigns the log's checkpoints (run by a registry, on its own machine).
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// The load test's bare page: axum + askama + sea-orm reading 50 rows of a 60,000-row table
    /// (created in the database given) on `/bare` (see docs/performance.md).
    #[command(hide = true)]
    BenchBare {
        #[arg(long, default_value = "127.0.0.1:3901")]
        addr: SocketAddr,
    },
}

/// The flags of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "IPXFER_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Seed the demo first (organisations, people in every role, transfers in every state),
    /// on a fresh data/demo.db unless --database-url is given.
    #[arg(long)]
    demo: bool,
    /// Behind a reverse proxy: the request header whose last address is the client's, set
    /// by the proxy (`X-Forwarded-For`, `X-Real-IP`). Failed sign-ins are throttled per
    /// client address; without this, every client would share the proxy's.
    #[arg(long, env = "IPXFER_CLIENT_IP_HEADER", value_name = "HEADER")]
    client_ip_header: Option<String>,
    /// A witness to send each checkpoint to, as `URL,VKEY`; repeat for each (needs
    /// --log-key).
    #[arg(
        long = "witness",
        env = "IPXFER_WITNESSES",
        value_delimiter = ' ',
        value_name = "URL,VKEY"
    )]
    witness: Vec<String>,
    /// The ports of the demo's two witnesses (with --demo).
    #[arg(long, value_delimiter = ',', default_value = "3920,3921")]
    demo_witness_ports: Vec<u16>,
    /// Requests one API token may make per minute (a burst of as many).
    #[arg(long, env = "IPXFER_API_REQUESTS_PER_MINUTE", default_value_t = web::api::DEFAULT_REQUESTS_PER_MINUTE)]
    api_requests_per_minute: u32,
    /// MiB per second that all downloads of the public transfer log share (0: unpaced), so
    /// that anonymous clients reading it at full speed cannot take the cores pages need.
    #[arg(long, env = "IPXFER_PUBLIC_DOWNLOAD_RATE", value_name = "MIB_PER_SECOND", default_value_t = web::pacing::DEFAULT_MIB_PER_SECOND, value_parser = clap::value_parser!(u32).range(0..=4095))]
    public_download_rate: u32,
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Messages by status, then those that ran out of attempts.
    Status,
    /// Put a failed message back in the queue.
    Retry { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum SeedCommand {
    /// The demo: real holdings of the five registries, people in every role, transfers in every
    /// state. Refuses a database that already has organisations or users.
    Demo,
    /// The production-scale data set of issue 11 (docs/performance.md), through the real import
    /// and transfer services. Refuses a database that already has organisations or users.
    Scale(ScaleArgs),
}

/// Sizes of `seed scale`; the defaults are the scale the registries would run.
#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// Holdings over the five registries.
    #[arg(long, default_value_t = 250_000)]
    holdings: u64,
    /// Ledger entries (imported history plus --finalized transfers).
    #[arg(long, default_value_t = 60_000)]
    ledger: u64,
    /// Transfers finalized through the workflow (part of --ledger).
    #[arg(long, default_value_t = 500)]
    finalized: u64,
    /// Open transfers, in every waiting state.
    #[arg(long, default_value_t = 10_000)]
    open: u64,
    /// Member organisations, each with a member who signs in.
    #[arg(long, default_value_t = 200)]
    members: u64,
    /// Seed of the generator: the same flags and seed give the same data.
    #[arg(long, default_value_t = 11)]
    seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account: prints an invitation link (also e-mailed), or sets the password read
    /// from standard input.
    Add(NewUserArgs),
}

/// The flags of `user add`.
#[derive(Debug, Args)]
pub struct NewUserArgs {
    #[arg(long)]
    email: String,
    #[arg(long)]
    name: String,
    /// member, hostmaster, auditor or admin.
    #[arg(long)]
    role: AccountRole,
    /// The member's organisation (its handle at --registry).
    #[arg(long, requires = "registry")]
    org_handle: Option<String>,
    /// The hostmaster's registry, or the member organisation's: afrinic, apnic, arin,
    /// lacnic, ripencc.
    #[arg(long)]
    registry: Option<String>,
    /// Read the password from standard input instead of sending an invitation.
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check an operator override file against the shipped profiles, without a database.
    Check { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A delegated-extended statistics file of one RIR: organisations, holdings, inventory.
    Delegated {
        file: PathBuf,
        /// Import the file even if it is dated before the registry's snapshot in place.
        #[arg(long)]
        replace_older: bool,
    },
    /// A published NRO transfer log (4.0, 4.1, 5.0): historic transfers as `imported` entries.
    Transfers {
        file: PathBuf,
        /// Keep transfer dates after the log's production date or in the future, as given.
        #[arg(long)]
        allow_future_dates: bool,
    },
    /// Holdings' origins from a CSV file of `range,origin` lines (origin: legacy, waiting_list,
    /// registry_issued, transferred); each range must be exactly one holding. Any bad line
    /// changes nothing.
    Origins { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Re-compute the hash chain and check the holdings against snapshot plus ledger.
    Verify {
        /// Check an exported bundle offline instead (no database needed); with --vkey, against
        /// its signed checkpoint too.
        #[arg(long, value_name = "BUNDLE")]
        file: Option<PathBuf>,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// Follow a log from its public checkpoint and tiles: check that it only grows, check and
    /// replay every new entry, and save the checkpoint in FILE for the next run.
    Monitor {
        /// The log's address (`https://ipxfer.example.net`).
        #[arg(long, value_name = "URL")]
        log: String,
        #[command(flatten)]
        trust: TrustArgs,
        #[arg(long, value_name = "FILE")]
        state: PathBuf,
    },
}

/// The background intervals, with the outbox lease the operator chose.
fn intervals(outbox_lease: Option<u64>) -> anyhow::Result<Intervals> {
    let mut intervals = Intervals::default();
    if let Some(secs) = outbox_lease {
        intervals.delivery = DeliveryPolicy::with_lease(std::time::Duration::from_secs(secs))
            .map_err(|e| anyhow::anyhow!("--outbox-lease (IPXFER_OUTBOX_LEASE): {e}"))?;
    }
    Ok(intervals)
}

/// Runs a parsed command line on the system clock. Errors are returned for `main` to print.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    run_with_clock(cli, Arc::new(SystemClock)).await
}

/// Runs a parsed command line; "now" is `clock`'s.
pub async fn run_with_clock(cli: Cli, clock: SharedClock) -> anyhow::Result<()> {
    // Bad policy overrides stop every command before anything else happens.
    let mut settings = load_settings(cli.policy.as_deref())?;
    settings.base_url = base_url(&cli)?;
    let origin = cli
        .log_origin
        .clone()
        .unwrap_or_else(|| crate::services::tlog::default_origin(&settings.base_url));
    let Cli {
        database_url,
        log_key,
        outbox_lease,
        slow_ms,
        mail,
        command,
        ..
    } = cli;
    let g = Globals {
        database_url,
        log_key,
        origin,
        outbox_lease,
        slow: std::time::Duration::from_millis(slow_ms),
        mail,
        settings,
        clock,
    };
    match command {
        // Commands without a database.
        Command::Policy(PolicyCommand::Check { file }) => policy_check(&file),
        Command::Ledger(LedgerCommand::Verify {
            file: Some(file),
            trust,
        }) => tlog::verify_bundle(&file, &trust),
        Command::Ledger(LedgerCommand::Monitor { log, trust, state }) => {
            tlog::monitor(&log, &trust, &state).await
        }
        Command::LogKey(command) => tlog::log_key(command, &g.origin),
        Command::Witness(command) => tlog::witness(command, g.clock.clone()).await,
        // Commands on the database.
        Command::Ledger(LedgerCommand::Verify { file: None, trust }) => {
            anyhow::ensure!(
                trust.vkey.is_none(),
                "--vkey checks a bundle: give it with --file BUNDLE"
            );
            g.with_db(async |db| ledger_verify(db).await).await
        }
        Command::Serve(args) => serve(&g, args).await,
        Command::Worker => worker(&g).await,
        Command::Mail(command) => g.with_db(async |db| mail_command(db, command).await).await,
        Command::Seed(SeedCommand::Demo) => g.with_db(async |db| seed_demo(db).await).await,
        Command::Seed(SeedCommand::Scale(sizes)) => {
            g.with_db(async |db| seed_scale(db, sizes).await).await
        }
        Command::Token(command) => {
            g.with_db(async |db| token::run(&db.conn, command, db.now()).await)
                .await
        }
        Command::User(UserCommand::Add(args)) => {
            g.with_db(async |db| user_add(db, args).await).await
        }
        Command::BenchBare { addr } => bare::serve(g.open(false).await?.conn, addr).await,
        Command::Migrate => {
            g.with_db(async |_| Ok(())).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Import(command) => g.with_db(async |db| import(db, command).await).await,
        Command::Stats { json } => g.with_db(async |db| print_stats(db, json).await).await,
        Command::Expire => g.with_db(async |db| expire(db).await).await,
        Command::Export(command) => {
            let log = tlog::log_config(g.log_key.as_deref(), &g.origin, &[])?;
            g.with_db(async |db| export::run(&db.conn, command, log.as_ref(), db.now()).await)
                .await
        }
    }
}

/// The global flags, read once, that every command may use.
struct Globals {
    database_url: String,
    log_key: Option<PathBuf>,
    /// The transparency log's origin.
    origin: String,
    outbox_lease: Option<u64>,
    /// What counts as a slow request or statement (`--slow-ms`).
    slow: std::time::Duration,
    mail: MailArgs,
    settings: Settings,
    clock: SharedClock,
}

/// An open, migrated database, with what commands on it need.
struct Opened<'g> {
    conn: DatabaseConnection,
    /// The URL it was opened at (the demo's own when `serve --demo` chose it).
    database_url: String,
    intervals: Intervals,
    settings: &'g Settings,
    clock: &'g SharedClock,
}

impl Opened<'_> {
    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
}

impl Globals {
    /// Opens and migrates the database; `demo` starts the demo's afresh, beside (never in) the
    /// default database.
    async fn open(&self, demo: bool) -> anyhow::Result<Opened<'_>> {
        self.open_for(demo, false).await
    }

    /// Runs `command` on the database, then closes the pool, so that each connection takes
    /// its leave of PostgreSQL instead of vanishing at exit (its log said "connection reset by
    /// peer" for every connection of every command).
    async fn with_db<T>(
        &self,
        command: impl AsyncFnOnce(&Opened<'_>) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let db = self.open(false).await?;
        let done = command(&db).await;
        if let Err(e) = db.conn.close().await {
            tracing::debug!(error = %e, "closing the database pool");
        }
        done
    }

    /// [`Self::open`] for `serve` and `worker`, which run until stopped: their pool keeps its
    /// connections open (`db::connect_lasting`).
    async fn open_lasting(&self, demo: bool) -> anyhow::Result<Opened<'_>> {
        self.open_for(demo, true).await
    }

    async fn open_for(&self, demo: bool, lasting: bool) -> anyhow::Result<Opened<'_>> {
        let intervals = intervals(self.outbox_lease)?;
        let database_url = if demo && self.database_url == DEFAULT_DATABASE_URL {
            remove_demo_database().context("cannot remove the previous demo database")?;
            DEMO_DATABASE_URL.to_owned()
        } else {
            self.database_url.clone()
        };
        prepare_database_url(&database_url).context("cannot create the database folder")?;
        let conn = if lasting {
            db::connect_lasting(&database_url, self.slow).await
        } else {
            db::connect_with(&database_url, self.slow).await
        }
        .with_context(|| {
            format!(
                "cannot open the database {} (is the server running and reachable, and are the \
                 name and password right? set it with --database-url or DATABASE_URL)",
                redact(&database_url)
            )
        })?;
        db::migrate(&conn)
            .await
            .context("cannot migrate the database")?;
        Ok(Opened {
            conn,
            database_url,
            intervals,
            settings: &self.settings,
            clock: &self.clock,
        })
    }
}

/// `policy check FILE`: the overrides apply, and which values are still unconfirmed.
fn policy_check(file: &Path) -> anyhow::Result<()> {
    let checked = load_settings(Some(file))?;
    println!(
        "{}: the overrides apply cleanly to the shipped profiles",
        file.display()
    );
    print!("{}", unconfirmed_report(&checked.profiles));
    Ok(())
}

/// `serve`: the web interface, with the outbox worker and the scheduler beside it.
async fn serve(g: &Globals, args: ServeArgs) -> anyhow::Result<()> {
    let ServeArgs {
        addr,
        demo,
        client_ip_header,
        witness,
        demo_witness_ports,
        api_requests_per_minute,
        public_download_rate,
    } = args;
    let db = g.open_lasting(demo).await?;
    // The demo keeps its mail in a folder unless SMTP_URL or MAIL_DIR says otherwise.
    let mail = if demo {
        g.mail.config().or_mail_dir(DEMO_MAIL_DIR)
    } else {
        g.mail.config()
    };
    let mailer = Mailer::from_config(&mail)?;
    let log = if demo && witness.is_empty() {
        let ports = &demo_witness_ports;
        Some(tlog::demo_log(g.log_key.as_deref(), &g.origin, ports, g.clock.clone()).await?)
    } else {
        tlog::log_config(g.log_key.as_deref(), &g.origin, &witness)?
    };
    if let Some(log) = &log {
        crate::services::tlog::check_key(&db.conn, log).await?;
        tracing::info!(
            "transparency log {} with {} witnesses; verifier key {}",
            log.signer.origin(),
            log.witnesses.len(),
            log.signer.vkey()
        );
    }
    if demo {
        seed_demo(&db).await?;
    }
    let log = log.map(Arc::new);
    if let Some(log) = &log {
        println!("log verifier key: {}", log.signer.vkey());
        for w in &log.witnesses {
            println!(
                "witness {} at {}: {}",
                w.verifier.name(),
                w.url,
                w.verifier.vkey()
            );
        }
    }
    let settings = Arc::new(Settings {
        client_ip_header,
        ..g.settings.clone()
    });
    let jobs = background::spawn(
        db.conn.clone(),
        settings.clone(),
        mailer,
        g.clock.clone(),
        db.intervals,
    );
    let jobs = match &log {
        Some(log) => jobs.with_log(db.conn.clone(), log.clone(), g.clock.clone()),
        None => jobs,
    };
    // Long exports read through a pool of their own, as small as the bound on them.
    let export_db = if db.database_url.contains(":memory:") {
        db.conn.clone()
    } else {
        db::connect_pool(&db.database_url, web::spool::EXPORT_SLOTS, g.slow)
            .await
            .context("cannot open the exports' database pool")?
    };
    let state = web::AppState {
        exports: Arc::new(web::spool::Exports::new(
            export_db,
            web::spool::EXPORT_SLOTS,
        )),
        db: db.conn,
        settings,
        clock: g.clock.clone(),
        log,
        caches: Default::default(),
        kept_rows: Default::default(),
        api_limits: Arc::new(web::api::Limits::per_minute(api_requests_per_minute)),
        public_downloads: Arc::new(web::pacing::Budget::mib_per_second(public_download_rate)),
        slow_requests: g.slow,
    };
    let served = web::serve(state, addr).await;
    jobs.stop().await;
    served
}

/// `worker`: the outbox worker and the scheduler, without the web interface, until stopped.
async fn worker(g: &Globals) -> anyhow::Result<()> {
    let db = g.open_lasting(false).await?;
    let Some(mailer) = Mailer::from_config(&g.mail.config())? else {
        anyhow::bail!(
            "ipxfer worker sends e-mail: set SMTP_URL (or --smtp-url), or MAIL_DIR \
             (or --mail-dir) for a folder of .eml files"
        );
    };
    let jobs = background::spawn(
        db.conn,
        Arc::new(g.settings.clone()),
        Some(mailer),
        g.clock.clone(),
        db.intervals,
    );
    web::shutdown_signal().await;
    jobs.stop().await;
    Ok(())
}

/// `mail status` and `mail retry ID`.
async fn mail_command(db: &Opened<'_>, command: MailCommand) -> anyhow::Result<()> {
    match command {
        MailCommand::Status => {
            let counts = crate::db::outbox::count_by_status(&db.conn).await?;
            if counts.is_empty() {
                println!("the outbox is empty");
            }
            for (status, count) in counts {
                println!("{status:<8} {}", n(count.max(0) as u64));
            }
            for f in outbox::failed(&db.conn, 1_000).await? {
                println!(
                    "failed #{} to {} after {} attempts: {} ({})",
                    f.id,
                    f.to,
                    f.attempts,
                    f.subject,
                    f.last_error.unwrap_or_default()
                );
            }
            Ok(())
        }
        MailCommand::Retry { id } => {
            outbox::retry(&db.conn, id, db.now()).await?;
            println!("e-mail {id} is queued again");
            Ok(())
        }
    }
}

/// `seed scale`: the production-scale data set.
async fn seed_scale(db: &Opened<'_>, a: ScaleArgs) -> anyhow::Result<()> {
    let sizes = scale::Scale {
        holdings: a.holdings,
        ledger: a.ledger,
        finalized: a.finalized,
        open: a.open,
        members: a.members,
        seed: a.seed,
    };
    let started = std::time::Instant::now();
    let log = |line: &str| eprintln!("{:>6.1} s  {line}", started.elapsed().as_secs_f64());
    let r = scale::seed(&db.conn, db.settings, sizes, db.now(), &log).await?;
    println!(
        "scale data set seeded in {:.0} s: {} holdings, {} organisations, {} ledger \
         entries, {} open transfers",
        started.elapsed().as_secs_f64(),
        n(r.holdings),
        n(r.organisations),
        n(r.ledger_entries),
        n(r.open_transfers)
    );
    for u in &r.users {
        println!("scale user: {} {} {}", u.role, u.email, demo::DEMO_PASSWORD);
    }
    Ok(())
}

/// `user add`: an invitation (e-mailed, the link printed) or a password from standard input.
async fn user_add(db: &Opened<'_>, args: NewUserArgs) -> anyhow::Result<()> {
    let NewUserArgs {
        email,
        name,
        role,
        org_handle,
        registry,
        password_stdin,
    } = args;
    let registry = registry
        .map(|r| {
            Rir::from_token(&r.to_lowercase().replace([' ', '-'], "")).with_context(|| {
                format!("{r:?} is not a registry: use afrinic, apnic, arin, lacnic or ripencc")
            })
        })
        .transpose()?;
    let organisation_id = match (&org_handle, registry) {
        (Some(handle), Some(rir)) => Some(
            *db::organisations::ids_by_handle(&db.conn, rir)
                .await?
                .get(handle)
                .with_context(|| format!("{rir} has no organisation {handle:?}"))?,
        ),
        _ => None,
    };
    let inv = Invitation {
        email,
        display_name: name,
        role,
        organisation_id,
        registry,
    };
    if let Some((_, message)) = accounts::check_invitation(&inv).first() {
        anyhow::bail!("{message}");
    }
    let now = db.now();
    if password_stdin {
        let mut password = String::new();
        std::io::stdin()
            .read_line(&mut password)
            .context("cannot read the password from standard input")?;
        let password = password.trim_end_matches(['\r', '\n']);
        let u = accounts::create_with_password(&db.conn, &inv, password, now).await?;
        println!("{} can sign in as {}", u.display_name, u.email);
    } else {
        let (u, link) =
            accounts::invite_with_link(&db.conn, &inv, &db.settings.base_url, now).await?;
        println!(
            "invited {} <{}>; the invitation e-mail is queued. Link (valid {} days):\n{link}",
            u.display_name,
            u.email,
            accounts::INVITATION_TTL.whole_days()
        );
    }
    Ok(())
}

/// `import delegated`, `import transfers` and `import origins`.
async fn import(db: &Opened<'_>, command: ImportCommand) -> anyhow::Result<()> {
    match command {
        ImportCommand::Delegated {
            file,
            replace_older,
        } => import_delegated(db, &file, replace_older).await,
        ImportCommand::Transfers {
            file,
            allow_future_dates,
        } => import_transfer_log(db, &file, allow_future_dates).await,
        ImportCommand::Origins { file } => import_origins(db, &file).await,
    }
}

async fn import_delegated(db: &Opened<'_>, file: &Path, replace_older: bool) -> anyhow::Result<()> {
    let bytes = read(file)?;
    let bar = Bar::new();
    let options = import::DelegatedOptions { replace_older };
    let r = import::import_delegated_with(&db.conn, &bytes, db.now(), &bar, options).await?;
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

async fn import_origins(db: &Opened<'_>, file: &Path) -> anyhow::Result<()> {
    let bytes = read(file)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", file.display()))?;
    let name = file.display().to_string();
    let r = crate::services::records::import_origins(&db.conn, &text, &name, db.now()).await?;
    println!(
        "{}: {} holdings' origins recorded, {} already as listed",
        file.display(),
        n(r.changed as u64),
        n(r.unchanged as u64)
    );
    Ok(())
}

async fn import_transfer_log(
    db: &Opened<'_>,
    file: &Path,
    allow_future_dates: bool,
) -> anyhow::Result<()> {
    let bytes = read(file)?;
    let options = import::TransferLogOptions { allow_future_dates };
    let r = import::import_transfer_log_with(&db.conn, &bytes, db.now(), options).await?;
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

/// `stats`: counts per registry and ledger entries by kind, as a table or JSON.
async fn print_stats(db: &Opened<'_>, json: bool) -> anyhow::Result<()> {
    let s = stats::stats(&db.conn).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
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
    Ok(())
}

/// `expire`: every transfer past its consent or information deadline.
async fn expire(db: &Opened<'_>) -> anyhow::Result<()> {
    let expired = transfers::expire_overdue(&db.conn, db.settings, db.now()).await?;
    println!("{} transfers expired", n(expired));
    Ok(())
}

/// `ledger verify` on the database: the hash chain and the holdings against snapshot plus
/// ledger.
async fn ledger_verify(db: &Opened<'_>) -> anyhow::Result<()> {
    let v = ledger::verify(&db.conn).await?;
    println!("{}", v.summary());
    if v.is_intact() {
        Ok(())
    } else {
        anyhow::bail!("the ledger did not verify")
    }
}

/// Seeds the demo and prints each user as one line `demo user: <role> <email> <password>`.
async fn seed_demo(db: &Opened<'_>) -> anyhow::Result<()> {
    let report = demo::seed(&db.conn, db.settings, db.now()).await?;
    println!(
        "demo seeded: {} transfers, {} ledger entries verified",
        report.transfers.len(),
        n(report.ledger_entries)
    );
    for u in &report.users {
        println!("{}", u.line());
    }
    println!(
        "demo e-mail: {} messages of the seeded history are queued; serve --demo writes them as \
         .eml files to {DEMO_MAIL_DIR}/ unless SMTP_URL or MAIL_DIR says otherwise",
        n(report.emails_queued)
    );
    Ok(())
}

/// Where links in e-mails point: `--base-url`, else the address `serve` listens on.
fn base_url(cli: &Cli) -> anyhow::Result<String> {
    match (&cli.base_url, &cli.command) {
        (Some(url), _) => {
            let url = url.trim().trim_end_matches('/');
            anyhow::ensure!(
                (url.starts_with("http://") || url.starts_with("https://")) && !url.contains(' '),
                "--base-url {url:?} must be an http:// or https:// address, such as https://ipxfer.example.net"
            );
            Ok(url.to_owned())
        }
        (None, Command::Serve(serve)) => Ok(format!("http://{}", serve.addr)),
        (None, _) => Ok(Settings::default().base_url),
    }
}

/// Where `serve --demo` writes its e-mails when no transport is configured.
const DEMO_MAIL_DIR: &str = "data/demo-mail";

/// The profile values still marked unconfirmed, as `policy check` lists them: findings and fee
/// lines resting on them are labelled and never blocking until the operator confirms them.
pub fn unconfirmed_report(profiles: &crate::domain::policy::Profiles) -> String {
    let values = crate::domain::policy::unconfirmed(profiles);
    if values.is_empty() {
        return "every value is confirmed\n".to_owned();
    }
    let mut out = format!(
        "{} values are configurable defaults, not confirmed against the registry's published \
         policy (findings resting on them are never blocking; set `confirmed = true` in the \
         override file once checked):\n",
        values.len()
    );
    for v in values {
        out.push_str(&format!(
            "  {} {}: {}\n",
            v.registry.token(),
            v.key,
            v.value
        ));
    }
    out
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
    fn the_outbox_lease_is_configurable_and_checked() {
        let cli = Cli::try_parse_from(["ipxfer", "worker", "--outbox-lease", "90"]).unwrap();
        let delivery = intervals(cli.outbox_lease).unwrap().delivery;
        assert_eq!(delivery.lease, time::Duration::seconds(90));
        assert_eq!(delivery.batch, 2);
        assert_eq!(intervals(None).unwrap().delivery, DeliveryPolicy::default());
        let err = format!("{:#}", intervals(Some(5)).unwrap_err());
        assert!(
            err.starts_with("--outbox-lease (IPXFER_OUTBOX_LEASE): "),
            "{err}"
        );
    }

    #[test]
    fn command_line_parses() {
        let cli = Cli::try_parse_from(["ipxfer", "import", "delegated", "file"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Import(ImportCommand::Delegated { .. })
        ));
        let cli = Cli::try_parse_from([
            "ipxfer",
            "worker",
            "--smtp-url",
            "smtp://127.0.0.1:1025",
            "--mail-from",
            "Registry <noreply@example.net>",
        ])
        .unwrap();
        assert!(matches!(cli.command, Command::Worker));
        let mail = cli.mail.config();
        assert_eq!(mail.smtp_url.as_deref(), Some("smtp://127.0.0.1:1025"));
        assert_eq!(mail.from, "Registry <noreply@example.net>");
        let cli =
            Cli::try_parse_from(["ipxfer", "--mail-dir", "mail", "mail", "retry", "7"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Mail(MailCommand::Retry { id: 7 })
        ));
        assert_eq!(cli.mail.config().mail_dir, Some(PathBuf::from("mail")));
        let err = Cli::try_parse_from(["ipxfer", "serve", "--addr", "nowhere"]).unwrap_err();
        assert!(err.to_string().contains("invalid value 'nowhere'"), "{err}");
    }
}
