//! The transfer pages through the router, as each role uses them: filing with the form, the
//! recipient's acceptance, both reviews, fees and finalization, with refusals shown on the page.

use axum::http::StatusCode;
use ipxfer::db::users::{self, NewUser};
use ipxfer::services::import::{self, NoProgress};

use crate::browser::{Browser, Page, password_hash};
use crate::harness::now;
use crate::transfers::World;

const PDF: &[u8] = b"%PDF-1.7 a signed transfer agreement";

/// Files `block` from the ARIN holder to the RIPE NCC holder with the form; returns the
/// transfer's page path.
async fn file_with_form(b: &mut Browser, block: &str) -> String {
    let recipient = recipient_option(b, "RIPE NCC holder").await;
    let res = b
        .post_multipart(
            "/transfers/new",
            &[
                ("recipient", &recipient),
                ("kind", "RESOURCE_TRANSFER"),
                ("blocks", block),
                ("price", "25000"),
                ("currency", "usd"),
            ],
            &[
                ("agreement", "agreement.pdf", "application/pdf", PDF),
                ("registration", "registration.pdf", "application/pdf", PDF),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    res.location.unwrap()
}

/// The value of the filing form's recipient option whose label starts with `name`.
async fn recipient_option(b: &mut Browser, name: &str) -> String {
    let form = b.get("/transfers/new").await;
    let sel = scraper::Selector::parse("#recipient option").unwrap();
    let html = form.html();
    let option = html
        .select(&sel)
        .find(|o| o.text().collect::<String>().starts_with(name))
        .unwrap_or_else(|| panic!("no recipient {name} in {}", form.text("#recipient")));
    option.value().attr("value").unwrap().to_owned()
}

/// A third organisation (at APNIC) with a member, unrelated to the World's transfers.
pub async fn outsider(w: &World) -> &'static str {
    let apnic = "2|apnic|1|1|19700101|20260101|+1000\n\
                 apnic|AU|ipv4|1.0.0.0|256|20100101|allocated|apnic-holder\n";
    import::import_delegated(&w.db.conn, apnic.as_bytes(), now(), &NoProgress)
        .await
        .unwrap();
    let ids = ipxfer::db::organisations::ids_by_handle(&w.db.conn, ipxfer::domain::Rir::Apnic)
        .await
        .unwrap();
    users::insert(
        &w.db.conn,
        NewUser {
            email: "other@example.au",
            display_name: "Other Member",
            role: "member",
            organisation_id: Some(ids["apnic-holder"]),
            registry: None,
            password_hash: Some(password_hash()),
        },
        now(),
    )
    .await
    .unwrap();
    "other@example.au"
}

fn assert_flash(page: &Page, words: &str) {
    assert!(
        page.text(".banner").contains(words),
        "banner: {}",
        page.text(".banner")
    );
}

#[tokio::test]
async fn an_inter_rir_transfer_goes_through_every_page_to_completion() {
    let w = World::new().await;
    let db = &w.db.conn;
    let mut src = Browser::signed_in(db, "src@example.net").await;
    let form = src.get("/transfers/new").await;
    form.assert_ok();
    assert!(form.text(".lead").contains("ARIN"));
    let path = file_with_form(&mut src, "20.0.4.0/22").await;
    let page = src.get(&path).await;
    page.assert_ok();
    assert_flash(&page, "asked to accept");
    assert_eq!(page.text("h1 .tag"), "Awaiting recipient");
    assert!(
        !page.has("h1 .nro"),
        "nothing is published before the source registry acts"
    );
    assert!(page.text("#status").starts_with("Waiting for"));
    assert!(
        page.text("#summary")
            .contains("20.0.4.0/22, 1,024 addresses")
    );
    assert!(page.text("#summary").contains("USD 25,000.00"));
    assert_eq!(page.texts("#documents tbody tr").len(), 2);
    // Stored as `document_added`, labelled as the timeline says it (the two once disagreed).
    assert!(page.text("#timeline").contains("Document attached"));
    assert!(
        !page.has("#accept-form"),
        "the source cannot accept its own filing"
    );
    // The filer's list shows it, waiting on the recipient.
    let list = src.get("/transfers").await;
    assert!(list.text("#transfers").contains("20.0.4.0/22"));
    assert!(list.text("#transfers").contains("(recipient)"));

    // The recipient accepts; RIPE NCC asks for a plan, so the form asks for it.
    let mut dst = Browser::signed_in(db, "dst@example.net").await;
    let page = dst.get(&path).await;
    assert!(page.has("#accept-form"));
    assert!(page.has("#horizon_months"));
    let bad = dst
        .post(
            &format!("{path}/accept"),
            &[("need_text", "growth"), ("horizon_months", "sixty")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text(".error-summary").contains("whole number"));
    assert_eq!(bad.text("#need_text"), "growth", "typed text is kept");
    let res = dst
        .post(
            &format!("{path}/accept"),
            &[
                ("need_text", "Broadband growth"),
                ("horizon_months", "60"),
                ("utilisation_percent", "50"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(dst.get(&path).await.text("h1 .tag"), "Source review");

    // ARIN's queue has it; the hostmaster approves the source side.
    let mut arin = Browser::signed_in(db, "hm1@arin.example").await;
    let queue = arin.get("/queue").await;
    queue.assert_ok();
    assert!(queue.text("#queue").contains("Source review"));
    let page = arin.get(&path).await;
    assert!(page.has("#approve-form"));
    assert!(page.text("#next").contains("Approve the source side"));
    let res = arin
        .post(&format!("{path}/approve"), &[("side", "source")])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert!(
        !arin.get("/queue").await.body.contains(&path),
        "the step left ARIN's queue"
    );

    let mut ripe = Browser::signed_in(db, "hm@ripe.example").await;
    assert!(
        ripe.get("/queue")
            .await
            .text("#queue")
            .contains("Recipient review")
    );
    assert_eq!(ripe.get(&path).await.text("h1 .nro"), "SOURCE_INITIALIZED");
    let res = ripe
        .post(&format!("{path}/approve"), &[("side", "recipient")])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(ripe.get(&path).await.text("h1 .nro"), "RECIPIENT_ACCEPTED");

    // Finalizing before the fees are confirmed is refused on the page.
    let page = arin.get(&path).await;
    assert!(page.has("#fees-form"));
    let res = arin.post(&format!("{path}/confirm-fees"), &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let confirm = arin.get(&format!("{path}/finalize")).await;
    confirm.assert_ok();
    assert!(confirm.text(".panel").contains("cannot be undone"));
    let res = arin.post(&format!("{path}/finalize"), &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let done = arin.get(&path).await;
    assert_flash(&done, "is complete");
    assert_eq!(done.text("h1 .tag"), "Completed");
    assert_eq!(done.text("h1 .nro"), "SOURCE_FINALIZED");
    assert!(
        done.text("#timeline")
            .contains("Finalized: the addresses moved")
    );
    assert!(!done.has("#next"), "nothing is left to do");
    assert!(
        w.holdings_of(w.ripe_org)
            .await
            .contains(&"20.0.4.0/22".to_owned())
    );
}

#[tokio::test]
async fn the_filing_form_explains_every_mistake_and_keeps_what_was_typed() {
    let w = World::new().await;
    let mut src = Browser::signed_in(&w.db.conn, "src@example.net").await;
    let res = src
        .post_multipart(
            "/transfers/new",
            &[
                ("recipient", "999999"),
                ("kind", "RESOURCE_TRANSFER"),
                ("blocks", "20.0.4.0/22\n198.51.100.0/33"),
                ("price", "lots"),
                ("currency", "USD"),
            ],
            &[("agreement", "notes.txt", "text/plain", b"not a pdf")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let summary = res.text(".error-summary");
    assert!(
        summary.contains("Choose the recipient organisation from the list"),
        "{summary}"
    );
    assert!(
        summary.contains("line 2: \"198.51.100.0/33\" is not a valid prefix"),
        "{summary}"
    );
    assert!(summary.contains("Enter the price as a number"), "{summary}");
    assert!(
        summary.contains("notes.txt is not a PDF, PNG or JPEG file"),
        "{summary}"
    );
    assert_eq!(
        res.attr(".error-summary a[href='#blocks']", "href")
            .as_deref(),
        Some("#blocks")
    );
    assert_eq!(
        res.text("#blocks"),
        "20.0.4.0/22\n198.51.100.0/33"
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert_eq!(res.attr("#price", "value").as_deref(), Some("lots"));
    assert!(
        src.get("/transfers")
            .await
            .text(".caption")
            .starts_with("0 open transfers")
    );

    // A block the source does not hold is refused with the rule's message, nothing stored.
    let recipient = recipient_option(&mut src, "RIPE NCC holder").await;
    let res = src
        .post_multipart(
            "/transfers/new",
            &[
                ("recipient", &recipient),
                ("kind", "RESOURCE_TRANSFER"),
                ("blocks", "100.64.0.0/24"),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text(".error-summary").contains("100.64.0.0/24"),
        "{}",
        res.text(".error-summary")
    );
}

#[tokio::test]
async fn a_block_already_in_another_transfer_is_refused_at_filing() {
    let w = World::new().await;
    let mut src = Browser::signed_in(&w.db.conn, "src@example.net").await;
    file_with_form(&mut src, "20.0.4.0/22").await;
    let recipient = recipient_option(&mut src, "RIPE NCC holder").await;
    let res = src
        .post_multipart(
            "/transfers/new",
            &[
                ("recipient", &recipient),
                ("kind", "RESOURCE_TRANSFER"),
                ("blocks", "20.0.5.0/24"),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text(".error-summary").contains("TX-"),
        "{}",
        res.text(".error-summary")
    );
}

#[tokio::test]
async fn a_rejection_shows_its_reason_to_the_filer() {
    let w = World::new().await;
    let db = &w.db.conn;
    let id = w.file("20.0.4.0/22").await.unwrap();
    w.attach_documents(id).await;
    w.act(
        &w.recipient_member,
        id,
        ipxfer::services::transfers::Command::Accept {
            need: crate::transfers::need(),
        },
    )
    .await
    .unwrap();
    let path = format!("/transfers/{id}");
    let mut arin = Browser::signed_in(db, "hm1@arin.example").await;
    let confirm = arin.get(&format!("{path}/reject?side=source")).await;
    confirm.assert_ok();
    assert!(confirm.text(".panel").contains("no address moves"));
    let empty = arin
        .post(
            &format!("{path}/reject"),
            &[("side", "source"), ("reason", " ")],
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        empty
            .text(".error-summary")
            .contains("Enter the reason for rejecting")
    );
    let res = arin
        .post(
            &format!("{path}/reject"),
            &[
                ("side", "source"),
                ("reason", "The agreement is not signed by an officer"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let mut src = Browser::signed_in(db, "src@example.net").await;
    let page = src.get(&path).await;
    assert_eq!(page.text("h1 .tag"), "Rejected");
    // Rejected by the source registry before it approved: the NRO log never heard of it, so
    // no cancel status is published (issue 14).
    assert!(!page.has("h1 .nro"), "{}", page.text("h1"));
    assert!(
        page.text("#timeline")
            .contains("The agreement is not signed by an officer")
    );
    // Rejecting twice is refused: the step is no longer open.
    let again = arin.get(&format!("{path}/reject?side=source")).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_question_is_answered_and_the_review_goes_on() {
    let w = World::new().await;
    let db = &w.db.conn;
    let id = w.file("20.0.4.0/22").await.unwrap();
    w.attach_documents(id).await;
    w.act(
        &w.recipient_member,
        id,
        ipxfer::services::transfers::Command::Accept {
            need: crate::transfers::need(),
        },
    )
    .await
    .unwrap();
    let path = format!("/transfers/{id}");
    let mut arin = Browser::signed_in(db, "hm1@arin.example").await;
    let res = arin
        .post(
            &format!("{path}/request-info"),
            &[
                ("side", "source"),
                ("asked", "source"),
                ("question", "Who signed the agreement?"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let mut src = Browser::signed_in(db, "src@example.net").await;
    let page = src.get(&path).await;
    assert_eq!(page.text("h1 .tag"), "Information requested");
    assert!(
        page.text("#answer-form")
            .contains("Who signed the agreement?")
    );
    let res = src
        .post(
            &format!("{path}/answer"),
            &[("answer", "Our CFO, Dana Smith")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = arin.get(&path).await;
    assert_eq!(page.text("h1 .tag"), "Source review");
    assert!(page.text("#timeline").contains("Our CFO, Dana Smith"));
}

#[tokio::test]
async fn the_filer_withdraws_after_a_confirmation_page() {
    let w = World::new().await;
    let mut src = Browser::signed_in(&w.db.conn, "src@example.net").await;
    let path = file_with_form(&mut src, "20.0.4.0/22").await;
    let confirm = src.get(&format!("{path}/withdraw")).await;
    confirm.assert_ok();
    assert!(confirm.text(".panel").contains("stops for good"));
    let res = src.post(&format!("{path}/withdraw"), &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(src.get(&path).await.text("h1 .tag"), "Withdrawn");
    // The recipient cannot withdraw the source's filing.
    let mut dst = Browser::signed_in(&w.db.conn, "dst@example.net").await;
    assert_eq!(
        dst.get(&format!("{path}/withdraw")).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_large_transfer_needs_a_second_hostmaster_to_finalize() {
    let w = World::new().await;
    let db = &w.db.conn;
    let id = w.ready_to_finalize("20.1.0.0/16").await;
    let path = format!("/transfers/{id}");
    let mut first = Browser::signed_in(db, "hm1@arin.example").await;
    let confirm = first.get(&format!("{path}/finalize")).await;
    assert!(confirm.text(".panel").contains("second ARIN hostmaster"));
    first.post(&format!("{path}/finalize"), &[]).await;
    let page = first.get(&path).await;
    assert_flash(&page, "second hostmaster");
    assert_eq!(page.text("h1 .tag"), "Awaiting finalization");
    // The same hostmaster may not finalize twice.
    assert!(!page.has("a[href$='/finalize']"));
    let mut second = Browser::signed_in(db, "hm2@arin.example").await;
    second.post(&format!("{path}/finalize"), &[]).await;
    assert_eq!(second.get(&path).await.text("h1 .tag"), "Completed");
}

#[tokio::test]
async fn people_outside_a_transfer_cannot_see_it() {
    let w = World::new().await;
    let db = &w.db.conn;
    let id = w.file("20.0.4.0/22").await.unwrap();
    let path = format!("/transfers/{id}");
    let email = outsider(&w).await;
    let mut other = Browser::signed_in(db, email).await;
    // Someone who may not see it is told there is no such transfer (see security.rs).
    let page = other.get(&path).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("20.0.4.0"));
    assert!(!other.get("/transfers").await.body.contains("20.0.4.0/22"));
    let res = other.post(&format!("{path}/withdraw"), &[]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let mut anonymous = Browser::new(db);
    let res = anonymous.get(&path).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location, Some(format!("/login?next=/transfers/{id}")));
    // A member of the organisation downloads its documents; the outsider cannot.
    w.attach_documents(id).await;
    let mut src = Browser::signed_in(db, "src@example.net").await;
    let page = src.get(&path).await;
    let href = page.attr("#documents a", "href").unwrap();
    let doc = src.get(&href).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body.starts_with("%PDF"));
    assert_eq!(other.get(&href).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_queue_marks_steps_past_their_service_level_in_words() {
    let w = World::new().await;
    let id = w.file("20.0.4.0/22").await.unwrap();
    w.attach_documents(id).await;
    w.act(
        &w.recipient_member,
        id,
        ipxfer::services::transfers::Command::Accept {
            need: crate::transfers::need(),
        },
    )
    .await
    .unwrap();
    let clock = ipxfer::clock::ManualClock::at(now() + time::Duration::days(3));
    let mut arin = Browser::with_clock(&w.db.conn, std::sync::Arc::new(clock.clone()));
    arin.sign_in("hm1@arin.example").await;
    let queue = arin.get("/queue").await;
    assert!(
        queue.text("#queue tbody").contains("3 days of 10 days"),
        "{}",
        queue.text("#queue")
    );
    assert!(!queue.has(".tag-overdue"));
    clock.advance(time::Duration::days(9));
    let queue = arin.get("/queue").await;
    assert_eq!(queue.text("#queue .tag-overdue"), "Overdue");
    assert!(queue.text(".panel-danger").contains("1 overdue"));
    // Other registries' hostmasters do not see it in their queue, and members have none.
    let mut ripe = Browser::signed_in(&w.db.conn, "hm@ripe.example").await;
    assert!(!ripe.get("/queue").await.has("#queue"));
    let mut src = Browser::signed_in(&w.db.conn, "src@example.net").await;
    assert_eq!(src.get("/queue").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_queue_counts_each_steps_blocking_findings() {
    use ipxfer::config::Settings;
    use ipxfer::domain::finding::Severity;
    use ipxfer::domain::workflow::Override;
    use ipxfer::services::transfers::{self, Command};
    let w = World::new().await;
    let settings = Settings::default();
    let findings = |id: i64| transfers::findings(&w.db.conn, &settings, id, now());
    // Approved past its missing documents (a warning in review, with a written reason), the
    // transfer reaches finalization, where missing documents block.
    let bare = w.file("20.0.4.0/22").await.unwrap();
    let complete = w.file("20.0.8.0/22").await.unwrap();
    w.attach_documents(complete).await;
    for id in [bare, complete] {
        let need = crate::transfers::need();
        w.act(&w.recipient_member, id, Command::Accept { need })
            .await
            .unwrap();
        for (actor, side) in [
            (&w.arin_hostmaster, ipxfer::domain::Side::Source),
            (&w.ripe_hostmaster, ipxfer::domain::Side::Recipient),
        ] {
            let overrides = findings(id)
                .await
                .unwrap()
                .into_iter()
                .filter(|f| f.severity == Severity::Warning && f.concerns(side))
                .map(|f| Override {
                    rule_id: f.rule_id,
                    reason: "seen on paper at the counter".into(),
                })
                .collect();
            w.act(actor, id, Command::Approve { side, overrides })
                .await
                .unwrap();
        }
    }
    let blocking = |id: i64| async move {
        findings(id)
            .await
            .unwrap()
            .iter()
            .filter(|f| f.is_blocking())
            .count()
    };
    assert!(blocking(bare).await >= 1);
    assert_eq!(blocking(complete).await, 0);
    let clock = ipxfer::clock::ManualClock::at(now());
    let mut arin = Browser::with_clock(&w.db.conn, std::sync::Arc::new(clock));
    arin.sign_in("hm1@arin.example").await;
    let queue = arin.get("/queue").await;
    for (id, block) in [(bare, "20.0.4.0/22"), (complete, "20.0.8.0/22")] {
        let row = queue
            .texts("#queue tbody tr")
            .into_iter()
            .find(|r| r.contains(block))
            .unwrap();
        let expected = blocking(id).await;
        assert!(
            row.ends_with(&format!(" {expected}")),
            "{row}: expected {expected}"
        );
    }
}

#[tokio::test]
async fn the_queue_pages_oldest_first_and_counts_the_whole_queue() {
    use ipxfer::domain::notification::ServiceLevels;
    use ipxfer::services::transfer_access::{self, QueueCursor};
    use ipxfer::services::transfers::Command;
    let w = World::new().await;
    // Five steps waiting on ARIN, filed and accepted at the same instant: the order within one
    // instant is the transfer id, which the cursor must keep across pages too.
    let mut filed = Vec::new();
    for block in [
        "20.0.0.0/24",
        "20.0.1.0/24",
        "20.0.2.0/24",
        "20.0.3.0/24",
        "20.0.4.0/24",
    ] {
        let id = w.file(block).await.unwrap();
        let need = crate::transfers::need();
        w.act(&w.recipient_member, id, Command::Accept { need })
            .await
            .unwrap();
        filed.push(id);
    }
    let levels = ServiceLevels::default();
    let page = |after: Option<QueueCursor>, at: time::OffsetDateTime| {
        let (db, actor, levels) = (&w.db.conn, &w.arin_hostmaster, &levels);
        async move {
            transfer_access::queue(db, actor, levels, at, after, 2)
                .await
                .unwrap()
        }
    };
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let p = page(after, now()).await;
        assert_eq!((p.waiting, p.overdue), (5, 0));
        assert!(p.steps.len() <= 2);
        seen.extend(p.steps.iter().map(|l| l.facts.id.get()));
        pages += 1;
        match p.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, filed, "every step once, oldest first");
    assert_eq!(pages, 3);
    // Past the service level every step counts as overdue, on every page.
    let late = now() + time::Duration::days(30);
    assert_eq!(page(None, late).await.overdue, 5);
    // A step that leaves the queue (ARIN approves the first) moves no other step to another page.
    let second_page = page(page(None, now()).await.next, now()).await;
    w.attach_documents(filed[0]).await;
    w.approve(&w.arin_hostmaster, filed[0], ipxfer::domain::Side::Source)
        .await
        .unwrap();
    let first = page(None, now()).await;
    assert_eq!(first.waiting, 4);
    let ids = |p: &transfer_access::QueuePage| {
        p.steps.iter().map(|l| l.facts.id.get()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&first), filed[1..3]);
    assert_eq!(ids(&second_page), filed[2..4]);

    // The page says how many wait in all, and a made-up cursor is a clear refusal.
    let mut arin = Browser::signed_in(&w.db.conn, "hm1@arin.example").await;
    let queue = arin.get("/queue").await;
    assert_eq!(queue.text("#queue caption"), "4 steps waiting on ARIN");
    assert!(!queue.has("nav.pager"));
    let bad = arin.get("/queue?after=yesterday").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("is not a place in the queue"),
        "{}",
        bad.body
    );
}

/// The queue, the lists, the transfer pages and the lookup are kept between views
/// (`web::cache::queue`, `list`, `transfer`, `lookup`) and shared by those who see the same (a registry's hostmasters, an
/// organisation's members); each change of what they show is there on the next view, whoever
/// wrote it (the services, a bare SQL UPDATE), and so is time: a step that reaches its service
/// level while nothing is written is counted overdue. A kept transfer page is still refused to
/// whoever may not see it.
#[tokio::test]
async fn the_kept_pages_show_every_change_at_once() {
    use ipxfer::config::Settings;
    use ipxfer::services::transfers::Command;
    use ipxfer::web::AppState;
    use sea_orm::ConnectionTrait;
    let w = World::new().await;
    let accepted = |block: &'static str| {
        let w = &w;
        async move {
            let id = w.file(block).await.unwrap();
            let need = crate::transfers::need();
            w.act(&w.recipient_member, id, Command::Accept { need })
                .await
                .unwrap();
            id
        }
    };
    let first = accepted("20.0.4.0/22").await;
    let clock = ipxfer::clock::ManualClock::at(now() + time::Duration::days(3));
    let state = AppState::new(w.db.conn.clone(), Settings::default())
        .with_clock(std::sync::Arc::new(clock.clone()));
    let mut hm1 = Browser::with_state(state.clone());
    hm1.sign_in("hm1@arin.example").await;
    let mut hm2 = Browser::with_state(state.clone());
    hm2.sign_in("hm2@arin.example").await;
    let mut member = Browser::with_state(state.clone());
    member.sign_in("src@example.net").await;
    let stranger = outsider(&w).await;
    let mut stranger = {
        let mut b = Browser::with_state(state);
        b.sign_in(stranger).await;
        b
    };
    let page = format!("/transfers/{first}");
    assert!(!hm1.get(&page).await.body.contains("signed.pdf"));
    let lookup = "/lookup?q=20.0.4.0/22";
    assert!(!member.get(lookup).await.body.contains("Renamed Holder Inc"));
    assert_eq!(stranger.get(&page).await.status, StatusCode::NOT_FOUND);
    let caption = |page: &Page| page.text("#queue caption");
    let listed = |page: &Page| page.texts("#transfers tbody tr").len();
    assert_eq!(caption(&hm1.get("/queue").await), "1 steps waiting on ARIN");
    assert_eq!(caption(&hm2.get("/queue").await), "1 steps waiting on ARIN");
    assert_eq!(listed(&member.get("/transfers").await), 1);
    assert_eq!(listed(&hm1.get("/transfers").await), 1);

    // A filing and an acceptance through the services.
    accepted("20.0.8.0/22").await;
    for hm in [&mut hm1, &mut hm2] {
        assert_eq!(caption(&hm.get("/queue").await), "2 steps waiting on ARIN");
    }
    let list = member.get("/transfers").await;
    assert_eq!(listed(&list), 2);
    assert!(list.text(".caption").starts_with("2 open transfers"));
    assert!(
        hm1.get("/transfers")
            .await
            .text(".caption")
            .starts_with("2 open transfers")
    );

    // An organisation renamed by hand.
    w.db.conn
        .execute_unprepared(&format!(
            "UPDATE organisations SET name = 'Renamed Holder Inc' WHERE id = {}",
            w.arin_org
        ))
        .await
        .unwrap();
    let queue = hm1.get("/queue").await;
    assert_eq!(
        queue.texts("#queue tbody tr").len(),
        2,
        "{}",
        queue.text("#queue")
    );
    for row in queue.texts("#queue tbody tr") {
        assert!(row.contains("Renamed Holder Inc"), "{row}");
    }
    for row in member.get("/transfers").await.texts("#transfers tbody tr") {
        assert!(row.contains("Renamed Holder Inc"), "{row}");
    }
    assert!(
        hm2.get(&page)
            .await
            .text("#summary")
            .contains("Renamed Holder Inc")
    );
    let seen = member.get(lookup).await;
    assert!(seen.body.contains("Renamed Holder Inc"));
    // The kept lists are shared; the holdings' records links are shown to staff only.
    assert!(!seen.body.contains("href=\"/holdings/"));
    assert!(hm1.get(lookup).await.body.contains("href=\"/holdings/"));
    assert!(!member.get(lookup).await.body.contains("href=\"/holdings/"));
    // And a page a hostmaster's view kept shows a member no links either.
    let wider = "/lookup?q=20.0.0.0/16";
    assert!(hm1.get(wider).await.body.contains("href=\"/holdings/"));
    let seen = member.get(wider).await;
    assert!(seen.body.contains("Renamed Holder Inc"));
    assert!(!seen.body.contains("href=\"/holdings/"));

    // Nothing written, but nine days on both steps are past ARIN's ten.
    assert!(!queue.has(".panel-danger"));
    clock.advance(time::Duration::days(9));
    let queue = hm2.get("/queue").await;
    assert!(
        queue.text(".panel-danger").contains("2 overdue"),
        "{}",
        queue.body
    );
    assert_eq!(queue.texts("#queue .tag-overdue").len(), 2);

    // Documents attached are on the page; a step approved leaves the queue.
    w.attach_documents(first).await;
    assert!(hm1.get(&page).await.body.contains("signed.pdf"));
    assert_eq!(stranger.get(&page).await.status, StatusCode::NOT_FOUND);
    w.approve(&w.arin_hostmaster, first, ipxfer::domain::Side::Source)
        .await
        .unwrap();
    let queue = hm1.get("/queue").await;
    assert_eq!(caption(&queue), "1 steps waiting on ARIN");
    assert!(!queue.text("#queue tbody").contains("20.0.4.0/22"));
    let row = member
        .get("/transfers")
        .await
        .texts("#transfers tbody tr")
        .into_iter()
        .find(|r| r.contains("20.0.4.0/22"))
        .unwrap();
    assert!(
        row.contains("RIPE NCC"),
        "waiting on the recipient's registry now: {row}"
    );
    let timeline = hm2.get(&page).await.text("#timeline");
    assert!(timeline.contains("pprove"), "{timeline}");
}

/// The holdings page's counts are kept against the ledger's head, the newest organisation and
/// the latest import, read in one statement (`db::freshness::holdings_key`): a registry
/// imported again with fewer holdings shows its new count on the next view.
#[tokio::test]
async fn the_kept_holdings_counts_follow_an_import() {
    let w = World::new().await;
    let mut visitor = Browser::new(&w.db.conn);
    let arin_row = |page: &Page| {
        page.texts("#registries tbody tr")
            .into_iter()
            .find(|r| r.starts_with("ARIN"))
            .unwrap()
    };
    let before = arin_row(&visitor.get("/holdings").await);
    let arin = "2.3|arin|1|1|19700101|20260101|-0400\n\
                arin|US|ipv4|20.0.0.0|4096|20100101|allocated|arin-holder\n";
    let later = now() + time::Duration::seconds(1);
    import::import_delegated(&w.db.conn, arin.as_bytes(), later, &NoProgress)
        .await
        .unwrap();
    let after = arin_row(&visitor.get("/holdings").await);
    assert_ne!(before, after);
    assert!(after.contains("4,096"), "{after}");
}
