//! The weaknesses of issue 12, each proven closed through the router or the services: filings
//! are all or nothing, sign-in redirects stay on the site, error lists are bounded, CSV cells
//! cannot become formulas, sessions end with a reset or a deactivation, sign-ins are throttled
//! per account and address, and responses are not cached, not plain text and not revealing.
//! `docs/security.md` names each test next to the control it proves.

use axum::http::StatusCode;
use ipxfer::db::entities::{email_outbox, session, transfer};
use ipxfer::domain::authz::AccountRole;
use ipxfer::domain::export::LedgerFilter;
use ipxfer::domain::export::csv_rows;
use ipxfer::domain::export::spreadsheet::OWASP_PAYLOADS;
use ipxfer::services::accounts;
use ipxfer::services::export::{self, WriteSink};
use ipxfer::services::import;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::browser::{Browser, PASSWORD};
use crate::harness::now;
use crate::transfers::World;
use ipxfer::domain::transfer::{OrgId, UserId};

const PDF: &[u8] = b"%PDF-1.7 a signed transfer agreement";

/// The value of the filing form's recipient option for the RIPE NCC holder.
async fn ripe_recipient(b: &mut Browser) -> String {
    let form = b.get("/transfers/new").await;
    let sel = scraper::Selector::parse("#recipient option").unwrap();
    let html = form.html();
    let option = html
        .select(&sel)
        .find(|o| o.text().collect::<String>().starts_with("RIPE NCC holder"))
        .expect("the RIPE NCC holder is a recipient");
    option.value().attr("value").unwrap().to_owned()
}

async fn file_with_agreement(b: &mut Browser, block: &str, filename: &str) -> crate::browser::Page {
    let recipient = ripe_recipient(b).await;
    b.post_multipart(
        "/transfers/new",
        &[
            ("recipient", &recipient),
            ("kind", "RESOURCE_TRANSFER"),
            ("blocks", block),
        ],
        &[("agreement", filename, "application/pdf", PDF)],
    )
    .await
}

async fn count_transfers(w: &World) -> u64 {
    transfer::Entity::find().count(&w.db.conn).await.unwrap()
}

async fn count_mail(w: &World) -> u64 {
    email_outbox::Entity::find()
        .count(&w.db.conn)
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// 1. A filing and its documents are one transaction.

#[tokio::test]
async fn a_filing_whose_document_name_is_refused_stores_nothing_and_can_be_retried() {
    let w = World::new().await;
    let mut src = Browser::signed_in(&w.db.conn, "src@example.net").await;
    let long = format!("{}.pdf", "a".repeat(300));
    for (name, problem) in [
        (long.as_str(), "at most 255 characters"),
        ("invoice\u{202E}fdp.exe", "U+202E"),
        ("report\u{200F}.pdf", "U+200F"),
    ] {
        let res = file_with_agreement(&mut src, "20.0.4.0/22", name).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            res.body
        );
        let summary = res.text(".error-summary");
        assert!(summary.contains(problem), "{name}: {summary}");
        assert_eq!(count_transfers(&w).await, 0, "{name}: nothing is filed");
        assert_eq!(count_mail(&w).await, 0, "{name}: nobody is told");
    }
    // The retry with a good name is not "already in another transfer".
    let res = file_with_agreement(&mut src, "20.0.4.0/22", "agreement.pdf").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(count_transfers(&w).await, 1);
}

#[tokio::test]
async fn file_names_are_checked_whole_with_the_real_problem_named() {
    use ipxfer::services::documents::check_file_name;
    assert!(check_file_name("agreement.pdf").is_ok());
    assert!(check_file_name("Überweisung 2026 – signed.pdf").is_ok());
    for (name, problem) in [
        ("", "has no name"),
        ("   ", "has no name"),
        ("a\u{7}b.pdf", "control character (U+0007)"),
        ("a\nb.pdf", "control character (U+000A)"),
        ("a\u{202E}fdp.exe", "U+202E"),
        ("a\u{2066}b.pdf", "U+2066"),
        ("a\u{061C}b.pdf", "U+061C"),
    ] {
        let e = check_file_name(name).unwrap_err();
        assert!(e.contains(problem), "{name:?}: {e}");
    }
    assert!(check_file_name(&"é".repeat(255)).is_ok());
    let e = check_file_name(&"é".repeat(256)).unwrap_err();
    assert!(e.contains("at most 255 characters"), "{e}");
}

