//! Who hears what, and the e-mails they get: the workflow's notification parties resolved to
//! people, each message rendered from `templates/email/` (text and HTML) into an outbox row that
//! the caller enqueues in its own transaction.
//!
//! Message-IDs are fixed when the row is written, never at sending: a workflow e-mail is named by
//! the transfer, the timeline row that caused it and its position
//! (`<TX-2026-000001.17.3@ipxfer>`), a reminder by the transfer, the reminder and the user
//! (`<TX-2026-000001.week-before.1798459200.u4@ipxfer>`), an account e-mail by its token.

use std::collections::BTreeMap;

use askama::Template;
use sea_orm::ConnectionTrait;
use time::OffsetDateTime;

use crate::db::outbox::OutboundEmail;
use crate::db::transfers::Loaded;
use crate::db::users as users_db;
use crate::domain::Side;
// The e-mails write times and headlines as the pages do.
use crate::domain::format::{capitalise, group_thousands, utc_minute as format_utc};
use crate::domain::ledger::LedgerEntry;
use crate::domain::notification::{self, Reminder};
use crate::domain::workflow::{Notification, Party};
use crate::error::{AppError, AppResult};

/// A person a notification reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: i64,
    pub email: String,
}

/// The active people behind notification parties, each once, ordered by address.
pub async fn recipients(
    conn: &impl ConnectionTrait,
    l: &Loaded,
    parties: &[Party],
) -> AppResult<Vec<Recipient>> {
    let mut out = BTreeMap::new();
    for party in parties {
        let users = match party {
            Party::Organisation(side) => {
                let org = match side {
                    Side::Source => l.facts.source.id,
                    Side::Recipient => l.facts.recipient.id,
                };
                users_db::members_of(conn, org.get()).await?
            }
            Party::Hostmasters(side) => {
                users_db::hostmasters_of(conn, l.facts.registry_of(*side)).await?
            }
        };
        for u in users {
            out.entry(u.email.clone()).or_insert(u.id);
        }
    }
    Ok(out
        .into_iter()
        .map(|(email, user_id)| Recipient { user_id, email })
        .collect())
}

/// The e-mails of a transition's notifications, in order, one per person per notification.
/// `event_id` is the timeline row of the transition; `entries` are the ledger entries it
/// appended (a completion's e-mail states them with their hashes); `comment` is what the actor
/// wrote, quoted by the notifications that carry it (a rejection's reason, a question).
pub async fn transition_emails(
    conn: &impl ConnectionTrait,
    base_url: &str,
    l: &Loaded,
    notifications: &[&Notification],
    entries: &[LedgerEntry],
    event_id: i64,
    comment: Option<&str>,
) -> AppResult<Vec<OutboundEmail>> {
    let mut emails = Vec::new();
    for n in notifications {
        let mut content = TransferMessage::new(
            base_url,
            l,
            notification::headline(n.kind, &l.facts.source.name),
            notification::call_to_action(n.kind).map(str::to_owned),
            entries,
        );
        content.quote = notification::quote_heading(n.kind)
            .zip(comment.map(str::trim).filter(|c| !c.is_empty()))
            .map(|(heading, text)| Quote {
                heading,
                lines: text.lines().map(str::to_owned).collect(),
            });
        let (text, html) = content.render()?;
        for to in recipients(conn, l, &n.to).await? {
            emails.push(OutboundEmail {
                message_id: format!(
                    "<{}.{}.{}@ipxfer>",
                    l.facts.reference,
                    event_id,
                    emails.len()
                ),
                kind: notification::kind_name(n.kind).to_owned(),
                to: to.email,
                subject: content.subject.clone(),
                body_text: text.clone(),
                body_html: Some(html.clone()),
                transfer_id: Some(l.row.id),
            });
        }
    }
    Ok(emails)
}

/// What the Message-IDs of one reminder of one transfer start with (`<TX-2026-000004.week-before.
/// 1798444800.`), before the recipient's part.
pub fn reminder_message_prefix(
    reference: &str,
    reminder: Reminder,
    anchor: OffsetDateTime,
) -> String {
    format!("<{reference}.{}.", reminder.key(anchor))
}

