//! The block lookup through the router: holders now, ledger history, malformed input, roles.

use axum::http::StatusCode;
use ipxfer::services::transfers::Command;

use crate::browser::Browser;
use crate::web_admin::{ADMIN, AUDITOR, world};

#[tokio::test]
async fn a_range_with_history_shows_its_holders_and_ledger_entries() {
    let w = world().await;
    let id = w.ready_to_finalize("20.0.4.0/22").await;
    w.act(&w.arin_hostmaster, id, Command::Finalize)
        .await
        .unwrap();
    let mut b = Browser::signed_in(&w.db.conn, "dst@example.net").await;

    let page = b.get("/lookup?q=20.0.0.0%20-%2020.0.15.255").await;
    page.assert_ok();
    assert_eq!(page.text("p.searched"), "20.0.0.0/20: 4,096 addresses");
    assert_eq!(
        page.texts("table.holdings tbody td"),
        [
            "ARIN holder arin-holder Registry id arin-holder",
            "ARIN",
            "20.0.0.0/22",
            "1,024",
            "allocated",
            "2010-01-01",
            "registry issued",
            "RIPE NCC holder ripe-holder Registry id ripe-holder",
            "RIPE NCC",
            "20.0.4.0/22",
            "1,024",
            "allocated",
            "2026-11-28",
            "transferred",
            "ARIN holder arin-holder Registry id arin-holder",
            "ARIN",
            "20.0.8.0/21",
            "2,048",
            "allocated",
            "2010-01-01",
            "registry issued",
        ]
    );
    let entry = page.texts("table.history tbody td");
    assert_eq!(
        entry[..6],
        [
            "1",
            "2026-11-28",
            "transfer",
            "ARIN holder arin-holder (ARIN)",
            "RIPE NCC holder ripe-holder (RIPE NCC)",
            "20.0.4.0/22 1,024 addresses"
        ]
    );
    assert!(entry[6].starts_with("TX-2026-"), "{entry:?}");
    assert_eq!(
        page.attr("table.history a", "href"),
        Some(format!("/transfers/{id}"))
    );

    // One address finds its holder; space nobody holds says so.
    let one = b.get("/lookup?q=20.0.5.7").await;
    assert_eq!(
        one.texts("table.holdings tbody td")[..2],
        [
            "RIPE NCC holder ripe-holder Registry id ripe-holder",
            "RIPE NCC"
        ]
    );
    let empty = b.get("/lookup?q=198.51.100.0/24").await;
    empty.assert_ok();
    assert!(empty.text("p.none").starts_with("No organisation holds"));
    assert!(!empty.has("table.history"));
}

#[tokio::test]
async fn malformed_blocks_get_a_clear_message_at_the_field() {
    let w = world().await;
    let mut b = Browser::signed_in(&w.db.conn, "hm@ripe.example").await;
    let page = b.get("/lookup?q=198.51.100.0/33").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        page.text("#q-error"),
        "198.51.100.0/33 is not a valid prefix: the prefix length must be between 0 and 32"
    );
    assert_eq!(
        page.text(".error-summary a[href='#q']"),
        page.text("#q-error")
    );
    assert_eq!(page.attr("#q", "value").as_deref(), Some("198.51.100.0/33"));
    assert!(!page.has("table.holdings"));
    let host_bits = b.get("/lookup?q=198.51.100.7/24").await;
    assert_eq!(
        host_bits.text("#q-error"),
        "198.51.100.7/24 has host bits set: did you mean 198.51.100.0/24?"
    );
    let long = format!("/lookup?q={}", "1".repeat(101));
    let too_long = b.get(&long).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_long.text("#q-error").contains("at most 100 characters"));
    let blank = b.get("/lookup").await;
    blank.assert_ok();
    assert!(!blank.has(".error-summary"));
}

#[tokio::test]
async fn every_signed_in_role_may_look_up_and_anonymous_visitors_sign_in_first() {
    let w = world().await;
    for email in ["src@example.net", "hm1@arin.example", AUDITOR, ADMIN] {
        let mut b = Browser::signed_in(&w.db.conn, email).await;
        let page = b.get("/lookup?q=193.0.0.0/22").await;
        page.assert_ok();
        assert_eq!(page.texts("table.holdings tbody tr").len(), 1, "{email}");
    }
    let page = Browser::new(&w.db.conn).get("/lookup?q=193.0.0.0/22").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location.as_deref(),
        Some("/login?next=/lookup%3Fq%3D193.0.0.0/22")
    );
}
