//! E-mail notifications end to end on the database: who hears each workflow event, delivery
//! through lettre's stub transport (retries, backoff, failures, admins' retry, workers side by
//! side), the scheduler's reminders and expiry, and the background jobs on an injected clock.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use ipxfer::background::{self, Intervals};
use ipxfer::clock::ManualClock;
use ipxfer::config::Settings;
use ipxfer::db::entities::email_outbox;
use ipxfer::db::outbox::{self as outbox_db, OutboundEmail};
use ipxfer::domain::Side;
use ipxfer::domain::authz::Actor;
use ipxfer::mail::{DEFAULT_FROM, Mailer, parse_from};
use ipxfer::services::outbox::{self, DeliveryPolicy};
use ipxfer::services::scheduler;
use ipxfer::services::transfers::Command;
use lettre::transport::stub::AsyncStubTransport;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use time::Duration;

use crate::harness::now;
use crate::transfers::{World, need};
use ipxfer::domain::transfer::TransferId;

const SRC: &str = "src@example.net";
const DST: &str = "dst@example.net";
const HM1: &str = "hm1@arin.example";
const HM2: &str = "hm2@arin.example";
const RIPE: &str = "hm@ripe.example";

pub fn stub_mailer(stub: &AsyncStubTransport) -> Mailer {
    Mailer::stub(stub.clone(), parse_from(DEFAULT_FROM).unwrap())
}

/// A header of a raw message, unfolded.
pub fn header(raw: &str, name: &str) -> Option<String> {
    let unfolded = raw.replace("\r\n ", " ").replace("\r\n\t", " ");
    let head = unfolded.split("\r\n\r\n").next()?.to_owned();
    let prefix = format!("{name}: ");
    head.lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
}

pub async fn outbox_rows(w: &World) -> Vec<email_outbox::Model> {
    email_outbox::Entity::find()
        .order_by_asc(email_outbox::Column::Id)
        .all(&w.db.conn)
        .await
        .unwrap()
}

/// Applies each command to transfer `id` in turn; each must succeed.
pub async fn run(w: &World, id: i64, steps: Vec<(&Actor, Command)>) {
    for (actor, command) in steps {
        let what = format!("{command:?}");
        w.act(actor, id, command)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
    }
}

/// Takes transfers through every event that notifies: the whole inter-RIR path with an
/// information request and a dispute, a large transfer's first finalization, a rejection, a
/// withdrawal and an expiry. Returns the transfer that completed.
pub async fn every_event(w: &World) -> i64 {
    let settings = Settings::default();
    let id = w.file("20.0.4.0/22").await.unwrap();
    w.attach_documents(id).await;
    let approve = |side| Command::Approve {
        side,
        overrides: vec![],
    };
    let (arin, ripe) = (&w.arin_hostmaster, &w.ripe_hostmaster);
    let question = "Send the board resolution".to_owned();
    let dispute = "A court order arrived".to_owned();
    run(
        w,
        id,
        vec![
            (&w.recipient_member, Command::Accept { need: need() }),
            (
                arin,
                Command::RequestInfo {
                    side: Side::Source,
                    asked: Side::Source,
                    question,
                },
            ),
            (
                &w.source_member,
                Command::Answer {
                    text: "Attached".into(),
                },
            ),
            (arin, approve(Side::Source)),
            (ripe, approve(Side::Recipient)),
            (arin, Command::MarkDisputed { reason: dispute }),
            (arin, Command::ResolveDispute),
            (arin, Command::ConfirmFees),
            (arin, Command::Finalize),
        ],
    )
    .await;

    let large = w.ready_to_finalize("20.1.0.0/16").await;
    w.act(&w.arin_hostmaster, large, Command::Finalize)
        .await
        .unwrap();

    let rejected = w.file("20.0.0.0/24").await.unwrap();
    w.act(
        &w.recipient_member,
        rejected,
        Command::Accept { need: need() },
    )
    .await
    .unwrap();
    w.act(
        &w.arin_hostmaster,
        rejected,
        Command::Reject {
            side: Side::Source,
            reason: "Not the holder's signature".into(),
        },
    )
    .await
    .unwrap();

    let withdrawn = w.file("20.0.1.0/24").await.unwrap();
    w.act(&w.source_member, withdrawn, Command::Withdraw)
        .await
        .unwrap();

    w.file("20.0.2.0/24").await.unwrap();
    let tick = scheduler::tick(&w.db.conn, &settings, now() + Duration::days(31))
        .await
        .unwrap();
    assert_eq!(tick.expired, 1);
    id
}

