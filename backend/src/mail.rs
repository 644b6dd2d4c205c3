//! Mail transports (lettre): SMTP in production, a folder of `.eml` files in development and the
//! demo, lettre's stub in tests. The delivery worker (`services::outbox`) turns each outbox row
//! into an [`Outgoing`] message and sends it through a [`Mailer`]; nothing here knows the
//! database.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::transport::stub::AsyncStubTransport;
use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};

use time::OffsetDateTime;

use crate::config::redact;
use crate::error::{AppError, AppResult};

/// The longest one SMTP send may take before it counts as failed.
pub const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Default sender when `MAIL_FROM` is not set.
pub const DEFAULT_FROM: &str = "ipxfer <noreply@ipxfer.invalid>";

/// How mail leaves ipxfer, as configured by flags and the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// `SMTP_URL` in lettre's form: `smtp://127.0.0.1:1025`, `smtps://user:pass@host`,
    /// `smtp://host:587?tls=required`. Wins over `mail_dir`.
    pub smtp_url: Option<String>,
    /// `MAIL_DIR`: write each message as an `.eml` file in this folder instead.
    pub mail_dir: Option<PathBuf>,
    /// `MAIL_FROM`: the sender, `Name <address>` or a bare address.
    pub from: String,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            smtp_url: None,
            mail_dir: None,
            from: DEFAULT_FROM.to_owned(),
        }
    }
}

impl MailConfig {
    /// The same configuration, writing to `dir` unless SMTP or another folder is configured: the
    /// demo's default.
    pub fn or_mail_dir(mut self, dir: impl Into<PathBuf>) -> MailConfig {
        if self.smtp_url.is_none() && self.mail_dir.is_none() {
            self.mail_dir = Some(dir.into());
        }
        self
    }
}

/// One message as it leaves: what the outbox stored, without the outbox's bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub message_id: String,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// When the change happened: the `Date` header, the same on every attempt.
    pub created_at: OffsetDateTime,
}

/// A mail transport.
#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>, PathBuf),
    Stub(AsyncStubTransport),
}

/// A transport with the sender address every message goes out under.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mailer({}, from {})", self.describe(), self.from)
    }
}

/// Why one message was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub message: String,
    /// Retrying cannot help: a malformed address, a recipient the server refuses for good.
    pub permanent: bool,
}

impl Mailer {
    /// The mailer `config` asks for: SMTP when `smtp_url` is set, else a folder when `mail_dir`
    /// is set (created if missing), else `None`: mail stays queued in the outbox.
    pub fn from_config(config: &MailConfig) -> AppResult<Option<Mailer>> {
        let from = parse_from(&config.from)?;
        if let Some(url) = config.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) {
            return Mailer::smtp(url, from).map(Some);
        }
        match &config.mail_dir {
            Some(dir) => Mailer::folder(dir, from).map(Some),
            None => Ok(None),
        }
    }

    /// SMTP at `url` (lettre's URL form), with pooled connections and a 30 s timeout. Call it
    /// inside the tokio runtime: the pool starts a task.
    pub fn smtp(url: &str, from: Mailbox) -> AppResult<Mailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| {
                AppError::invalid(format!(
                    "SMTP_URL {} is not a usable SMTP URL ({e}); write it as \
                     smtp://host:port or smtps://user:pass@host",
                    redact(url)
                ))
            })?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        Ok(Mailer {
            transport: Transport::Smtp(transport),
            from,
        })
    }

    /// One `.eml` file per message in `dir`, created if missing.
    pub fn folder(dir: &Path, from: Mailbox) -> AppResult<Mailer> {
        std::fs::create_dir_all(dir).map_err(|e| {
            AppError::invalid(format!(
                "cannot create the mail folder {}: {e}",
                dir.display()
            ))
        })?;
        Ok(Mailer {
            transport: Transport::File(AsyncFileTransport::new(dir), dir.to_owned()),
            from,
        })
    }

    /// lettre's stub, for tests: it records messages and answers as it was built to.
    pub fn stub(stub: AsyncStubTransport, from: Mailbox) -> Mailer {
        Mailer {
            transport: Transport::Stub(stub),
            from,
        }
    }

    /// For logs: `SMTP (pooled)`, `folder ./data/mail`, `stub`.
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp(_) => "SMTP".to_owned(),
            Transport::File(_, dir) => format!("the folder {}", dir.display()),
            Transport::Stub(_) => "a test stub".to_owned(),
        }
    }

    /// The sender.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Sends one message: the same Message-ID and Date on every attempt.
    pub async fn send(&self, row: &Outgoing) -> Result<(), SendError> {
        let message = build_message(&self.from, row).map_err(|message| SendError {
            message,
            permanent: true,
        })?;
        match &self.transport {
            Transport::Smtp(t) => t.send(message).await.map(drop).map_err(|e| SendError {
                message: format!("SMTP: {e}"),
                permanent: e.is_permanent(),
            }),
            Transport::File(t, _) => t.send(message).await.map(drop).map_err(|e| SendError {
                message: format!("mail folder: {e}"),
                permanent: false,
            }),
            Transport::Stub(t) => t.send(message).await.map_err(|e| SendError {
                message: format!("stub: {e}"),
                permanent: false,
            }),
        }
    }
}