/// The e-mails of one reminder to the people of `party`. `anchor` is the deadline, or the start
/// of the wait for a service-level reminder: with the reminder it names the Message-ID, so the
/// same reminder is queued once however often the scheduler runs.
pub async fn reminder_emails(
    conn: &impl ConnectionTrait,
    base_url: &str,
    l: &Loaded,
    reminder: Reminder,
    party: Party,
    anchor: OffsetDateTime,
) -> AppResult<Vec<OutboundEmail>> {
    let content = TransferMessage::new(
        base_url,
        l,
        reminder.headline(),
        Some(reminder.call_to_action().to_owned()),
        &[],
    );
    let (text, html) = content.render()?;
    let prefix = reminder_message_prefix(&l.facts.reference, reminder, anchor);
    Ok(recipients(conn, l, &[party])
        .await?
        .into_iter()
        .map(|to| OutboundEmail {
            message_id: format!("{prefix}u{}@ipxfer>", to.user_id),
            kind: reminder.kind_name().to_owned(),
            to: to.email,
            subject: content.subject.clone(),
            body_text: text.clone(),
            body_html: Some(html.clone()),
            transfer_id: Some(l.row.id),
        })
        .collect())
}

/// A ledger entry as an e-mail states it.
struct LedgerLine {
    seq: i64,
    range: String,
    hash: String,
}

/// What the person who acted wrote, as an e-mail quotes it: a heading ("The reason given") and
/// the text, line by line (the text version prefixes each with `> `).
struct Quote {
    heading: &'static str,
    lines: Vec<String>,
}

/// What a transfer e-mail says, for both templates.
struct TransferMessage {
    subject: String,
    headline: String,
    action: Option<String>,
    quote: Option<Quote>,
    reference: String,
    source: String,
    recipient: String,
    blocks: Vec<String>,
    status: String,
    deadline: Option<String>,
    ledger: Vec<LedgerLine>,
    link: String,
}

#[derive(Template)]
#[template(path = "email/transfer.txt")]
struct TransferText<'a> {
    m: &'a TransferMessage,
}

#[derive(Template)]
#[template(path = "email/transfer.html")]
struct TransferHtml<'a> {
    m: &'a TransferMessage,
}

impl TransferMessage {
    fn new(
        base_url: &str,
        l: &Loaded,
        headline: String,
        action: Option<String>,
        entries: &[LedgerEntry],
    ) -> TransferMessage {
        let f = &l.facts;
        TransferMessage {
            subject: format!("[ipxfer] {}: {headline}", f.reference),
            headline: capitalise(&headline),
            action,
            quote: None,
            reference: f.reference.clone(),
            source: format!("{} ({})", f.source.name, f.source_rir()),
            recipient: format!("{} ({})", f.recipient.name, f.recipient_rir()),
            blocks: f
                .blocks
                .iter()
                .map(|b| format!("{b} ({} addresses)", group_thousands(b.size())))
                .collect(),
            status: l.state.describe(),
            deadline: l.row.deadline.map(format_utc),
            ledger: entries
                .iter()
                .map(|e| LedgerLine {
                    seq: e.seq,
                    range: e.movement.range.to_string(),
                    hash: e.hash.clone(),
                })
                .collect(),
            link: transfer_link(base_url, l.row.id),
        }
    }

    fn render(&self) -> AppResult<(String, String)> {
        let text = TransferText { m: self }.render().map_err(render_error)?;
        let html = TransferHtml { m: self }.render().map_err(render_error)?;
        Ok((text, html))
    }
}

/// The page of a transfer, where every party acts on it.
pub fn transfer_link(base_url: &str, id: i64) -> String {
    format!("{}/transfers/{id}", base_url.trim_end_matches('/'))
}

/// What an invitation or a password-reset e-mail needs; the web layer makes the token and link.
#[derive(Debug, Clone)]
pub struct AccountEmail<'a> {
    pub to: &'a str,
    pub display_name: &'a str,
    /// The absolute link with the token (`https://ipxfer.example/invitations/<token>`).
    pub link: &'a str,
    pub expires_at: OffsetDateTime,
    /// The `auth_tokens` row: it names the Message-ID.
    pub token_id: i64,
}

struct AccountMessage {
    subject: String,
    display_name: String,
    intro: String,
    button: String,
    link: String,
    expires: String,
    ignore: String,
}

#[derive(Template)]
#[template(path = "email/account.txt")]
struct AccountText<'a> {
    m: &'a AccountMessage,
}

#[derive(Template)]
#[template(path = "email/account.html")]
struct AccountHtml<'a> {
    m: &'a AccountMessage,
}