#[tokio::test]
async fn the_filing_service_attaches_documents_in_its_own_transaction() {
    use ipxfer::config::Settings;
    use ipxfer::domain::TransferType;
    use ipxfer::domain::transfer::DocumentKind;
    use ipxfer::services::documents::NewDocument;
    use ipxfer::services::transfers::{self, Filing};
    let w = World::new().await;
    let filing = || Filing {
        source_org_id: w.arin_org,
        recipient_org_id: w.ripe_org,
        kind: TransferType::ResourceTransfer,
        blocks: vec!["20.0.4.0/22".parse().unwrap()],
        agreed_price: None,
    };
    let doc = |name: &str, bytes: &'static [u8]| NewDocument {
        kind: DocumentKind::TransferAgreement,
        filename: name.to_owned(),
        bytes: bytes.to_vec(),
    };
    let settings = Settings::default();
    let refused = transfers::file_with_documents(
        &w.db.conn,
        &settings,
        &w.source_member,
        filing(),
        vec![doc("agreement.pdf", PDF), doc("notes.txt", b"plain text")],
        now(),
    )
    .await
    .unwrap_err();
    assert!(refused.to_string().contains("notes.txt"), "{refused}");
    assert_eq!(count_transfers(&w).await, 0);
    assert_eq!(count_mail(&w).await, 0);
    let id = transfers::file_with_documents(
        &w.db.conn,
        &settings,
        &w.source_member,
        filing(),
        vec![doc("agreement.pdf", PDF)],
        now(),
    )
    .await
    .unwrap();
    let docs = ipxfer::db::entities::document::Entity::find()
        .filter(ipxfer::db::entities::document::Column::TransferId.eq(id))
        .count(&w.db.conn)
        .await
        .unwrap();
    assert_eq!(docs, 1);
}

// ---------------------------------------------------------------------------------------------
// 2. After sign-in, `next` stays on this site.

