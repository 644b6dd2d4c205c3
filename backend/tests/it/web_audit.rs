//! The auditors' pages through the router, for each role: auditors browse, verify, export and
//! see prices; hostmasters browse and see statistics without prices; members are refused and
//! anonymous visitors are sent to sign in.

use axum::http::StatusCode;
use ipxfer::db::users::{self, NewUser};
use ipxfer::domain::export::bundle;
use ipxfer::domain::export::csv_rows;
use ipxfer::domain::transfer_log;
use ipxfer::services::transfers::Command;

use crate::browser::{Browser, password_hash};
use crate::harness::now;
use crate::transfers::World;

const AUDITOR: &str = "audit@nro.example";

/// The World with one completed transfer (20.0.4.0/22) and an auditor.
async fn world() -> World {
    let w = World::new().await;
    let id = w.ready_to_finalize("20.0.4.0/22").await;
    w.act(&w.arin_hostmaster, id, Command::Finalize)
        .await
        .unwrap();
    users::insert(
        &w.db.conn,
        NewUser {
            email: AUDITOR,
            display_name: "Ada Auditor",
            role: "auditor",
            organisation_id: None,
            registry: None,
            password_hash: Some(password_hash()),
        },
        now(),
    )
    .await
    .unwrap();
    w
}

const PAGES: [&str; 6] = [
    "/ledger",
    "/ledger/1",
    "/ledger/verify",
    "/ledger/exports",
    "/ledger/export?format=csv",
    "/stats",
];