#[tokio::test]
async fn rejection_and_question_emails_quote_what_the_hostmaster_wrote() {
    let w = World::new().await;
    every_event(&w).await;
    let rows = outbox_rows(&w).await;
    let of_kind = |kind: &str| {
        rows.iter()
            .find(|r| r.kind == kind)
            .unwrap_or_else(|| panic!("no {kind} e-mail"))
    };
    for (kind, heading, words) in [
        ("Rejected", "The reason given", "Not the holder's signature"),
        (
            "InformationRequested",
            "The registry's question",
            "Send the board resolution",
        ),
        ("InformationAnswered", "The answer", "Attached"),
    ] {
        let m = of_kind(kind);
        let link = format!("http://127.0.0.1:8080/transfers/{}", m.transfer_id.unwrap());
        assert!(
            m.body_text.contains(&format!("{heading}:\n> {words}\n")),
            "{kind}: {}",
            m.body_text
        );
        assert!(m.body_text.contains(&link), "{kind} keeps the link");
        let html = m.body_html.as_ref().unwrap();
        // The HTML escapes what was written: an apostrophe is an entity there.
        let escape = |s: &str| s.replace('\'', "&#39;");
        assert!(
            html.contains(&format!("<strong>{}:</strong>", escape(heading)))
                && html.contains(&format!(">{}</blockquote>", escape(words))),
            "{kind}: {html}"
        );
        assert!(html.contains(&format!("href=\"{link}\"")), "{kind}: {html}");
    }
    // A notification without words of its own quotes nothing.
    assert!(!of_kind("Completed").body_text.contains("> "));
}