#[tokio::test]
async fn sign_in_follows_next_only_to_paths_on_this_site() {
    let w = World::new().await;
    for (next, expected) in [
        ("/transfers/new", "/transfers/new"),
        ("/transfers?show=all", "/transfers?show=all"),
        ("http://127.0.0.1:8080/queue", "/queue"),
        ("/\t/evil.example", "/"),
        ("/%09/evil.example", "/%09/evil.example"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("http://127.0.0.1:9999/", "/"),
        ("javascript:alert(1)", "/"),
        ("/.//evil.example", "/"),
        ("/transfers\r\nSet-Cookie: x=y", "/"),
        ("/transfers\n", "/"),
        ("/transfers\u{0}", "/"),
    ] {
        let mut b = Browser::new(&w.db.conn);
        let res = b
            .post(
                "/login",
                &[
                    ("email", "src@example.net"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{next:?}: {}", res.body);
        assert_eq!(res.location.as_deref(), Some(expected), "{next:?}");
        // The sign-in is kept whatever `next` said.
        assert_eq!(
            b.get("/").await.location.as_deref(),
            Some("/transfers"),
            "{next:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 3. The block list's errors are bounded.

#[tokio::test]
async fn a_flood_of_overlapping_blocks_answers_a_short_page() {
    let w = World::new().await;
    let mut src = Browser::signed_in(&w.db.conn, "src@example.net").await;
    let recipient = ripe_recipient(&mut src).await;
    let post = |blocks: String| {
        let recipient = recipient.clone();
        async move { (recipient, blocks) }
    };
    // 1,800 copies of one block (19.8 kB, under the form's cap): over the block cap, refused
    // before any pairwise check.
    let (recipient, flood) = post("1.0.0.0/24\n".repeat(1800)).await;
    let res = src
        .post_multipart(
            "/transfers/new",
            &[
                ("recipient", &recipient),
                ("kind", "RESOURCE_TRANSFER"),
                ("blocks", &flood),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.len() < 200_000, "{} bytes", res.body.len());
    assert!(
        res.text(".error-summary").contains("at most 64 blocks"),
        "{}",
        res.text(".error-summary")
    );
    // 40 copies: under the cap, 780 overlapping pairs, of which 20 are listed.
    let res = src
        .post_multipart(
            "/transfers/new",
            &[
                ("recipient", &recipient),
                ("kind", "RESOURCE_TRANSFER"),
                ("blocks", &"20.0.4.0/24\n".repeat(40)),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let summary = res.text(".error-summary");
    assert_eq!(summary.matches("overlaps").count(), 20, "{summary}");
    assert!(summary.contains("and 760 more"), "{summary}");
    // Lines that are not blocks at all: 60 of them, 20 listed.
    let res = src
        .post_multipart(
            "/transfers/new",
            &[
                ("recipient", &recipient),
                ("kind", "RESOURCE_TRANSFER"),
                ("blocks", &"x\n".repeat(60)),
            ],
            &[],
        )
        .await;
    let summary = res.text(".error-summary");
    assert_eq!(summary.matches("is not an IPv4 address").count(), 20);
    assert!(summary.contains("and 40 more"), "{summary}");
}

// ---------------------------------------------------------------------------------------------
// 4. CSV cells never start a formula.

#[tokio::test]
async fn organisation_names_from_an_imported_log_reach_the_csv_as_text() {
    let w = World::new().await;
    // OWASP's payloads, and a full-width equals sign.
    let names: Vec<&str> = OWASP_PAYLOADS
        .iter()
        .copied()
        .chain(["\u{FF1D}1+2"])
        .collect();
    let transfers: Vec<serde_json::Value> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let start = format!("198.18.{i}.0");
            let end = format!("198.18.{i}.255");
            serde_json::json!({
                "type": "RESOURCE_TRANSFER",
                "ip4nets": {
                    "original_set": [{"start_address": start, "end_address": end}],
                    "transfer_set": [{"start_address": start, "end_address": end}]
                },
                "source_organization": {"name": name, "country_code": "US"},
                "recipient_organization": {"name": format!("Recipient {name}"), "country_code": "US"},
                "source_rir": "ARIN",
                "recipient_rir": "ARIN",
                "transfer_date": "2020-01-01T00:00:00Z"
            })
        })
        .collect();
    let log = serde_json::json!({
        "version": {"producer": "ARIN", "stats_version": "4.0", "UTC_offset": 0,
                    "production_date": "2026-01-01T00:00:00Z"},
        "transfers": transfers
    });
    import::import_transfer_log(&w.db.conn, log.to_string().as_bytes(), now())
        .await
        .unwrap();
    let mut sink = WriteSink(Vec::new());
    export::csv(&w.db.conn, &mut sink, &LedgerFilter::default())
        .await
        .unwrap();
    let text = String::from_utf8(sink.0.clone()).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(sink.0.as_slice());
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            assert!(
                !ipxfer::domain::export::starts_formula(cell),
                "{cell:?} in\n{text}"
            );
        }
    }
    let written: Vec<String> = csv_rows::read(sink.0.as_slice())
        .map(|row| row.unwrap().source_org.unwrap())
        .collect();
    // (The transfer-log reader trims names, so "\t=1+2" arrives as "=1+2".)
    for name in &names {
        let name = name.trim();
        assert!(
            written.contains(&format!("'{name}")),
            "{name:?} in {written:?}"
        );
    }
    // Every cell is quoted, so a spreadsheet splitting on `;` keeps `=1+2";=1+2` one cell.
    assert!(text.contains("\"'=1+2\"\";=1+2\""), "{text}");
}

// ---------------------------------------------------------------------------------------------
// 5. A password reset and a deactivation end every session of the account.

async fn signed_in_home(b: &mut Browser) -> bool {
    b.get("/").await.location.as_deref() == Some("/transfers")
}

#[tokio::test]
async fn a_password_reset_ends_every_other_session() {
    let w = World::new().await;
    let mut laptop = Browser::signed_in(&w.db.conn, "src@example.net").await;
    let mut phone = Browser::signed_in(&w.db.conn, "src@example.net").await;
    assert!(signed_in_home(&mut laptop).await && signed_in_home(&mut phone).await);
    // The browser checks the link's expiry on the system clock.
    let real_now = time::OffsetDateTime::now_utc();
    accounts::request_password_reset(&w.db.conn, "src@example.net", "http://x", real_now)
        .await
        .unwrap();
    let mail = email_outbox::Entity::find()
        .one(&w.db.conn)
        .await
        .unwrap()
        .unwrap();
    let link = mail
        .body_text
        .split_whitespace()
        .find(|t| t.starts_with("http://x/"))
        .unwrap()
        .trim_start_matches("http://x")
        .to_owned();
    let mut fresh = Browser::new(&w.db.conn);
    fresh.get(&link).await.assert_ok();
    let done = fresh
        .post(
            &link,
            &[
                ("password", "a brand new passphrase"),
                ("confirmation", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(
        !signed_in_home(&mut laptop).await,
        "the laptop's session ended"
    );
    assert!(
        !signed_in_home(&mut phone).await,
        "the phone's session ended"
    );
    assert!(signed_in_home(&mut fresh).await, "the reset signs in anew");
}

#[tokio::test]
async fn a_deactivated_accounts_sessions_do_not_come_back_with_reactivation() {
    let w = crate::web_admin::world().await;
    let member = w.source_member.user_id.unwrap();
    let mut user = Browser::signed_in(&w.db.conn, "src@example.net").await;
    let mut admin = Browser::signed_in(&w.db.conn, crate::web_admin::ADMIN).await;
    admin.get("/admin/users").await.assert_ok();
    let res = admin
        .post(&format!("/admin/users/{member}/deactivate"), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let left = session::Entity::find()
        .filter(session::Column::UserId.eq(member.get()))
        .count(&w.db.conn)
        .await
        .unwrap();
    assert_eq!(left, 0, "the member's sessions are deleted");
    admin
        .post(&format!("/admin/users/{member}/reactivate"), &[])
        .await;
    assert!(
        !signed_in_home(&mut user).await,
        "the old cookie stays dead"
    );
    user.sign_in("src@example.net").await;
    assert!(signed_in_home(&mut user).await);
}

/// A world whose source member has signed in and viewed a page: the browser, the session store
/// and the id of the one session row.
async fn one_session() -> (
    World,
    Browser,
    ipxfer::web::session_store::SeaOrmStore,
    tower_sessions::session::Id,
) {
    let w = World::new().await;
    let mut b = Browser::signed_in(&w.db.conn, "src@example.net").await;
    b.get("/transfers").await.assert_ok();
    let store = ipxfer::web::session_store::SeaOrmStore::new(w.db.conn.clone());
    let row = session::Entity::find()
        .one(&w.db.conn)
        .await
        .unwrap()
        .unwrap();
    let id = row.id.parse().unwrap();
    (w, b, store, id)
}

#[tokio::test]
async fn a_session_ended_while_a_request_holds_it_is_not_written_back() {
    use tower_sessions::SessionStore;
    let (w, _b, store, id) = one_session().await;
    let record = store.load(&id).await.unwrap().expect("the session");
    accounts::end_sessions(&w.db.conn, w.source_member.user_id.unwrap().get())
        .await
        .unwrap();
    store.save(&record).await.unwrap();
    assert!(store.load(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn the_user_read_with_a_session_is_never_stored_and_a_deactivation_counts_at_once() {
    use ipxfer::web::session_store::{LOADED_USER_KEY, LoadedUser};
    use tower_sessions::SessionStore;
    let (w, mut b, store, id) = one_session().await;

    // Loading reads the user and their organisation with the session...
    let mut record = store.load(&id).await.unwrap().expect("the session");
    let loaded: LoadedUser = serde_json::from_value(record.data[LOADED_USER_KEY].clone()).unwrap();
    assert_eq!(loaded.user.email, "src@example.net");
    assert_eq!(
        loaded.organisation_name.as_deref(),
        Some("ARIN holder arin-holder")
    );
    // ... and saving stores neither (nor the password hash within).
    record.data.insert("note".into(), serde_json::json!("kept"));
    store.save(&record).await.unwrap();
    let stored = session::Entity::find_by_id(id.to_string())
        .one(&w.db.conn)
        .await
        .unwrap()
        .unwrap();
    let raw: tower_sessions::session::Record = rmp_serde::from_slice(&stored.data).unwrap();
    assert!(raw.data.contains_key("note"));
    assert!(
        !raw.data.contains_key(LOADED_USER_KEY),
        "{:?}",
        raw.data.keys()
    );

    // The next page reads the user afresh: marked inactive (even with the session left in
    // place), the member is signed out at once.
    use ipxfer::db::entities::user;
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
    user::Entity::update_many()
        .col_expr(user::Column::Active, Expr::value(false))
        .filter(user::Column::Email.eq("src@example.net"))
        .exec(&w.db.conn)
        .await
        .unwrap();
    let page = b.get("/transfers").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

// ---------------------------------------------------------------------------------------------
// 6. Throttling per account and per address; reset e-mails; the dummy hash.

async fn fail(b: &mut Browser, email: &str) -> StatusCode {
    b.post("/login", &[("email", email), ("password", "a wrong guess")])
        .await
        .status
}

#[tokio::test]
async fn someone_elses_failed_sign_ins_do_not_lock_the_owner_out() {
    let w = World::new().await;
    let mut attacker = Browser::new(&w.db.conn).at_address("198.51.100.66:4000");
    for _ in 0..accounts::MAX_FAILED_LOGINS {
        assert_eq!(
            fail(&mut attacker, "src@example.net").await,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    assert_eq!(
        fail(&mut attacker, "src@example.net").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let mut owner = Browser::new(&w.db.conn).at_address("203.0.113.7:5000");
    owner.sign_in("src@example.net").await;
}

#[tokio::test]
async fn spraying_one_password_across_accounts_is_slowed_per_address() {
    let w = World::new().await;
    let mut sprayer = Browser::new(&w.db.conn).at_address("198.51.100.66:4000");
    for i in 0..accounts::MAX_FAILED_PER_ADDRESS {
        assert_eq!(
            fail(&mut sprayer, &format!("user{i}@example.net")).await,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    // A new account from the same address is refused, even with the right password.
    let res = sprayer
        .post(
            "/login",
            &[("email", "dst@example.net"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    // Another address is not affected.
    let mut other = Browser::new(&w.db.conn).at_address("203.0.113.7:5000");
    other.sign_in("dst@example.net").await;
}

#[tokio::test]
async fn password_reset_emails_are_rate_limited_per_account() {
    let w = World::new().await;
    for _ in 0..10 {
        accounts::request_password_reset(&w.db.conn, "src@example.net", "http://x", now())
            .await
            .unwrap();
    }
    assert_eq!(count_mail(&w).await, accounts::MAX_RESETS_PER_WINDOW);
    // The window passes: one more.
    accounts::request_password_reset(
        &w.db.conn,
        "src@example.net",
        "http://x",
        now() + accounts::RESET_WINDOW,
    )
    .await
    .unwrap();
    assert_eq!(count_mail(&w).await, accounts::MAX_RESETS_PER_WINDOW + 1);
}

#[tokio::test]
async fn an_account_without_a_password_is_checked_against_the_dummy_hash() {
    use ipxfer::services::accounts::Invitation;
    let w = World::new().await;
    let invited = accounts::invite(
        &w.db.conn,
        &Invitation {
            email: "invited@example.net".into(),
            display_name: "Invited".into(),
            role: AccountRole::Member,
            organisation_id: Some(w.arin_org),
            registry: None,
        },
        "http://x",
        now(),
    )
    .await
    .unwrap();
    let member = ipxfer::db::entities::user::Entity::find_by_id(w.source_member.user_id.unwrap())
        .one(&w.db.conn)
        .await
        .unwrap()
        .unwrap();
    let (hash, can_succeed) = accounts::hash_to_check(Some(&invited));
    assert_eq!(hash, accounts::dummy_hash());
    assert!(!can_succeed);
    let (hash, can_succeed) = accounts::hash_to_check(None);
    assert_eq!(hash, accounts::dummy_hash());
    assert!(!can_succeed);
    let (hash, can_succeed) = accounts::hash_to_check(Some(&member));
    assert_eq!(Some(hash), member.password_hash.as_deref());
    assert!(can_succeed);
    // The dummy hash's own password opens nothing.
    let err = accounts::authenticate(
        &w.db.conn,
        "invited@example.net",
        accounts::DUMMY_PASSWORD,
        None,
        now(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains(accounts::SIGN_IN_FAILED));
}

// ---------------------------------------------------------------------------------------------
// 7. Responses.

#[tokio::test]
async fn signed_in_pages_downloads_and_exports_are_not_stored_by_caches() {
    use axum::body::Body;
    use axum::http::{Request, header};
    use tower::ServiceExt;
    let w = World::new().await;
    let id = w.file("20.0.4.0/22").await.unwrap();
    w.attach_documents(id).await;
    let mut src = Browser::signed_in(&w.db.conn, "src@example.net").await;
    let page = src.get(&format!("/transfers/{id}")).await;
    let href = page.attr("#documents a", "href").unwrap();
    let app = ipxfer::web::router(ipxfer::web::AppState::new(
        w.db.conn.clone(),
        Default::default(),
    ));
    let cookie = src.cookie_value().unwrap();
    for uri in [
        "/transfers".to_owned(),
        format!("/transfers/{id}"),
        href,
        "/ledger/export?format=csv".to_owned(),
    ] {
        let res = app
            .clone()
            .oneshot(
                Request::get(&uri)
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(
            res.headers()
                .get(header::CACHE_CONTROL)
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{uri}: {:?}",
            res.status()
        );
    }
}

#[tokio::test]
async fn malformed_addresses_answer_the_html_error_page() {
    let w = World::new().await;
    let mut src = Browser::signed_in(&w.db.conn, "src@example.net").await;
    for (uri, status, words) in [
        ("/transfers/abc", StatusCode::NOT_FOUND, "abc"),
        (
            "/transfers/99999999999999999999",
            StatusCode::NOT_FOUND,
            "99999999999999999999",
        ),
        ("/transfers/1/documents/x", StatusCode::NOT_FOUND, "x"),
        ("/transfers?before=abc", StatusCode::BAD_REQUEST, "before"),
        ("/admin/users/abc/deactivate", StatusCode::NOT_FOUND, "abc"),
    ] {
        let page = src.get(uri).await;
        assert_eq!(page.status, status, "{uri}: {}", page.body);
        assert!(
            page.body.starts_with("<!doctype html>"),
            "{uri}: {}",
            page.body
        );
        assert!(
            page.text("main").contains(words),
            "{uri}: {}",
            page.text("main")
        );
    }
    let res = src.post_raw("/transfers/abc/withdraw", &[]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(res.body.starts_with("<!doctype html>"));
}

#[tokio::test]
async fn a_cross_site_form_gets_a_page_that_explains_the_refusal() {
    let w = World::new().await;
    let mut b = Browser::signed_in(&w.db.conn, "src@example.net").await;
    let p = b.post_cross_site("/logout").await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.body.starts_with("<!doctype html>"), "{}", p.body);
    assert!(
        p.text("main").contains("another site"),
        "{}",
        p.text("main")
    );
}

#[tokio::test]
async fn the_sign_in_form_creates_no_session_until_it_is_sent() {
    let w = World::new().await;
    let sessions = || session::Entity::find().count(&w.db.conn);
    let mut b = Browser::new(&w.db.conn);
    for uri in ["/login", "/login?next=/queue", "/password-reset"] {
        b.get(uri).await.assert_ok();
    }
    assert_eq!(sessions().await.unwrap(), 0);
    assert!(b.cookie_value().is_none(), "no session cookie yet");
    assert!(b.has_cookie("ipxfer_form"), "the form's token cookie");
    // A failed attempt stores nothing either.
    let res = b
        .post(
            "/login",
            &[("email", "src@example.net"), ("password", "wrong")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(sessions().await.unwrap(), 0);
    // (A forged token is refused: web_account::forms_without_the_sessions_token_or_from_another_site_are_refused.)
    b.sign_in("src@example.net").await;
    assert_eq!(sessions().await.unwrap(), 1);
}

/// A page's text with the transfer number in it made neutral.
fn same_words(page: &crate::browser::Page, id: i64) -> String {
    page.text("main")
        .replace(&format!("transfer {id} "), "transfer N ")
}

#[tokio::test]
async fn a_transfer_that_is_not_yours_looks_like_one_that_does_not_exist() {
    let w = World::new().await;
    let id = w.file("20.0.4.0/22").await.unwrap();
    w.attach_documents(id).await;
    let missing = id + 1000;
    let email = crate::web_transfers::outsider(&w).await;
    let apnic_org =
        ipxfer::db::organisations::ids_by_handle(&w.db.conn, ipxfer::domain::Rir::Apnic)
            .await
            .unwrap()["apnic-holder"];
    let mut b = Browser::signed_in(&w.db.conn, email).await;
    let doc = ipxfer::db::entities::document::Entity::find()
        .one(&w.db.conn)
        .await
        .unwrap()
        .unwrap()
        .id;
    for (hidden, absent) in [
        (format!("/transfers/{id}"), format!("/transfers/{missing}")),
        (
            format!("/transfers/{id}/withdraw"),
            format!("/transfers/{missing}/withdraw"),
        ),
        (
            format!("/transfers/{id}/documents/{doc}"),
            format!("/transfers/{missing}/documents/{doc}"),
        ),
    ] {
        let (h, a) = (b.get(&hidden).await, b.get(&absent).await);
        assert_eq!(h.status, StatusCode::NOT_FOUND, "{hidden}");
        assert_eq!(
            (h.status, same_words(&h, id)),
            (a.status, same_words(&a, missing)),
            "{hidden} and {absent}"
        );
    }
    for (step, fields) in [
        ("withdraw", vec![]),
        ("accept", vec![]),
        ("approve", vec![("side", "source")]),
    ] {
        let h = b.post(&format!("/transfers/{id}/{step}"), &fields).await;
        let a = b
            .post(&format!("/transfers/{missing}/{step}"), &fields)
            .await;
        assert_eq!(h.status, StatusCode::NOT_FOUND, "{step}: {}", h.body);
        assert_eq!(
            (h.status, same_words(&h, id)),
            (a.status, same_words(&a, missing)),
            "{step}"
        );
    }
    // Uploading to it through the service: the same as to a transfer that does not exist.
    let e = ipxfer::services::documents::attach(
        &w.db.conn,
        &ipxfer::domain::authz::Actor::new(
            UserId(w.recipient_member.user_id.unwrap().get() + 1000),
            ipxfer::domain::authz::Role::Member {
                org_id: OrgId(apnic_org),
            },
        ),
        id,
        ipxfer::domain::transfer::DocumentKind::Other,
        "x.pdf",
        PDF,
        now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ipxfer::error::AppError::NotFound(_)), "{e}");
}
