//! Fault injection: two `ipxfer serve` instances on one fresh PostgreSQL database, MailDev as the
//! SMTP sink, randomized concurrent work through both over HTTP as browsers would send it (sign-in,
//! CSRF tokens, forms, uploads), and a `kill -9` of a random instance every few seconds followed
//! by its restart. At the end the invariants are checked against the database, MailDev and
//! `ipxfer ledger verify`; the figures are printed, and any broken invariant fails the run.
//! See docs/reliability.md for what is checked and why.
//!
//! ```text
//! cargo build --bin ipxfer --example fault_injection
//! target/debug/examples/fault_injection --short             # CI: .ci/fault-injection
//! target/debug/examples/fault_injection --operations 10000  # the long form, by hand
//! ```
//!
//! HTTP goes over plain `std::net::TcpStream` (HTTP/1.0, one request per connection) rather than
//! a client library on purpose: the harness must tell "never reached the server" (safe to send
//! elsewhere) from "sent, but the answer was lost" (outcome unknown), which a client's retries and
//! pooling would blur.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::Parser;
use ipxfer::db::entities::{
    document, email_outbox, holding, ledger_entry, organisation, transfer, transfer_block,
    transfer_event, user,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use serde_json::Value;

const PORTS: [u16; 2] = [3910, 3911];
const SMTP_PORT: u16 = 1125;
const MAILDEV_WEB_PORT: u16 = 1180;
const PASSWORD: &str = ipxfer::services::demo::DEMO_PASSWORD;
/// The demo's ARIN members (intra-ARIN transfers need one review) and ARIN's two hostmasters.
const MEMBERS: [&str; 3] = [
    "ana@northwind.example",
    "ben@meridian.example",
    "chloe@greatlakes.example",
];
const HOSTMASTERS: [&str; 2] = ["hm1@arin.example", "hm2@arin.example"];
/// /24s per organisation in the pool the transfers draw from: small, so filings overlap.
const POOL_PER_ORG: u32 = 6;
const PDF: &[u8] = b"%PDF-1.7 fault injection document";

#[derive(Debug, Parser)]
#[command(about = "Two ipxfer instances on one PostgreSQL, killed at random under load")]
struct Args {
    /// The CI form: 5,000 operations.
    #[arg(long, conflicts_with = "operations")]
    short: bool,
    /// Operations to run (each is a few HTTP requests).
    #[arg(long, default_value_t = 10_000)]
    operations: i64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 6)]
    clients: usize,
    /// Seed of the random choices (printed, to replay a run).
    #[arg(long)]
    seed: Option<u64>,
    /// Seconds between kills, at least and at most.
    #[arg(long, default_value_t = 2)]
    kill_min: u64,
    #[arg(long, default_value_t = 6)]
    kill_max: u64,
    /// The `ipxfer` binary (default: next to this example's folder, `target/<profile>/ipxfer`).
    #[arg(long)]
    ipxfer: Option<PathBuf>,
    /// MailDev's executable.
    #[arg(long, default_value = "e2e/node_modules/.bin/maildev")]
    maildev: PathBuf,
    /// A PostgreSQL database to connect to for creating (and dropping) this run's own database.
    #[arg(
        long,
        env = "FAULT_PG_URL",
        default_value = "postgres://ipxfer:ipxfer@127.0.0.1:5432/ipxfer"
    )]
    pg: String,
    /// Keep the run's database and logs afterwards.
    #[arg(long)]
    keep: bool,
}

fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.short {
        args.operations = 5_000;
    }
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let ipxfer_bin = match &args.ipxfer {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .and_then(Path::parent)
            .context("cannot find the target folder")?
            .join("ipxfer"),
    };
    ensure!(
        ipxfer_bin.is_file(),
        "no ipxfer binary at {} (build it: cargo build --bin ipxfer)",
        ipxfer_bin.display()
    );
    ensure!(
        args.maildev.is_file(),
        "MailDev is missing: no {} (install it: cd e2e && npm ci)",
        args.maildev.display()
    );
    for port in PORTS.into_iter().chain([SMTP_PORT, MAILDEV_WEB_PORT]) {
        std::net::TcpListener::bind(("127.0.0.1", port))
            .with_context(|| format!("port {port} is taken: another run or service uses it"))?;
    }
    let rt = tokio::runtime::Runtime::new()?;
    let work = tempfile::tempdir()?;
    let name = format!("ipxfer_fault_{}", std::process::id());
    let admin = rt.block_on(Database::connect(&args.pg)).with_context(|| {
        format!(
            "PostgreSQL is not reachable at {} (start it; see .ci/run)",
            args.pg
        )
    })?;
    rt.block_on(admin.execute_unprepared(&format!("CREATE DATABASE {name}")))?;
    let db_url = replace_database(&args.pg, &name);
    println!(
        "fault injection: seed {seed}, {} operations, {} clients, database {name}",
        args.operations, args.clients
    );

    let outcome = start_maildev(&args.maildev, work.path()).and_then(|mut maildev| {
        let outcome = run(&args, seed, &ipxfer_bin, &db_url, work.path(), &rt);
        let _ = maildev.kill();
        let _ = maildev.wait();
        outcome
    });
    if args.keep || outcome.is_err() {
        let kept = work.keep();
        println!("kept database {name} and the logs in {}", kept.display());
    } else {
        rt.block_on(async {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        });
    }
    outcome
}

/// The same server and credentials, another database.
fn replace_database(url: &str, name: &str) -> String {
    match url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => format!("{url}/{name}"),
    }
}