#[tokio::test]
async fn every_event_notifies_exactly_who_must_act_or_know() {
    let w = World::new().await;
    let completed_id = every_event(&w).await;
    let rows: Vec<_> = outbox_rows(&w)
        .await
        .into_iter()
        // Reminders of the scheduler's tick are tested below.
        .filter(|r| !r.kind.starts_with("Reminder"))
        .collect();
    let mut told: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in &rows {
        told.entry(&r.kind).or_default().insert(&r.to_address);
    }
    let everyone = BTreeSet::from([SRC, DST, HM1, HM2, RIPE]);
    let arin = BTreeSet::from([HM1, HM2]);
    let expected: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::from([
        ("Filed", BTreeSet::from([DST])),
        ("RecipientAccepted", arin.clone()),
        ("InformationRequested", BTreeSet::from([SRC])),
        ("InformationAnswered", arin.clone()),
        ("SourceApproved", BTreeSet::from([RIPE])),
        ("ReadyToFinalize", arin.clone()),
        ("SecondFinalizerNeeded", arin.clone()),
        ("Completed", everyone.clone()),
        ("Rejected", everyone.clone()),
        ("Withdrawn", everyone.clone()),
        ("Expired", everyone.clone()),
        ("Disputed", everyone.clone()),
        ("DisputeResolved", everyone.clone()),
    ]);
    assert_eq!(told, expected);

    // Subjects, links, the deadline where there is one, and the ledger entry on completion.
    let subject = |kind: &str| {
        rows.iter()
            .find(|r| r.kind == kind && r.transfer_id == Some(completed_id))
            .unwrap_or_else(|| panic!("no {kind} e-mail"))
    };
    let reference = "TX-2026-000001";
    for (kind, headline) in [
        (
            "Filed",
            "ARIN holder arin-holder asks you to accept a transfer",
        ),
        (
            "RecipientAccepted",
            "the recipient accepted: source review needed",
        ),
        ("InformationRequested", "information requested"),
        (
            "InformationAnswered",
            "information answered: review continues",
        ),
        (
            "SourceApproved",
            "source registry approved: recipient review needed",
        ),
        (
            "ReadyToFinalize",
            "reviews passed: confirm fees and finalize",
        ),
        ("Disputed", "transfer disputed"),
        ("DisputeResolved", "dispute resolved"),
        ("Completed", "transfer completed"),
    ] {
        let m = subject(kind);
        assert_eq!(m.subject, format!("[ipxfer] {reference}: {headline}"));
        for body in [&m.body_text, m.body_html.as_ref().unwrap()] {
            assert!(body.contains(reference), "{kind}: {body}");
            assert!(body.contains("20.0.4.0/22 (1,024 addresses)"), "{kind}");
            assert!(
                body.contains(&format!("http://127.0.0.1:8080/transfers/{completed_id}")),
                "{kind}: {body}"
            );
        }
    }
    for kind in ["Filed", "InformationRequested"] {
        assert!(
            subject(kind)
                .body_text
                .contains("Deadline:  2026-12-28 12:00 UTC"),
            "{kind}: {}",
            subject(kind).body_text
        );
    }
    assert!(!subject("Completed").body_text.contains("Deadline"));
    let entry = ipxfer::db::ledger::page_after(&w.db.conn, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.movement.transfer_id == Some(TransferId(completed_id)))
        .unwrap();
    assert!(subject("Completed").body_text.contains(&entry.hash));
    assert!(
        subject("Completed")
            .body_html
            .as_ref()
            .unwrap()
            .contains(&entry.hash)
    );
    assert!(
        subject("Filed")
            .body_text
            .contains("Review the transfer and accept it before the deadline.")
    );

    // Delivered through lettre's stub: one message per row, to its address, with its subject and
    // Message-ID, multipart text and HTML.
    let stub = AsyncStubTransport::new_ok();
    let done = outbox::drain(
        &w.db.conn,
        &stub_mailer(&stub),
        &DeliveryPolicy::default(),
        || now() + Duration::days(31),
    )
    .await
    .unwrap();
    let all = outbox_rows(&w).await;
    assert_eq!(done.sent as usize, all.len());
    let sent = stub.messages().await;
    assert_eq!(sent.len(), all.len());
    let by_id: BTreeMap<String, &(lettre::address::Envelope, String)> = sent
        .iter()
        .map(|m| (header(&m.1, "Message-ID").unwrap(), m))
        .collect();
    assert_eq!(by_id.len(), all.len(), "Message-IDs are unique");
    for r in &all {
        assert_eq!(r.status, "sent");
        let (envelope, raw) = by_id[&r.message_id];
        let to: Vec<String> = envelope.to().iter().map(|a| a.to_string()).collect();
        assert_eq!(to, vec![r.to_address.clone()]);
        assert_eq!(header(raw, "Subject").unwrap(), r.subject);
        assert_eq!(header(raw, "From").unwrap(), DEFAULT_FROM);
        assert!(raw.contains("multipart/alternative"));
    }
}

#[tokio::test]
async fn a_failing_server_is_retried_with_backoff_then_admins_retry() {
    let w = World::new().await;
    w.file("20.0.4.0/22").await.unwrap();
    let policy = DeliveryPolicy {
        max_attempts: 3,
        ..DeliveryPolicy::default()
    };
    let down = AsyncStubTransport::new_error();
    let mailer = stub_mailer(&down);
    let mut t = now();
    let first = outbox::deliver_due(&w.db.conn, &mailer, &policy, t)
        .await
        .unwrap();
    assert_eq!((first.sent, first.deferred, first.failed), (0, 1, 0));
    // Not due again until the backoff has passed: 1 minute, then 2.
    let again = outbox::deliver_due(&w.db.conn, &mailer, &policy, t + Duration::seconds(59))
        .await
        .unwrap();
    assert_eq!(again.claimed(), 0);
    t += Duration::minutes(1);
    let second = outbox::deliver_due(&w.db.conn, &mailer, &policy, t)
        .await
        .unwrap();
    assert_eq!(second.deferred, 1);
    let row = &outbox_rows(&w).await[0];
    assert_eq!(row.attempts, 2);
    assert_eq!(row.next_attempt_at, t + Duration::minutes(2));
    assert!(row.last_error.as_deref().unwrap().contains("stub"));
    t += Duration::minutes(2);
    let third = outbox::deliver_due(&w.db.conn, &mailer, &policy, t)
        .await
        .unwrap();
    assert_eq!(third.failed, 1, "the third attempt was the last");
    assert_eq!(
        outbox::deliver_due(&w.db.conn, &mailer, &policy, t + Duration::days(1))
            .await
            .unwrap()
            .claimed(),
        0
    );

    let failed = outbox::failed(&w.db.conn, 100).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].to, DST);
    assert_eq!(failed[0].attempts, 3);
    assert!(failed[0].last_error.is_some());
    assert!(matches!(
        outbox::retry(&w.db.conn, failed[0].id + 1000, t).await,
        Err(ipxfer::error::AppError::NotFound(_))
    ));
    outbox::retry(&w.db.conn, failed[0].id, t).await.unwrap();
    assert!(outbox::failed(&w.db.conn, 100).await.unwrap().is_empty());
    // A retried message may be retried only once it failed again.
    assert!(outbox::retry(&w.db.conn, failed[0].id, t).await.is_err());

    let up = AsyncStubTransport::new_ok();
    let done = outbox::drain(&w.db.conn, &stub_mailer(&up), &policy, || t)
        .await
        .unwrap();
    assert_eq!(done.sent, 1);
    let tried: Vec<String> = down
        .messages()
        .await
        .iter()
        .map(|m| header(&m.1, "Message-ID").unwrap())
        .collect();
    let delivered = up.messages().await;
    assert_eq!(tried.len(), 3);
    assert!(
        tried
            .iter()
            .all(|id| *id == header(&delivered[0].1, "Message-ID").unwrap()),
        "every attempt is the same message"
    );
    assert_eq!(outbox_rows(&w).await[0].status, "sent");
}