/// The invitation of a new user, as an outbox row to enqueue with the token.
pub fn invitation(a: &AccountEmail<'_>) -> AppResult<OutboundEmail> {
    account_email(
        a,
        "Invitation",
        format!("<invitation.{}@ipxfer>", a.token_id),
        AccountMessage {
            subject: "[ipxfer] You are invited to ipxfer".into(),
            intro: "You are invited to ipxfer, where IPv4 transfers between the Regional Internet \
                    Registries are filed and reviewed. Choose your password here:"
                .into(),
            button: "Accept the invitation".into(),
            ignore: "If you did not expect it, ignore this e-mail.".into(),
            ..blank(a)
        },
    )
}

/// A password reset, as an outbox row to enqueue with the token.
pub fn password_reset(a: &AccountEmail<'_>) -> AppResult<OutboundEmail> {
    account_email(
        a,
        "PasswordReset",
        format!("<password-reset.{}@ipxfer>", a.token_id),
        AccountMessage {
            subject: "[ipxfer] Reset your password".into(),
            intro: "Someone, hopefully you, asked to reset your ipxfer password. Choose a new \
                    one here:"
                .into(),
            button: "Choose a new password".into(),
            ignore: "If you did not ask, ignore this e-mail: your password stays as it is.".into(),
            ..blank(a)
        },
    )
}

fn blank(a: &AccountEmail<'_>) -> AccountMessage {
    AccountMessage {
        subject: String::new(),
        display_name: a.display_name.to_owned(),
        intro: String::new(),
        button: String::new(),
        link: a.link.to_owned(),
        expires: format_utc(a.expires_at),
        ignore: String::new(),
    }
}

fn account_email(
    a: &AccountEmail<'_>,
    kind: &str,
    message_id: String,
    m: AccountMessage,
) -> AppResult<OutboundEmail> {
    if !a.to.contains('@') {
        return Err(AppError::invalid(format!(
            "{:?} is not an e-mail address",
            a.to
        )));
    }
    Ok(OutboundEmail {
        message_id,
        kind: kind.to_owned(),
        to: a.to.to_owned(),
        subject: m.subject.clone(),
        body_text: AccountText { m: &m }.render().map_err(render_error)?,
        body_html: Some(AccountHtml { m: &m }.render().map_err(render_error)?),
        transfer_id: None,
    })
}

fn render_error(e: askama::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("cannot render an e-mail: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn account() -> AccountEmail<'static> {
        AccountEmail {
            to: "ana@example.net",
            display_name: "Ana <Lima>",
            link: "https://ipxfer.example/invitations/abc?x=1&y=2",
            expires_at: datetime!(2026-12-05 12:00 UTC),
            token_id: 42,
        }
    }

    #[test]
    fn an_invitation_links_to_its_token_and_says_until_when() {
        let e = invitation(&account()).unwrap();
        assert_eq!(e.message_id, "<invitation.42@ipxfer>");
        assert_eq!(e.kind, "Invitation");
        assert_eq!(e.to, "ana@example.net");
        assert_eq!(e.subject, "[ipxfer] You are invited to ipxfer");
        assert!(
            e.body_text.starts_with("Hello Ana <Lima>,"),
            "{}",
            e.body_text
        );
        assert!(
            e.body_text
                .contains("https://ipxfer.example/invitations/abc?x=1&y=2")
        );
        assert!(e.body_text.contains("until 2026-12-05 12:00 UTC"));
        let html = e.body_html.unwrap();
        // Escaped in HTML, verbatim in text.
        assert!(html.contains("Hello Ana &#60;Lima&#62;,"), "{html}");
        assert!(html.contains("Accept the invitation"));
        assert_eq!(e.transfer_id, None);
    }

    #[test]
    fn a_password_reset_is_its_own_message() {
        let e = password_reset(&account()).unwrap();
        assert_eq!(e.message_id, "<password-reset.42@ipxfer>");
        assert_eq!(e.kind, "PasswordReset");
        assert_eq!(e.subject, "[ipxfer] Reset your password");
        assert!(e.body_text.contains("reset your ipxfer password"));
        assert!(e.body_text.contains("your password stays as it is"));
        let bad = AccountEmail {
            to: "nobody",
            ..account()
        };
        assert!(matches!(password_reset(&bad), Err(AppError::Invalid(_))));
    }

    #[test]
    fn dates_are_written_in_utc() {
        let t = datetime!(2026-12-28 13:30 +01:00);
        assert_eq!(format_utc(t), "2026-12-28 12:30 UTC");
        assert_eq!(capitalise("transfer completed"), "Transfer completed");
    }
}