fn start_maildev(bin: &Path, dir: &Path) -> anyhow::Result<Child> {
    let log = std::fs::File::create(dir.join("maildev.log"))?;
    let mut child = Command::new(bin)
        .args(["--ip", "127.0.0.1", "--web-ip", "127.0.0.1"])
        .args([
            "--smtp",
            &SMTP_PORT.to_string(),
            "--web",
            &MAILDEV_WEB_PORT.to_string(),
        ])
        .arg("--mail-directory")
        .arg(dir.join("mail"))
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start MailDev {}", bin.display()))?;
    for _ in 0..300 {
        if let Outcome::Answered(r) = http(MAILDEV_WEB_PORT, "GET", "/api/healthz", None, None, b"")
            && r.body.trim() == "true"
        {
            return Ok(child);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    bail!("MailDev did not come up on 127.0.0.1:{MAILDEV_WEB_PORT} (see its log)")
}

// ---------------------------------------------------------------------------------------------
// HTTP

#[derive(Debug)]
struct Reply {
    status: u16,
    location: Option<String>,
    /// Cookies the answer set (`Some(value)`) or removed (`None`), by name.
    cookies: Vec<(String, Option<String>)>,
    body: String,
}

#[derive(Debug)]
enum Outcome {
    Answered(Reply),
    /// The connection was refused: the request never reached a server.
    NotSent,
    /// Sent, but no answer came back (the server died): it may or may not have been applied.
    Lost,
}

fn http(
    port: u16,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Outcome {
    let Ok(mut stream) =
        TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(5))
    else {
        return Outcome::NotSent;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let mut head = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n");
    if let Some(c) = cookie {
        head.push_str(&format!("Cookie: {c}\r\n"));
    }
    if let Some(t) = content_type {
        head.push_str(&format!(
            "Content-Type: {t}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    if stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
        .is_err()
    {
        return Outcome::Lost;
    }
    let mut raw = Vec::new();
    if stream.read_to_end(&mut raw).is_err() {
        return Outcome::Lost;
    }
    let raw = String::from_utf8_lossy(&raw);
    let Some((head, body)) = raw.split_once("\r\n\r\n") else {
        return Outcome::Lost;
    };
    let mut lines = head.lines();
    let Some(status) = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
    else {
        return Outcome::Lost;
    };
    let mut reply = Reply {
        status,
        location: None,
        cookies: Vec::new(),
        body: body.to_owned(),
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "location" => reply.location = Some(value.trim().to_owned()),
            // Every cookie, as a browser keeps them: the session, and the form token that a
            // page shown before sign-in sets in its own cookie.
            "set-cookie" => {
                let value = value.trim();
                let pair = value.split(';').next().unwrap_or_default();
                if let Some((name, v)) = pair.split_once('=') {
                    let removed = value.contains("Max-Age=0");
                    reply
                        .cookies
                        .push((name.to_owned(), (!removed).then(|| v.to_owned())));
                }
            }
            _ => {}
        }
    }
    Outcome::Answered(reply)
}

fn csrf_token(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    html[at..].split('"').next().map(str::to_owned)
}

fn form_body(fields: &[(&str, &str)]) -> Vec<u8> {
    serde_html_form::to_string(fields)
        .expect("form fields encode")
        .into_bytes()
}

fn multipart_body(boundary: &str, fields: &[(&str, &str)], files: &[(&str, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, filename) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(PDF);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

// ---------------------------------------------------------------------------------------------
// The instances

struct Instance {
    port: u16,
    child: Option<Child>,
}

struct Cluster {
    instances: Mutex<Vec<Instance>>,
    bin: PathBuf,
    db_url: String,
    logs: PathBuf,
}

impl Cluster {
    fn start(&self, port: u16) -> anyhow::Result<Child> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.logs.join(format!("serve-{port}.log")))?;
        let child = Command::new(&self.bin)
            .arg("serve")
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", &self.db_url)
            .env("SMTP_URL", format!("smtp://127.0.0.1:{SMTP_PORT}"))
            .env("IPXFER_BASE_URL", format!("http://127.0.0.1:{port}"))
            .env_remove("MAIL_DIR")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", self.bin.display()))?;
        for _ in 0..600 {
            if let Outcome::Answered(r) = http(port, "GET", "/healthz", None, None, b"")
                && r.status == 200
            {
                return Ok(child);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("ipxfer serve on port {port} did not come up (see serve-{port}.log)")
    }

    fn start_all(&self) -> anyhow::Result<()> {
        let mut instances = self.instances.lock().unwrap();
        for i in instances.iter_mut() {
            if i.child.is_none() {
                i.child = Some(self.start(i.port)?);
            }
        }
        Ok(())
    }

    /// `kill -9` of instance `index`, then its restart.
    fn kill_and_restart(&self, index: usize) -> anyhow::Result<()> {
        let port = {
            let mut instances = self.instances.lock().unwrap();
            let i = &mut instances[index];
            if let Some(mut child) = i.child.take() {
                child.kill()?; // SIGKILL
                child.wait()?;
            }
            i.port
        };
        let child = self.start(port)?;
        self.instances.lock().unwrap()[index].child = Some(child);
        Ok(())
    }

    fn stop_all(&self) {
        for i in self.instances.lock().unwrap().iter_mut() {
            if let Some(mut child) = i.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The work

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    SignIn,
    File,
    Upload,
    Accept,
    Approve,
    ConfirmFees,
    Finalize,
    Withdraw,
}

impl Action {
    /// The timeline event a success of this action leaves (none for a sign-in).
    fn event(self) -> Option<&'static str> {
        Some(match self {
            Action::SignIn => return None,
            Action::File => "filed",
            Action::Upload => "document_added",
            Action::Accept => "recipient_accepted",
            Action::Approve => "approved_source",
            Action::ConfirmFees => "fees_confirmed",
            Action::Finalize => "finalized",
            Action::Withdraw => "withdrawn",
        })
    }
}

/// Every answered request and what became of it.
#[derive(Default)]
struct Tally {
    operations: AtomicU64,
    requests: AtomicU64,
    /// Refused by the workflow: someone else got there first, or the blocks were taken.
    conflicts: AtomicU64,
    /// Requests that reached a server that died before answering.
    lost: AtomicU64,
    server_errors: Mutex<Vec<String>>,
    successes: Mutex<Vec<(Action, i64, String)>>,
    /// Requests answered with the sign-in page instead: the session had ended.
    signed_out: Mutex<Vec<String>>,
    /// Refusals by action, status and message, for the report.
    refusals: Mutex<BTreeMap<String, u64>>,
    kills: AtomicU64,
}

struct World {
    cluster: Cluster,
    db: DatabaseConnection,
    rt: tokio::runtime::Handle,
    tally: Tally,
    left: AtomicI64,
    done: AtomicBool,
    /// The member's organisation, by e-mail.
    org_of: HashMap<&'static str, i64>,
    /// /24s the transfers draw from.
    pool: Vec<(u32, u32)>,
    /// Transfers this run filed.
    filed: Mutex<Vec<i64>>,
}

/// One person's browser: its cookies and the last CSRF token a page showed.
#[derive(Default, Clone)]
struct Browser {
    cookies: std::collections::BTreeMap<String, String>,
    csrf: Option<String>,
}

impl Browser {
    /// The `Cookie` header this browser sends, if it holds any cookie.
    fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

struct Client<'w> {
    w: &'w World,
    rng: fastrand::Rng,
    browsers: HashMap<&'static str, Browser>,
}

impl Client<'_> {
    /// Sends a request to a random instance; one that is down is skipped for the other.
    fn send(
        &mut self,
        who: &'static str,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Option<Reply> {
        let first = self.rng.usize(..PORTS.len());
        for attempt in 0..20 {
            let port = PORTS[(first + attempt) % PORTS.len()];
            let cookie = self.browsers.get(who).and_then(Browser::cookie_header);
            self.w.tally.requests.fetch_add(1, Ordering::Relaxed);
            match http(port, method, path, cookie.as_deref(), content_type, body) {
                Outcome::Answered(reply) => {
                    let b = self.browsers.entry(who).or_default();
                    for (name, value) in &reply.cookies {
                        match value {
                            Some(v) => b.cookies.insert(name.clone(), v.clone()),
                            None => b.cookies.remove(name),
                        };
                    }
                    if let Some(t) = csrf_token(&reply.body) {
                        b.csrf = Some(t);
                    }
                    if reply.status >= 500 {
                        self.w.tally.server_errors.lock().unwrap().push(format!(
                            "{method} {path} as {who}: {} {}",
                            reply.status,
                            reply.body.chars().take(300).collect::<String>()
                        ));
                    }
                    return Some(reply);
                }
                Outcome::NotSent => std::thread::sleep(Duration::from_millis(50 * attempt as u64)),
                Outcome::Lost => {
                    self.w.tally.lost.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
            }
        }
        None
    }

    /// Signs `who` in afresh, as the sign-in page's form does.
    fn sign_in(&mut self, who: &'static str) -> bool {
        self.browsers.insert(who, Browser::default());
        if self.send(who, "GET", "/login", None, b"").is_none() {
            return false;
        }
        let token = self.browsers[who].csrf.clone().unwrap_or_default();
        let body = form_body(&[
            ("csrf_token", &token),
            ("email", who),
            ("password", PASSWORD),
        ]);
        let reply = self.send(
            who,
            "POST",
            "/login",
            Some("application/x-www-form-urlencoded"),
            &body,
        );
        let ok = matches!(&reply, Some(r) if r.status == 303);
        if !ok {
            self.browsers.remove(who);
        }
        ok
    }

    fn signed_in(&mut self, who: &'static str) -> bool {
        self.browsers.contains_key(who) || self.sign_in(who)
    }

    /// Opens the page a form is on, then posts it with the page's CSRF token. The answer is a
    /// success (303), a refusal (4xx), or nothing when the server died.
    fn post_form(
        &mut self,
        who: &'static str,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> Option<Reply> {
        if !self.signed_in(who) {
            return None;
        }
        let page = self.send(who, "GET", page, None, b"")?;
        if page.status == 303 {
            // The session ended (a restarted instance still shares it, so this is rare).
            self.browsers.remove(who);
            return None;
        }
        let token = self.browsers[who].csrf.clone().unwrap_or_default();
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.send(
            who,
            "POST",
            action,
            Some("application/x-www-form-urlencoded"),
            &form_body(&all),
        )
    }

    fn post_multipart(
        &mut self,
        who: &'static str,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str)],
    ) -> Option<Reply> {
        if !self.signed_in(who) {
            return None;
        }
        self.send(who, "GET", page, None, b"")?;
        let token = self.browsers[who].csrf.clone().unwrap_or_default();
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        let boundary = format!("fault-{}", self.rng.u64(..));
        let body = multipart_body(&boundary, &all, files);
        let content_type = format!("multipart/form-data; boundary={boundary}");
        self.send(who, "POST", action, Some(&content_type), &body)
    }

    /// Counts an answer: a redirect to the transfer is a success of `action` on transfer `id`.
    fn record(
        &mut self,
        who: &'static str,
        action: Action,
        id: i64,
        detail: String,
        reply: Option<Reply>,
    ) -> Option<Reply> {
        match &reply {
            Some(r) if r.status == 303 && is_transfer_page(r.location.as_deref()) => {
                self.w
                    .tally
                    .successes
                    .lock()
                    .unwrap()
                    .push((action, id, detail));
            }
            Some(r) if (400..500).contains(&r.status) => {
                self.w.tally.conflicts.fetch_add(1, Ordering::Relaxed);
                *self
                    .w
                    .tally
                    .refusals
                    .lock()
                    .unwrap()
                    .entry(format!(
                        "{action:?} {}: {}",
                        r.status,
                        page_message(&r.body)
                    ))
                    .or_default() += 1;
            }
            Some(r) if r.status == 303 => {
                // Sent to sign in: the session is gone.
                self.w
                    .tally
                    .signed_out
                    .lock()
                    .unwrap()
                    .push(format!("{action:?} as {who} went to {:?}", r.location));
                self.browsers.remove(who);
            }
            _ => {}
        }
        reply
    }

    fn one_operation(&mut self) {
        let roll = self.rng.u32(..100);
        let filed = self.w.filed.lock().unwrap().clone();
        if roll < 5 {
            let who = self.any_user();
            if self.sign_in(who) {
                self.w
                    .tally
                    .successes
                    .lock()
                    .unwrap()
                    .push((Action::SignIn, 0, who.to_owned()));
            }
        } else if roll < 35 || filed.is_empty() {
            self.file();
        } else {
            // Recent transfers more often, so most get somewhere.
            let recent = &filed[filed.len().saturating_sub(40)..];
            let id = recent[self.rng.usize(..recent.len())];
            self.advance(id);
        }
        self.w.tally.operations.fetch_add(1, Ordering::Relaxed);
    }

    fn any_user(&mut self) -> &'static str {
        let all: Vec<&'static str> = MEMBERS.iter().chain(&HOSTMASTERS).copied().collect();
        all[self.rng.usize(..all.len())]
    }

    /// Files a /24 or an aligned /23 of the pool, from whoever holds it now, to another member.
    fn file(&mut self) {
        let (start, _) = self.w.pool[self.rng.usize(..self.w.pool.len())];
        let wide = self.rng.bool();
        let (start, end) = if wide {
            (start & !0x1ff, (start & !0x1ff) + 0x1ff)
        } else {
            (start, start + 0xff)
        };
        let Some(holder) = self.holder(start, end) else {
            // Split across holders: filing from one of them is refused, which is worth trying too.
            let source = MEMBERS[self.rng.usize(..MEMBERS.len())];
            return self.file_from(source, start, end);
        };
        let source = MEMBERS
            .iter()
            .copied()
            .find(|m| self.w.org_of[m] == holder)
            .unwrap_or(MEMBERS[0]);
        self.file_from(source, start, end);
    }

    fn file_from(&mut self, source: &'static str, start: u32, end: u32) {
        let recipients: Vec<&'static str> =
            MEMBERS.iter().copied().filter(|m| *m != source).collect();
        let recipient = recipients[self.rng.usize(..recipients.len())];
        let recipient_org = self.w.org_of[recipient].to_string();
        let block = format!("{} - {}", Ipv4Addr::from(start), Ipv4Addr::from(end));
        // Mostly complete filings; some lack documents that a later upload supplies.
        let files: &[(&str, &str)] = match self.rng.u32(..10) {
            0 => &[],
            1 => &[("agreement", "agreement.pdf")],
            _ => &[
                ("agreement", "agreement.pdf"),
                ("registration", "registration.pdf"),
            ],
        };
        let reply = self.post_multipart(
            source,
            "/transfers/new",
            "/transfers/new",
            &[
                ("recipient", &recipient_org),
                ("kind", "RESOURCE_TRANSFER"),
                ("blocks", &block),
                ("price", ""),
                ("currency", ""),
            ],
            files,
        );
        let id = reply
            .as_ref()
            .filter(|r| r.status == 303)
            .and_then(|r| r.location.as_deref())
            .and_then(|l| l.strip_prefix("/transfers/"))
            .and_then(|s| s.parse::<i64>().ok());
        match id {
            Some(id) => {
                self.w.filed.lock().unwrap().push(id);
                self.record(source, Action::File, id, block, reply);
                for (_, name) in files {
                    self.w.tally.successes.lock().unwrap().push((
                        Action::Upload,
                        id,
                        (*name).to_owned(),
                    ));
                }
            }
            None => {
                self.record(source, Action::File, 0, block, reply);
            }
        }
    }

    /// The organisation holding all of `start..=end`, if one does.
    fn holder(&self, start: u32, end: u32) -> Option<i64> {
        let db = self.w.db.clone();
        self.w.rt.block_on(async move {
            holding::Entity::find()
                .filter(holding::Column::StartAddr.lte(i64::from(start)))
                .filter(holding::Column::EndAddr.gte(i64::from(end)))
                .one(&db)
                .await
                .ok()
                .flatten()
                .map(|h| h.organisation_id)
        })
    }

    /// Takes transfer `id` one step further, by the person whose turn it is (or withdraws it).
    fn advance(&mut self, id: i64) {
        let db = self.w.db.clone();
        let Some(t) = self.w.rt.block_on(async move {
            transfer::Entity::find_by_id(id)
                .one(&db)
                .await
                .ok()
                .flatten()
        }) else {
            return;
        };
        let source = self.member_of(t.source_org_id);
        let recipient = self.member_of(t.recipient_org_id);
        let hostmaster = HOSTMASTERS[self.rng.usize(..2)];
        let page = format!("/transfers/{id}");
        let open = !matches!(
            t.state.as_str(),
            "completed" | "withdrawn" | "rejected" | "expired"
        );
        if open && self.rng.u32(..100) < 6 {
            let reply = self.post_form(
                source,
                &format!("{page}/withdraw"),
                &format!("{page}/withdraw"),
                &[],
            );
            self.record(source, Action::Withdraw, id, String::new(), reply);
            return;
        }
        if open && self.rng.u32(..100) < 12 {
            let kind = ["company_registration", "transfer_agreement"][self.rng.usize(..2)];
            let name = format!("{kind}-{}.pdf", self.rng.u32(..));
            let reply = self.post_multipart(
                source,
                &page,
                &format!("{page}/documents"),
                &[("kind", kind)],
                &[("file", &name)],
            );
            self.record(source, Action::Upload, id, name, reply);
            return;
        }
        match t.state.as_str() {
            "awaiting_recipient" => {
                let reply = self.post_form(
                    recipient,
                    &page,
                    &format!("{page}/accept"),
                    &[
                        ("need_text", "Customer growth in the region"),
                        ("horizon_months", "24"),
                        ("utilisation_percent", "80"),
                    ],
                );
                self.record(recipient, Action::Accept, id, String::new(), reply);
            }
            "source_review" => self.approve(hostmaster, id),
            "awaiting_finalization" if t.fees_confirmed_by.is_none() => {
                let reply = self.post_form(hostmaster, &page, &format!("{page}/confirm-fees"), &[]);
                self.record(hostmaster, Action::ConfirmFees, id, String::new(), reply);
            }
            "awaiting_finalization" => {
                let reply = self.post_form(
                    hostmaster,
                    &format!("{page}/finalize"),
                    &format!("{page}/finalize"),
                    &[],
                );
                self.record(hostmaster, Action::Finalize, id, String::new(), reply);
            }
            _ => {}
        }
    }

    /// Approves the source side; warnings asked for overrides get one, as a hostmaster would.
    fn approve(&mut self, hostmaster: &'static str, id: i64) {
        let page = format!("/transfers/{id}");
        let action = format!("{page}/approve");
        let reply = self.post_form(hostmaster, &page, &action, &[("side", "source")]);
        let rules: Vec<String> = match &reply {
            Some(r) if r.status == 422 => hidden_values(&r.body, "rule"),
            _ => Vec::new(),
        };
        if rules.is_empty() {
            self.record(hostmaster, Action::Approve, id, String::new(), reply);
            return;
        }
        let mut fields = vec![("side", "source")];
        for rule in &rules {
            fields.push(("rule", rule));
            fields.push(("reason", "Checked by the fault-injection hostmaster"));
        }
        let reply = self.post_form(hostmaster, &page, &action, &fields);
        self.record(hostmaster, Action::Approve, id, rules.join(","), reply);
    }

    fn member_of(&self, org: i64) -> &'static str {
        MEMBERS
            .iter()
            .copied()
            .find(|m| self.w.org_of[m] == org)
            .unwrap_or(MEMBERS[0])
    }
}

fn is_transfer_page(location: Option<&str>) -> bool {
    location
        .and_then(|l| l.strip_prefix("/transfers/"))
        .is_some_and(|id| id.parse::<i64>().is_ok())
}

/// The page's first error message, as text: the form's error summary or the error page's text.
fn page_message(html: &str) -> String {
    let from = html
        .find("There is a problem")
        .map(|at| at + "There is a problem".len())
        .or_else(|| {
            let main = html.find("<main")?;
            html[main..].find('>').map(|end| main + end + 1)
        })
        .unwrap_or(0);
    let mut text = String::new();
    let mut in_tag = false;
    for c in html[from..].chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = text.split_whitespace().take(20).collect();
    // Numbers differ per transfer; without them, equal refusals count together.
    words
        .join(" ")
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

/// The values of the hidden inputs named `name` in a page.
fn hidden_values(html: &str, name: &str) -> Vec<String> {
    let marker = format!("name=\"{name}\" value=\"");
    html.match_indices(&marker)
        .filter_map(|(at, m)| html[at + m.len()..].split('"').next().map(str::to_owned))
        .collect()
}

fn run(
    args: &Args,
    seed: u64,
    bin: &Path,
    db_url: &str,
    work: &Path,
    rt: &tokio::runtime::Runtime,
) -> anyhow::Result<()> {
    let status = Command::new(bin)
        .args(["seed", "demo"])
        .env("DATABASE_URL", db_url)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(work.join("seed.log"))?)
        .status()?;
    ensure!(status.success(), "ipxfer seed demo failed");
    let db = rt.block_on(Database::connect(db_url))?;
    let before = rt.block_on(snapshot(&db))?;
    let mut org_of = HashMap::new();
    for m in MEMBERS {
        let u = rt
            .block_on(
                user::Entity::find()
                    .filter(user::Column::Email.eq(m))
                    .one(&db),
            )?
            .with_context(|| format!("the demo has no {m}"))?;
        org_of.insert(
            m,
            u.organisation_id.context("a member has an organisation")?,
        );
    }
    // The pool: /24s at the start of each member organisation's first holding that has room.
    let mut pool = Vec::new();
    for m in MEMBERS {
        let holdings = rt.block_on(
            holding::Entity::find()
                .filter(holding::Column::OrganisationId.eq(org_of[m]))
                .order_by_asc(holding::Column::StartAddr)
                .all(&db),
        )?;
        let first = holdings
            .iter()
            .map(|h| ((h.start_addr as u32 + 0x1ff) & !0x1ff, h.end_addr))
            .find(|(first, end)| i64::from(*first) + i64::from(POOL_PER_ORG * 0x100) - 1 <= *end)
            .map(|(first, _)| first)
            .with_context(|| format!("{m}'s organisation holds no room for {POOL_PER_ORG} /24s"))?;
        pool.extend((0..POOL_PER_ORG).map(|i| (first + i * 0x100, first + i * 0x100 + 0xff)));
    }

    let cluster = Cluster {
        instances: Mutex::new(
            PORTS
                .iter()
                .map(|&port| Instance { port, child: None })
                .collect(),
        ),
        bin: bin.to_owned(),
        db_url: db_url.to_owned(),
        logs: work.to_owned(),
    };
    cluster.start_all()?;
    let world = World {
        cluster,
        db: db.clone(),
        rt: rt.handle().clone(),
        tally: Tally::default(),
        left: AtomicI64::new(args.operations),
        done: AtomicBool::new(false),
        org_of,
        pool,
        filed: Mutex::new(Vec::new()),
    };
    let started = Instant::now();
    let chaos_error = std::thread::scope(|s| {
        let w = &world;
        let chaos = s.spawn(move || -> anyhow::Result<()> {
            let mut rng = fastrand::Rng::with_seed(seed ^ 0xC4A05);
            while !w.done.load(Ordering::Relaxed) {
                let wait =
                    Duration::from_millis(rng.u64(args.kill_min * 1000..=args.kill_max * 1000));
                let until = Instant::now() + wait;
                while Instant::now() < until && !w.done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                if w.done.load(Ordering::Relaxed) {
                    break;
                }
                w.cluster.kill_and_restart(rng.usize(..PORTS.len()))?;
                w.tally.kills.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        });
        let clients: Vec<_> = (0..args.clients)
            .map(|i| {
                s.spawn(move || {
                    let mut c = Client {
                        w,
                        rng: fastrand::Rng::with_seed(seed.wrapping_add(i as u64 + 1)),
                        browsers: HashMap::new(),
                    };
                    while w.left.fetch_sub(1, Ordering::Relaxed) > 0 {
                        c.one_operation();
                    }
                })
            })
            .collect();
        let mut progress = Instant::now();
        while clients.iter().any(|c| !c.is_finished()) {
            std::thread::sleep(Duration::from_millis(200));
            if progress.elapsed() > Duration::from_secs(30) {
                progress = Instant::now();
                println!(
                    "  {} operations, {} kills, {:.0} s",
                    w.tally.operations.load(Ordering::Relaxed),
                    w.tally.kills.load(Ordering::Relaxed),
                    started.elapsed().as_secs_f64()
                );
            }
        }
        for c in clients {
            c.join().expect("a client panicked");
        }
        w.done.store(true, Ordering::Relaxed);
        chaos.join().expect("the chaos thread panicked")
    });
    let worked = started.elapsed();
    let result = chaos_error.and_then(|()| {
        world.cluster.start_all()?;
        check(&world, &before, bin, db_url, worked)
    });
    world.cluster.stop_all();
    if result.is_err() {
        eprintln!("the instances' logs are in {}", work.display());
    }
    result
}

// ---------------------------------------------------------------------------------------------
// The checks

struct Snapshot {
    total: u64,
    holdings: Vec<(u32, u32, i64)>,
    last_seq: i64,
}

async fn snapshot(db: &DatabaseConnection) -> anyhow::Result<Snapshot> {
    let holdings: Vec<(u32, u32, i64)> = holding::Entity::find()
        .order_by_asc(holding::Column::StartAddr)
        .all(db)
        .await?
        .into_iter()
        .map(|h| (h.start_addr as u32, h.end_addr as u32, h.organisation_id))
        .collect();
    let last_seq = ledger_entry::Entity::find()
        .order_by_desc(ledger_entry::Column::Seq)
        .one(db)
        .await?
        .map_or(0, |e| e.seq);
    Ok(Snapshot {
        total: holdings.iter().map(|(s, e, _)| u64::from(e - s) + 1).sum(),
        holdings,
        last_seq,
    })
}

/// The organisation holding `addr` in a list of holdings sorted by start.
fn holder_in(holdings: &[(u32, u32, i64)], addr: u32) -> Option<i64> {
    let i = holdings.partition_point(|(s, _, _)| *s <= addr);
    holdings[..i]
        .last()
        .filter(|(_, e, _)| *e >= addr)
        .map(|(_, _, o)| *o)
}

/// What reached MailDev.
struct MailFigures {
    outbox: Vec<email_outbox::Model>,
    delivered: u32,
    duplicates: u64,
}

/// Every outbox row is sent, each Message-ID reaches MailDev, and duplicates stay within their
/// bound.
fn check_mail(w: &World, failures: &mut Vec<String>) -> anyhow::Result<MailFigures> {
    let (db, rt) = (&w.db, &w.rt);
    // Mail: every outbox row leaves, then MailDev holds each Message-ID.
    let drained = Instant::now();
    let outbox = loop {
        let rows = rt.block_on(email_outbox::Entity::find().all(db))?;
        let pending = rows.iter().filter(|r| r.status == "pending").count();
        if pending == 0 || drained.elapsed() > Duration::from_secs(300) {
            break rows;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    for r in outbox.iter().filter(|r| r.status != "sent") {
        failures.push(format!(
            "outbox row {} ({}) is {} after the run: {:?}",
            r.message_id, r.kind, r.status, r.last_error
        ));
    }
    let expected: BTreeSet<&str> = outbox.iter().map(|r| r.message_id.as_str()).collect();
    let mut copies: BTreeMap<String, u32> = BTreeMap::new();
    let settle = Instant::now();
    loop {
        copies.clear();
        match http(MAILDEV_WEB_PORT, "GET", "/api/email", None, None, b"") {
            Outcome::Answered(r) if r.status == 200 => {
                let list: Value = serde_json::from_str(&r.body).context("MailDev's /api/email")?;
                for m in list.as_array().context("MailDev's /api/email is a list")? {
                    let id = m["headers"]["message-id"].as_str().unwrap_or("").to_owned();
                    *copies.entry(id).or_default() += 1;
                }
            }
            other => bail!("MailDev's API does not answer: {other:?}"),
        }
        if expected.iter().all(|id| copies.contains_key(*id))
            || settle.elapsed() > Duration::from_secs(30)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let missing: Vec<&&str> = expected
        .iter()
        .filter(|id| !copies.contains_key(**id))
        .collect();
    if !missing.is_empty() {
        failures.push(format!(
            "{} e-mails never reached MailDev, such as {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        ));
    }
    let strangers: Vec<&String> = copies
        .keys()
        .filter(|id| !expected.contains(id.as_str()))
        .collect();
    if !strangers.is_empty() {
        failures.push(format!(
            "MailDev holds messages the outbox never had: {strangers:?}"
        ));
    }
    let duplicates: u64 = copies
        .values()
        .map(|n| u64::from(n.saturating_sub(1)))
        .sum();
    // A kill between the server's 250 and the row's mark can send one message again: at most
    // one per kill (a process sends one message at a time).
    let kills = w.tally.kills.load(Ordering::Relaxed);
    if duplicates > kills {
        failures.push(format!(
            "{duplicates} duplicate deliveries but only {kills} kills"
        ));
    }

    Ok(MailFigures {
        delivered: copies.values().sum(),
        outbox,
        duplicates,
    })
}

/// No holdings overlap, the address space is conserved, and the ledger written during the run
/// replays over the holdings before it to today's holdings; returns today's holdings and those
/// entries.
fn check_space(
    w: &World,
    before: &Snapshot,
    failures: &mut Vec<String>,
) -> anyhow::Result<(Snapshot, Vec<ledger_entry::Model>)> {
    let (db, rt) = (&w.db, &w.rt);
    // Holdings: no overlap, nothing created or lost.
    let after = rt.block_on(snapshot(db))?;
    for pair in after.holdings.windows(2) {
        if pair[1].0 <= pair[0].1 {
            failures.push(format!("holdings overlap: {:?} and {:?}", pair[0], pair[1]));
        }
    }
    if after.total != before.total {
        failures.push(format!(
            "address space not conserved: {} addresses held before, {} after",
            before.total, after.total
        ));
    }

    // The ledger since the start, replayed over the holdings before: each entry moves addresses
    // its source held at that moment, so nothing moved twice; the result is today's holdings.
    let entries = rt.block_on(
        ledger_entry::Entity::find()
            .filter(ledger_entry::Column::Seq.gt(before.last_seq))
            .order_by_asc(ledger_entry::Column::Seq)
            .all(db),
    )?;
    let mut owner: BTreeMap<u32, i64> = BTreeMap::new(); // by /24 of the pool
    for &(s, _) in &w.pool {
        if let Some(o) = holder_in(&before.holdings, s) {
            owner.insert(s, o);
        }
    }
    for e in &entries {
        let mut at = e.start_addr as u32;
        while at <= e.end_addr as u32 {
            match owner.get_mut(&at) {
                Some(o) if Some(*o) == e.source_org_id => *o = e.recipient_org_id.unwrap_or(-1),
                Some(o) => failures.push(format!(
                    "ledger entry {} moves {} from organisation {:?}, which did not hold it (organisation {o} did)",
                    e.seq,
                    Ipv4Addr::from(at),
                    e.source_org_id
                )),
                None => failures.push(format!("ledger entry {} moves space outside the pool", e.seq)),
            }
            at = at.saturating_add(0x100);
            if at == 0 {
                break;
            }
        }
    }
    for (&s, &o) in &owner {
        if holder_in(&after.holdings, s) != Some(o) {
            failures.push(format!(
                "{} is held by {:?}, but the ledger says organisation {o}",
                Ipv4Addr::from(s),
                holder_in(&after.holdings, s)
            ));
        }
    }

    Ok((after, entries))
}

/// Every action answered with success is in the database with its timeline entry, ledger
/// entries and e-mails; returns the transfers concerned.
fn check_successes(
    w: &World,
    entries: &[ledger_entry::Model],
    outbox: &[email_outbox::Model],
    failures: &mut Vec<String>,
) -> anyhow::Result<Vec<transfer::Model>> {
    let (db, rt) = (&w.db, &w.rt);
    // Every success is in the database with its timeline entry, ledger entries and e-mails.
    let successes = w.tally.successes.lock().unwrap().clone();
    let ids: BTreeSet<i64> = successes
        .iter()
        .map(|(_, id, _)| *id)
        .filter(|id| *id > 0)
        .collect();
    let events = rt.block_on(
        transfer_event::Entity::find()
            .filter(transfer_event::Column::TransferId.is_in(ids.iter().copied()))
            .all(db),
    )?;
    let mut event_count: BTreeMap<(i64, &str), usize> = BTreeMap::new();
    for e in &events {
        *event_count
            .entry((e.transfer_id, e.event.as_str()))
            .or_default() += 1;
    }
    let mut success_count: BTreeMap<(i64, &str), usize> = BTreeMap::new();
    for (action, id, _) in &successes {
        if let Some(event) = action.event() {
            *success_count.entry((*id, event)).or_default() += 1;
        }
    }
    for ((id, event), n) in &success_count {
        let found = event_count.get(&(*id, *event)).copied().unwrap_or(0);
        if found < *n {
            failures.push(format!(
                "transfer {id}: {n} successful {event} answered, {found} in the timeline"
            ));
        }
    }
    let transfers = rt.block_on(
        transfer::Entity::find()
            .filter(transfer::Column::Id.is_in(ids.iter().copied()))
            .all(db),
    )?;
    let blocks = rt.block_on(
        transfer_block::Entity::find()
            .filter(transfer_block::Column::TransferId.is_in(ids.iter().copied()))
            .all(db),
    )?;
    let documents = rt.block_on(
        document::Entity::find()
            .filter(document::Column::TransferId.is_in(ids.iter().copied()))
            .all(db),
    )?;
    for (action, id, detail) in &successes {
        match action {
            Action::File if !transfers.iter().any(|t| t.id == *id) => {
                failures.push(format!(
                    "filed transfer {id} ({detail}) is not in the database"
                ));
            }
            Action::Finalize => {
                let in_ledger: u64 = entries
                    .iter()
                    .filter(|e| e.transfer_id == Some(*id))
                    .map(|e| (e.end_addr - e.start_addr + 1) as u64)
                    .sum();
                let filed: u64 = blocks
                    .iter()
                    .filter(|b| b.transfer_id == *id)
                    .map(|b| (b.end_addr - b.start_addr + 1) as u64)
                    .sum();
                let t = transfers.iter().find(|t| t.id == *id);
                if in_ledger != filed
                    || filed == 0
                    || t.map(|t| t.state.as_str()) != Some("completed")
                {
                    failures.push(format!(
                        "finalized transfer {id}: {in_ledger} addresses in the ledger, {filed} filed, state {:?}",
                        t.map(|t| &t.state)
                    ));
                }
            }
            Action::Upload
                if !documents
                    .iter()
                    .any(|d| d.transfer_id == *id && d.filename == *detail) =>
            {
                failures.push(format!("transfer {id}: uploaded {detail} is not stored"));
            }
            _ => {}
        }
    }
    // Each notifying event wrote its e-mails in its own transaction: same transfer, same instant.
    let mails: BTreeSet<(Option<i64>, i64)> = outbox
        .iter()
        .map(|r| (r.transfer_id, r.created_at.unix_timestamp_nanos() as i64))
        .collect();
    for e in &events {
        let notifies = matches!(
            e.event.as_str(),
            "filed" | "recipient_accepted" | "approved_source" | "finalized" | "withdrawn"
        );
        if notifies
            && !mails.contains(&(
                Some(e.transfer_id),
                e.created_at.unix_timestamp_nanos() as i64,
            ))
        {
            failures.push(format!(
                "transfer {}: no e-mail queued with its {} event",
                e.transfer_id, e.event
            ));
        }
    }

    Ok(transfers)
}

fn check(
    w: &World,
    before: &Snapshot,
    bin: &Path,
    db_url: &str,
    worked: Duration,
) -> anyhow::Result<()> {
    let mut failures: Vec<String> = Vec::new();
    let mail = check_mail(w, &mut failures)?;
    let (after, entries) = check_space(w, before, &mut failures)?;
    let transfers = check_successes(w, &entries, &mail.outbox, &mut failures)?;
    let (db, rt) = (&w.db, &w.rt);
    let kills = w.tally.kills.load(Ordering::Relaxed);
    let successes = w.tally.successes.lock().unwrap().clone();

    // The hash chain.
    let verify = Command::new(bin)
        .args(["ledger", "verify"])
        .env("DATABASE_URL", db_url)
        .output()?;
    if !verify.status.success() {
        failures.push(format!(
            "ipxfer ledger verify failed: {}{}",
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        ));
    }
    let server_errors = w.tally.server_errors.lock().unwrap().clone();
    for e in server_errors.iter().take(10) {
        failures.push(format!("server error: {e}"));
    }

    let count = |a: Action| successes.iter().filter(|(x, _, _)| *x == a).count();
    let completed = transfers.iter().filter(|t| t.state == "completed").count();
    println!("fault injection finished in {:.0} s:", worked.as_secs_f64());
    println!(
        "  {} operations ({} HTTP requests), {} kills, {} requests lost to a kill, {} refused (conflicts), {} server errors",
        w.tally.operations.load(Ordering::Relaxed),
        w.tally.requests.load(Ordering::Relaxed),
        kills,
        w.tally.lost.load(Ordering::Relaxed),
        w.tally.conflicts.load(Ordering::Relaxed),
        server_errors.len()
    );
    println!(
        "  successes: {} sign-ins, {} filings, {} uploads, {} acceptances, {} approvals, {} fee confirmations, {} finalizations, {} withdrawals",
        count(Action::SignIn),
        count(Action::File),
        count(Action::Upload),
        count(Action::Accept),
        count(Action::Approve),
        count(Action::ConfirmFees),
        count(Action::Finalize),
        count(Action::Withdraw)
    );
    println!(
        "  {} transfers completed, {} ledger entries, {} e-mails sent ({} outbox rows, {} duplicate deliveries)",
        completed,
        entries.len(),
        mail.delivered,
        mail.outbox.len(),
        mail.duplicates
    );
    let signed_out = w.tally.signed_out.lock().unwrap().clone();
    println!("  {} requests found their session ended", signed_out.len());
    for s in signed_out.iter().take(5) {
        println!("    {s}");
    }
    println!("  refusals:");
    for (what, n) in w.tally.refusals.lock().unwrap().iter() {
        println!("    {n:>5}  {what}");
    }
    let held = rt.block_on(organisation::Entity::find().count(db))?;
    println!(
        "  {} addresses held by {held} organisations before and after",
        after.total
    );
    // Invariants that hold because nothing happened prove nothing: the run must have signed in,
    // filed, finalized and completed transfers, and killed instances while it did.
    for (what, n) in [
        ("sign-ins", count(Action::SignIn)),
        ("filings", count(Action::File)),
        ("finalizations", count(Action::Finalize)),
        ("completed transfers", completed),
        ("ledger entries", entries.len()),
    ] {
        if n == 0 {
            failures.push(format!("the run did no real work: 0 {what}"));
        }
    }
    if kills < 2 {
        failures.push(format!(
            "only {kills} kills: the run was too short to test recovery"
        ));
    }
    if failures.is_empty() {
        println!("all invariants hold");
        Ok(())
    } else {
        for f in &failures {
            eprintln!("FAIL: {f}");
        }
        bail!("{} invariants broken", failures.len())
    }
}