#[tokio::test]
async fn a_refused_address_fails_at_once() {
    let w = World::new().await;
    let bad = OutboundEmail {
        message_id: "<bad.1@ipxfer>".into(),
        kind: "Invitation".into(),
        to: "not an address".into(),
        subject: "x".into(),
        body_text: "x".into(),
        body_html: None,
        transfer_id: None,
    };
    outbox_db::enqueue(&w.db.conn, &[bad], now()).await.unwrap();
    let stub = AsyncStubTransport::new_ok();
    let done = outbox::deliver_due(
        &w.db.conn,
        &stub_mailer(&stub),
        &DeliveryPolicy::default(),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(done.failed, 1);
    assert!(stub.messages().await.is_empty());
    let failed = outbox::failed(&w.db.conn, 100).await.unwrap();
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("bad recipient")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_side_by_side_never_send_a_row_twice() {
    let w = World::new().await;
    let emails: Vec<OutboundEmail> = (0..60)
        .map(|i| OutboundEmail {
            message_id: format!("<load.{i}@ipxfer>"),
            kind: "Test".into(),
            to: format!("user{i}@example.net"),
            subject: format!("message {i}"),
            body_text: "body".into(),
            body_html: None,
            transfer_id: None,
        })
        .collect();
    outbox_db::enqueue(&w.db.conn, &emails, now())
        .await
        .unwrap();
    let stub = AsyncStubTransport::new_ok();
    let policy = DeliveryPolicy {
        batch: 5,
        ..DeliveryPolicy::default()
    };
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (db, mailer) = (w.db.conn.clone(), stub_mailer(&stub));
            tokio::spawn(async move { outbox::drain(&db, &mailer, &policy, now).await })
        })
        .collect();
    let mut sent = 0;
    for worker in workers {
        sent += worker.await.unwrap().unwrap().sent;
    }
    assert_eq!(sent, 60);
    let ids: BTreeSet<String> = stub
        .messages()
        .await
        .iter()
        .map(|m| header(&m.1, "Message-ID").unwrap())
        .collect();
    assert_eq!(ids.len(), 60);
    assert_eq!(stub.messages().await.len(), 60, "no message was sent twice");
}