/// Parses a sender (`ipxfer <noreply@example.net>` or `noreply@example.net`).
pub fn parse_from(from: &str) -> AppResult<Mailbox> {
    from.parse().map_err(|e| {
        AppError::invalid(format!(
            "MAIL_FROM {from:?} is not an address ({e}); write it as \"Name <address>\""
        ))
    })
}

/// The MIME message: text, plus HTML as an alternative when there is some.
pub fn build_message(from: &Mailbox, row: &Outgoing) -> Result<Message, String> {
    let to: Mailbox = row
        .to_address
        .parse()
        .map_err(|e| format!("bad recipient address {:?}: {e}", row.to_address))?;
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(row.message_id.clone()))
        // The time the change happened, so every attempt produces the same message.
        .date(SystemTime::from(row.created_at));
    let built = match &row.body_html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            row.body_text.clone(),
            html.clone(),
        )),
        None => builder.singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(row.body_text.clone()),
        ),
    };
    built.map_err(|e| format!("cannot build the message: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn row(html: Option<&str>) -> Outgoing {
        Outgoing {
            message_id: "<TX-2026-000001.4.0@ipxfer>".into(),
            to_address: "dst@example.net".into(),
            subject: "[ipxfer] TX-2026-000001: Acme asks you to accept a transfer".into(),
            body_text: "Plain body".into(),
            body_html: html.map(str::to_owned),
            created_at: datetime!(2026-11-28 12:00 UTC),
        }
    }

    #[test]
    fn the_message_is_the_same_on_every_attempt() {
        let from = parse_from(DEFAULT_FROM).unwrap();
        let a = build_message(&from, &row(Some("<p>HTML body</p>"))).unwrap();
        let b = build_message(&from, &row(Some("<p>HTML body</p>"))).unwrap();
        let (a, b) = (
            String::from_utf8(a.formatted()).unwrap(),
            String::from_utf8(b.formatted()).unwrap(),
        );
        assert!(a.contains("Message-ID: <TX-2026-000001.4.0@ipxfer>"), "{a}");
        assert!(a.contains("Date: Sat, 28 Nov 2026 12:00:00 +0000"), "{a}");
        assert!(a.contains("multipart/alternative"), "{a}");
        assert!(a.contains("text/html") && a.contains("text/plain"), "{a}");
        // Only the MIME boundaries are random.
        let strip = |s: &str| {
            s.lines()
                .filter(|l| !l.contains("boundary") && !l.starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip(&a), strip(&b));
        let plain =
            String::from_utf8(build_message(&from, &row(None)).unwrap().formatted()).unwrap();
        assert!(plain.contains("Content-Type: text/plain"), "{plain}");
    }

    #[test]
    fn bad_addresses_are_permanent_failures() {
        let from = parse_from("noreply@example.net").unwrap();
        let mut r = row(None);
        r.to_address = "not an address".into();
        let err = build_message(&from, &r).unwrap_err();
        assert!(err.contains("bad recipient"), "{err}");
        assert!(parse_from("nobody").is_err());
    }

    // The SMTP pool starts a task: build mailers inside the runtime.
    #[tokio::test]
    async fn configuration_picks_the_transport() {
        assert!(
            Mailer::from_config(&MailConfig::default())
                .unwrap()
                .is_none()
        );
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("mail");
        let config = MailConfig::default().or_mail_dir(&folder);
        let m = Mailer::from_config(&config).unwrap().unwrap();
        assert!(m.describe().contains("mail"), "{}", m.describe());
        assert!(folder.is_dir(), "the folder is created");
        let smtp = MailConfig {
            smtp_url: Some("smtp://127.0.0.1:1025".into()),
            ..MailConfig::default()
        }
        .or_mail_dir(&folder);
        assert_eq!(smtp.mail_dir, None, "SMTP wins over the demo's folder");
        assert_eq!(
            Mailer::from_config(&smtp).unwrap().unwrap().describe(),
            "SMTP"
        );
        let bad = MailConfig {
            smtp_url: Some("imap://user:secret@host".into()),
            ..MailConfig::default()
        };
        let err = Mailer::from_config(&bad).unwrap_err().to_string();
        assert!(
            err.contains("user:***@host") && !err.contains("secret"),
            "{err}"
        );
    }
}