#[tokio::test]
async fn an_auditor_finds_a_transfer_by_address_verifies_and_exports() {
    let w = world().await;
    let mut b = Browser::signed_in(&w.db.conn, AUDITOR).await;
    let home = b.get("/").await;
    assert_eq!(home.location.as_deref(), Some("/ledger"));

    // One address inside the transferred /22 finds its entry.
    let page = b.get("/ledger?address=20.0.5.17").await;
    page.assert_ok();
    let rows = page.texts("#entries tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains("20.0.4.0/22, 1,024 addresses"), "{rows:?}");
    assert!(rows[0].contains("ARIN") && rows[0].contains("RIPE NCC"));
    let link = page.attr("#entries tbody a", "href").unwrap();
    assert_eq!(link, "/ledger/1");
    assert!(
        b.get("/ledger?address=193.0.0.1")
            .await
            .texts("#entries tbody tr")
            .is_empty()
    );

    // The entry page shows its hashes and the transfer it came from.
    let entry = b.get(&link).await;
    entry.assert_ok();
    let hash = entry.text("#hash");
    assert_eq!(hash.len(), 64);
    assert!(entry.body.contains(ipxfer::domain::ledger::GENESIS_HASH));
    let transfer = entry.attr("a[href^=\"/transfers/\"]", "href").unwrap();
    assert!(transfer.starts_with("/transfers/"), "{transfer}");

    let verify = b.get("/ledger/verify").await;
    verify.assert_ok();
    assert_eq!(
        verify.text("#result strong"),
        format!("verified: 1 entries, head hash {hash}")
    );

    // Every export downloads and reads back.
    b.get("/ledger/exports").await.assert_ok();
    for format in ["nro-4.0", "nro-5.0"] {
        let log = b.get(&format!("/ledger/export?format={format}")).await;
        log.assert_ok();
        let parsed = transfer_log::parse_str(&log.body).unwrap();
        assert_eq!(parsed.transfers.len(), 1, "{format}");
    }
    let csv = b.get("/ledger/export?format=csv&registry=RIPE+NCC").await;
    csv.assert_ok();
    assert_eq!(csv_rows::read(csv.body.as_bytes()).count(), 1);
    let bundle_page = b.get("/ledger/export?format=bundle").await;
    let check = bundle::verify_lines(bundle_page.body.lines()).unwrap();
    assert_eq!(
        check.summary(),
        format!("verified: 1 entries, head hash {hash}")
    );
    let delegated = b
        .get("/ledger/export?format=delegated&registry=ripencc")
        .await;
    delegated.assert_ok();
    assert!(
        delegated.body.starts_with("2|ripencc|"),
        "{}",
        delegated.body
    );
    let refused = b.get("/ledger/export?format=delegated").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let refused = b.get("/ledger/export?format=xml").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The statistics: charts with their numbers, prices for the auditor.
    let stats = b.get("/stats").await;
    stats.assert_ok();
    assert_eq!(
        stats.texts("svg.chart title[id$=-title]").len(),
        4,
        "flows, monthly, durations, prices"
    );
    assert!(stats.body.contains("Price per address"));
    assert!(
        stats.body.contains("USD 24.41 (1 transfers)"),
        "25,000 USD / 1,024 addresses"
    );
}

#[tokio::test]
async fn the_filters_in_use_are_shown_above_the_entries_each_with_a_clear_link() {
    let w = world().await;
    let mut b = Browser::signed_in(&w.db.conn, AUDITOR).await;

    // Unfiltered: the address search on one line, the other filters folded away, no chips.
    let page = b.get("/ledger").await;
    page.assert_ok();
    assert!(page.has(".search-line input#address"));
    assert!(page.has("details#more-filters:not([open]) select#registry"));
    assert!(!page.has("#filters-in-use"));

    let page = b
        .get("/ledger?address=20.0.5.17&registry=RIPE+NCC&kind=transfer")
        .await;
    page.assert_ok();
    assert_eq!(
        page.texts("#filters-in-use li.chip > span"),
        [
            "Address or range: 20.0.5.17",
            "Registry: RIPE NCC",
            "Entry kind: transfers finalized in ipxfer",
        ]
    );
    let clears: Vec<String> = page
        .html()
        .select(&scraper::Selector::parse("#filters-in-use li.chip a").unwrap())
        .map(|a| a.value().attr("href").unwrap().to_owned())
        .collect();
    assert_eq!(
        clears,
        [
            "/ledger?registry=RIPE+NCC&kind=transfer",
            "/ledger?kind=transfer&address=20.0.5.17",
            "/ledger?registry=RIPE+NCC&address=20.0.5.17",
        ]
    );
    assert_eq!(
        page.text("#more-filters summary"),
        "More filters (2 in use)"
    );
    assert_eq!(page.attr("#filters-in-use p a", "href").unwrap(), "/ledger");
    // The chips come before the results, and the results match.
    let at = |needle: &str| page.body.find(needle).unwrap();
    assert!(at("id=\"filters-in-use\"") < at("id=\"entries\""));
    assert_eq!(page.texts("#entries tbody tr").len(), 1);

    // Clearing one filter keeps the others.
    let page = b.get(&clears[0]).await;
    page.assert_ok();
    assert_eq!(
        page.texts("#filters-in-use li.chip > span"),
        [
            "Registry: RIPE NCC",
            "Entry kind: transfers finalized in ipxfer"
        ]
    );
    assert_eq!(page.attr("#address", "value").unwrap(), "");

    // A wrong filter inside the disclosure opens it.
    let page = b.get("/ledger?registry=XYZ").await;
    assert!(page.has("details#more-filters[open]"));
}

#[tokio::test]
async fn bad_filters_are_reported_next_to_their_fields() {
    let w = world().await;
    let mut b = Browser::signed_in(&w.db.conn, AUDITOR).await;
    let page = b
        .get("/ledger?address=20.0.4.0%2F33&from=tomorrow&registry=XYZ&org=nobody")
        .await;
    page.assert_ok();
    let summary = page.text(".error-summary");
    for says in [
        "unknown registry",
        "YYYY-MM-DD",
        "no organisation",
        "20.0.4.0/33",
    ] {
        assert!(summary.contains(says), "{says}: {summary}");
    }
    assert!(page.texts("#entries tbody tr").is_empty());
}

#[tokio::test]
async fn members_are_refused_and_anonymous_visitors_sent_to_sign_in() {
    let w = world().await;
    let mut anonymous = Browser::new(&w.db.conn);
    let mut member = Browser::signed_in(&w.db.conn, "src@example.net").await;
    for page in PAGES {
        let res = anonymous.get(page).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{page}");
        assert!(
            res.location.as_deref().unwrap().starts_with("/login?next="),
            "{page}"
        );
        let res = member.get(page).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{page}");
    }
}

#[tokio::test]
async fn hostmasters_browse_and_see_statistics_without_prices() {
    let w = world().await;
    let mut hm = Browser::signed_in(&w.db.conn, "hm@ripe.example").await;
    hm.get("/ledger").await.assert_ok();
    hm.get("/ledger/1").await.assert_ok();
    let stats = hm.get("/stats").await;
    stats.assert_ok();
    assert!(!stats.body.contains("Price per address") && !stats.body.contains("USD"));
    assert_eq!(hm.get("/ledger/verify").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        hm.get("/ledger/export?format=csv").await.status,
        StatusCode::FORBIDDEN
    );
}