#[tokio::test]
async fn reminders_go_out_once_7_days_and_1_day_before_the_deadline() {
    let w = World::new().await;
    let settings = Settings::default();
    let id = w.file("20.0.4.0/22").await.unwrap();
    let deadline = now() + Duration::days(30);
    let reminders = |kind: &'static str| {
        let conn = w.db.conn.clone();
        async move {
            email_outbox::Entity::find()
                .filter(email_outbox::Column::Kind.eq(kind))
                .all(&conn)
                .await
                .unwrap()
        }
    };
    let at = |days: i64| now() + Duration::days(days);
    let quiet = scheduler::tick(&w.db.conn, &settings, at(22))
        .await
        .unwrap();
    assert_eq!(quiet, scheduler::Tick::default());

    let week = scheduler::tick(&w.db.conn, &settings, at(23))
        .await
        .unwrap();
    assert_eq!(week.deadline_reminders, 1);
    let again = scheduler::tick(&w.db.conn, &settings, at(25))
        .await
        .unwrap();
    assert_eq!(again.deadline_reminders, 0, "each reminder is queued once");
    let sent = reminders("ReminderWeekBefore").await;
    assert_eq!(sent.len(), 1);
    let recipient_member = w.recipient_member.user_id.unwrap();
    assert_eq!(sent[0].to_address, DST);
    assert_eq!(
        sent[0].message_id,
        format!(
            "<TX-2026-000001.week-before.{}.u{recipient_member}@ipxfer>",
            deadline.unix_timestamp()
        )
    );
    assert_eq!(
        sent[0].subject,
        "[ipxfer] TX-2026-000001: reminder: 7 days left to accept the transfer"
    );
    assert!(
        sent[0]
            .body_text
            .contains("Deadline:  2026-12-28 12:00 UTC")
    );
    assert!(
        sent[0]
            .body_text
            .contains("Accept the transfer before the deadline, or it expires.")
    );
    assert!(
        sent[0]
            .body_text
            .contains(&format!("http://127.0.0.1:8080/transfers/{id}"))
    );

    let day = scheduler::tick(&w.db.conn, &settings, deadline - Duration::hours(23))
        .await
        .unwrap();
    assert_eq!(day.deadline_reminders, 1);
    scheduler::tick(&w.db.conn, &settings, deadline - Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(reminders("ReminderDayBefore").await.len(), 1);

    let lapsed = scheduler::tick(&w.db.conn, &settings, deadline)
        .await
        .unwrap();
    assert_eq!(lapsed.expired, 1);
    assert_eq!(lapsed.deadline_reminders, 0);
    assert_eq!(reminders("Expired").await.len(), 5);
}

#[tokio::test]
async fn hostmasters_are_reminded_each_time_a_step_outlasts_its_service_level() {
    let w = World::new().await;
    let settings = Settings::default();
    let id = w.file("20.0.4.0/22").await.unwrap();
    w.attach_documents(id).await;
    w.act(&w.recipient_member, id, Command::Accept { need: need() })
        .await
        .unwrap();
    let at = |days: i64| now() + Duration::days(days);
    let early = scheduler::tick(&w.db.conn, &settings, at(9)).await.unwrap();
    assert_eq!(early.service_level_reminders, 0);
    let due = scheduler::tick(&w.db.conn, &settings, at(10))
        .await
        .unwrap();
    assert_eq!(due.service_level_reminders, 2, "both ARIN hostmasters");
    let same = scheduler::tick(&w.db.conn, &settings, at(15))
        .await
        .unwrap();
    assert_eq!(same.service_level_reminders, 0);
    let later = scheduler::tick(&w.db.conn, &settings, at(20))
        .await
        .unwrap();
    assert_eq!(
        later.service_level_reminders, 2,
        "again after a second period"
    );
    let rows = email_outbox::Entity::find()
        .filter(email_outbox::Column::Kind.eq("ReminderServiceLevel"))
        .all(&w.db.conn)
        .await
        .unwrap();
    let to: BTreeSet<&str> = rows.iter().map(|r| r.to_address.as_str()).collect();
    assert_eq!(to, BTreeSet::from([HM1, HM2]));
    assert!(rows.iter().any(|r| {
        r.subject
            .ends_with("reminder: this step has waited longer than its service level")
    }));
    assert!(
        rows.iter()
            .any(|r| r.subject.ends_with("waited 2 times its service level"))
    );

    // A registry with a shorter service level is reminded sooner.
    let mut quick = Settings::default();
    quick
        .service_levels
        .by_registry
        .insert(ipxfer::domain::Rir::Arin, 2);
    w.approve(&w.arin_hostmaster, id, Side::Source)
        .await
        .unwrap();
    let ripe = scheduler::tick(&w.db.conn, &quick, at(3)).await.unwrap();
    assert_eq!(ripe.service_level_reminders, 0, "RIPE NCC keeps 10 days");
}

#[tokio::test]
async fn a_mail_folder_receives_eml_files() {
    let w = World::new().await;
    w.file("20.0.4.0/22").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("mail");
    let mailer = Mailer::folder(&folder, parse_from(DEFAULT_FROM).unwrap()).unwrap();
    let done = outbox::drain(&w.db.conn, &mailer, &DeliveryPolicy::default(), now)
        .await
        .unwrap();
    assert_eq!(done.sent, 1);
    let files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    assert_eq!(files.len(), 1);
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(header(&raw, "To").unwrap(), DST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_jobs_send_and_expire_on_the_injected_clock() {
    let w = World::new().await;
    w.file("20.0.4.0/22").await.unwrap();
    let clock = ManualClock::at(now());
    let stub = AsyncStubTransport::new_ok();
    let jobs = background::spawn(
        w.db.conn.clone(),
        Arc::new(Settings::default()),
        Some(stub_mailer(&stub)),
        Arc::new(clock.clone()),
        Intervals {
            deliver_every: std::time::Duration::from_millis(20),
            tick_every: std::time::Duration::from_millis(20),
            delivery: DeliveryPolicy::default(),
        },
    );
    let wait_for = |n: usize| {
        let stub = stub.clone();
        async move {
            // Polls real time only to wait for the jobs; a failure says how many arrived.
            for _ in 0..500 {
                if stub.messages().await.len() >= n {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            panic!("expected {n} messages, got {}", stub.messages().await.len());
        }
    };
    wait_for(1).await;
    // Nothing lapses until the clock moves past the deadline.
    clock.advance(Duration::days(31));
    // The filing's e-mail, then the expiry's five.
    wait_for(6).await;
    jobs.stop().await;
    let kinds: Vec<String> = outbox_rows(&w).await.into_iter().map(|r| r.kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "Expired").count(), 5);
    assert!(outbox_rows(&w).await.iter().all(|r| r.status == "sent"));
}

#[tokio::test]
async fn a_queued_reminder_is_found_by_its_message_id_prefix_taken_literally() {
    let w = World::new().await;
    let mail = |id: &str| OutboundEmail {
        message_id: id.into(),
        kind: "ReminderWeekBefore".into(),
        to: "dst@example.net".into(),
        subject: "s".into(),
        body_text: "b".into(),
        body_html: None,
        transfer_id: None,
    };
    outbox_db::enqueue(
        &w.db.conn,
        &[mail("<TX-1.week-before.99.u3@ipxfer>")],
        now(),
    )
    .await
    .unwrap();
    let asked = [
        "<TX-1.week-before.99.",
        "<TX-1.day-before.99.",
        // `_` and `%` are not wildcards.
        "<TX-1.week_before.",
        "<TX-1.%",
        // The whole Message-ID is a prefix of itself; a longer one is not.
        "<TX-1.week-before.99.u3@ipxfer>",
        "<TX-1.week-before.99.u3@ipxfer>x",
    ]
    .map(String::from);
    let found = outbox_db::with_prefixes(&w.db.conn, &asked).await.unwrap();
    let expected: std::collections::HashSet<String> = [
        "<TX-1.week-before.99.".to_owned(),
        "<TX-1.week-before.99.u3@ipxfer>".to_owned(),
    ]
    .into();
    assert_eq!(found, expected);
    assert!(
        outbox_db::with_prefixes(&w.db.conn, &[])
            .await
            .unwrap()
            .is_empty()
    );
}

/// Marks the row with this Message-ID as claimed by another process, under a lease until `until`.
async fn claim_as(
    w: &World,
    message_id: &str,
    (label, pid, namespace): (&str, i64, &str),
    until: time::OffsetDateTime,
) {
    use sea_orm::sea_query::Expr;
    email_outbox::Entity::update_many()
        .col_expr(email_outbox::Column::NextAttemptAt, Expr::value(until))
        .col_expr(email_outbox::Column::Attempts, Expr::value(1))
        .col_expr(email_outbox::Column::ClaimedBy, Expr::value(Some(label)))
        .col_expr(email_outbox::Column::ClaimedPid, Expr::value(Some(pid)))
        .col_expr(
            email_outbox::Column::ClaimedPidNamespace,
            Expr::value(Some(namespace)),
        )
        .filter(email_outbox::Column::MessageId.eq(message_id))
        .exec(&w.db.conn)
        .await
        .unwrap();
}

fn test_email(message_id: &str) -> OutboundEmail {
    OutboundEmail {
        message_id: message_id.into(),
        kind: "Test".into(),
        to: "someone@example.net".into(),
        subject: message_id.into(),
        body_text: "body".into(),
        body_html: None,
        transfer_id: None,
    }
}

#[tokio::test]
async fn the_claims_of_a_dead_process_are_sent_at_once_and_no_others() {
    let w = World::new().await;
    let ids = ["<dead.1@ipxfer>", "<live.1@ipxfer>", "<elsewhere.1@ipxfer>"];
    let emails: Vec<_> = ids.iter().map(|id| test_email(id)).collect();
    let t = now();
    outbox_db::enqueue(&w.db.conn, &emails, t).await.unwrap();
    let me = ipxfer::process::Claimer::current();
    let ns = me.namespace.clone().expect("this test needs Linux's /proc");
    // A process that claimed a message and was killed (here: one that ran and was reaped).
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = i64::from(gone.id());
    gone.wait().unwrap();
    let alive_pid = i64::from(std::os::unix::process::parent_id());
    let lease_end = t + Duration::minutes(9);
    claim_as(&w, ids[0], ("the killed one", dead_pid, &ns), lease_end).await;
    claim_as(&w, ids[1], ("the live one", alive_pid, &ns), lease_end).await;
    claim_as(
        &w,
        ids[2],
        ("elsewhere", dead_pid, "other-boot/pid:[1]"),
        lease_end,
    )
    .await;

    // A process starting now sends the dead process's message at once, without its lease.
    let stub = AsyncStubTransport::new_ok();
    let policy = DeliveryPolicy::default();
    let done = outbox::drain(&w.db.conn, &stub_mailer(&stub), &policy, || t)
        .await
        .unwrap();
    assert_eq!(done.sent, 1);
    let sent: Vec<String> = stub
        .messages()
        .await
        .iter()
        .map(|m| header(&m.1, "Message-ID").unwrap())
        .collect();
    assert_eq!(sent, [ids[0]]);
    let rows = outbox_rows(&w).await;
    assert_eq!(rows[0].status, "sent");
    assert_eq!(
        (rows[0].claimed_by.as_deref(), rows[0].claimed_pid),
        (None, None)
    );
    assert_eq!(rows[0].attempts, 2, "the lost attempt still counts");
    for row in &rows[1..] {
        assert_eq!(
            (row.status.as_str(), row.next_attempt_at),
            ("pending", lease_end)
        );
    }
    assert_eq!(rows[1].claimed_by.as_deref(), Some("the live one"));

    // The others go once their lease ends, as before.
    let later = outbox::drain(&w.db.conn, &stub_mailer(&stub), &policy, || lease_end)
        .await
        .unwrap();
    assert_eq!(later.sent, 2);
    assert_eq!(stub.messages().await.len(), 3);
}

#[tokio::test]
async fn a_claim_names_its_process_which_keeps_it_while_alive() {
    let w = World::new().await;
    let t = now();
    outbox_db::enqueue(&w.db.conn, &[test_email("<mine.1@ipxfer>")], t)
        .await
        .unwrap();
    let claimed = outbox_db::claim_due(&w.db.conn, 10, Duration::minutes(10), t)
        .await
        .unwrap();
    let me = ipxfer::process::Claimer::current();
    let row = &outbox_rows(&w).await[0];
    assert_eq!(claimed[0].claimed_by, row.claimed_by);
    assert_eq!(row.claimed_by.as_deref(), Some(me.label.as_str()));
    assert_eq!(row.claimed_pid, Some(i64::from(me.pid)));
    assert_eq!(row.claimed_pid_namespace, me.namespace);
    assert_eq!(
        outbox_db::release_dead_claims(&w.db.conn, t).await.unwrap(),
        0
    );
    assert_eq!(
        outbox_rows(&w).await[0].next_attempt_at,
        t + Duration::minutes(10)
    );

    // A failed attempt gives the claim up, so the backoff is not mistaken for a dead claim.
    outbox_db::mark_attempt_failed(
        &w.db.conn,
        row.id,
        "451 try later",
        Some(t + Duration::minutes(1)),
    )
    .await
    .unwrap();
    let row = &outbox_rows(&w).await[0];
    assert_eq!((row.claimed_by.as_deref(), row.claimed_pid), (None, None));
}
