//! The block lookup through the router: holders now, ledger history, malformed input, roles.

use axum::http::StatusCode;
use ipxfer::services::demo::DEMO_PASSWORD;
use ipxfer::services::scale::Scale;
use ipxfer::services::transfers::Command;

use crate::browser::Browser;
use crate::harness::TestDb;
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

#[tokio::test]
async fn a_wide_range_pages_its_holdings_and_its_history_fifty_at_a_time() {
    let db = TestDb::with_scale(Scale {
        holdings: 300,
        ledger: 70,
        finalized: 0,
        open: 0,
        members: 5,
        seed: 3,
    })
    .await;
    let mut b = Browser::new(&db.conn);
    b.sign_in_with("auditor@scale.example", DEMO_PASSWORD).await;
    let q = "0.0.0.0%20-%20255.255.255.255";

    let first = b.get(&format!("/lookup?q={q}")).await;
    first.assert_ok();
    let ranges =
        |page: &crate::browser::Page| page.texts("table.holdings tbody td[data-label=Range]");
    let page_one = ranges(&first);
    assert_eq!(page_one.len(), 50);
    assert!(
        first
            .text("table.holdings caption")
            .ends_with("(the first 50)")
    );
    assert_eq!(first.texts("table.history tbody tr").len(), 50);
    assert!(
        first
            .text("table.history caption")
            .ends_with("(the latest 50)")
    );

    // The next holdings start after the last one shown, in address order, none repeated.
    let next = first
        .attr("nav[aria-label='More holdings'] a[rel=next]", "href")
        .unwrap();
    let second = b.get(&next).await;
    second.assert_ok();
    let page_two = ranges(&second);
    assert_eq!(page_two.len(), 50);
    let start = |cidr: &str| {
        cidr.split('/')
            .next()
            .unwrap()
            .parse::<std::net::Ipv4Addr>()
            .unwrap()
    };
    assert!(
        start(&page_two[0]) > start(page_one.last().unwrap()),
        "{page_one:?} {page_two:?}"
    );
    assert!(
        second
            .text("table.holdings caption")
            .contains("starting after")
    );
    assert!(second.has(
        "nav[aria-label='More holdings'] a[href='/lookup?q=0.0.0.0%20-%20255.255.255.255#holders']"
    ));

    // The older entries: the 20 left, oldest last, and no link past them.
    let older = first
        .attr("nav[aria-label='More ledger entries'] a[rel=next]", "href")
        .unwrap();
    let last_shown: i64 = first.texts("table.history tbody td[data-label=Entry]")[49]
        .parse()
        .unwrap();
    assert!(
        older.ends_with(&format!("entries_before={last_shown}#history")),
        "{older}"
    );
    let rest = b.get(&older).await;
    let seqs: Vec<i64> = rest
        .texts("table.history tbody td[data-label=Entry]")
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(seqs.len(), 20, "{seqs:?}");
    assert!(seqs.iter().all(|s| *s < last_shown));
    assert!(!rest.has("nav[aria-label='More ledger entries'] a[rel=next]"));
    // Paging one list keeps the other where it is: the older entries' page links its next
    // holdings with the entries' place kept, and back to the latest entries.
    let next_holdings = rest
        .attr("nav[aria-label='More holdings'] a[rel=next]", "href")
        .unwrap();
    assert!(
        next_holdings.contains(&format!("entries_before={last_shown}")),
        "{next_holdings}"
    );
    assert!(rest.has(&format!(
        "nav[aria-label='More ledger entries'] a[href='/lookup?q={q}#history']"
    )));

    // Past the last holding (a link edited, or holdings moved meanwhile) the page says so and
    // links back, instead of claiming nobody holds the range.
    let past = b
        .get(&format!("/lookup?q={q}&holdings_after=255.255.255.255"))
        .await;
    past.assert_ok();
    assert!(
        past.text("p.none").starts_with("No more holdings overlap"),
        "{}",
        past.text("p.none")
    );
    assert!(past.has(&format!("p.none a[href='/lookup?q={q}#holders']")));

    // A damaged link says so and shows nothing.
    for damaged in ["holdings_after=10.0.0", "entries_before=seven"] {
        let page = b.get(&format!("/lookup?q={q}&{damaged}")).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{damaged}");
        assert!(
            page.text("#q-error").contains("link is damaged"),
            "{damaged}"
        );
        assert!(!page.has("table.holdings"));
    }
}

/// The lookup's one-statement read (both scans of the address index joined to the holders)
/// agrees with the holdings filtered by hand, for ranges that start inside, before and between
/// holdings, with and without a cursor, and at page limits of one and more.
#[tokio::test]
async fn the_lookup_reads_exactly_the_holdings_that_overlap_with_their_holders() {
    use ipxfer::db::entities::{holding, organisation};
    use ipxfer::domain::Ipv4Range;
    use ipxfer::services::lookup;
    use sea_orm::EntityTrait;

    let db = TestDb::with_scale(Scale {
        holdings: 300,
        ledger: 0,
        finalized: 0,
        open: 0,
        members: 5,
        seed: 11,
    })
    .await;
    let mut all = holding::Entity::find().all(&db.conn).await.unwrap();
    all.sort_by_key(|h| h.start_addr);
    let orgs = organisation::Entity::find().all(&db.conn).await.unwrap();
    assert!(all.len() >= 300, "{}", all.len());

    // Probe around every tenth holding: its start, one past it, its middle, its end and the
    // gap after it, so both the holding that reaches in from below and those inside are met.
    let mut probes = Vec::new();
    for h in all.iter().step_by(10) {
        let (s, e) = (h.start_addr as u32, h.end_addr as u32);
        for lo in [
            s,
            s.saturating_add(1).min(e),
            s + (e - s) / 2,
            e,
            e.saturating_add(1),
        ] {
            for len in [0u32, 255, 65_535, 1 << 24] {
                probes.push((lo, lo.saturating_add(len)));
            }
        }
    }
    for (lo, hi) in probes {
        let range = Ipv4Range::new(lo, hi).unwrap();
        let expected: Vec<&holding::Model> = all
            .iter()
            .filter(|h| h.start_addr <= i64::from(hi) && h.end_addr >= i64::from(lo))
            .collect();
        for limit in [1u64, 3, 51] {
            for after in [None, expected.first().map(|h| h.start_addr as u32)] {
                let want: Vec<i64> = expected
                    .iter()
                    .filter(|h| after.is_none_or(|a| h.start_addr > i64::from(a)))
                    .take(limit as usize)
                    .map(|h| h.id)
                    .collect();
                let got = lookup::holdings(&db.conn, range, after, limit)
                    .await
                    .unwrap();
                let ids: Vec<i64> = got.iter().map(|g| g.holding.id).collect();
                assert_eq!(ids, want, "{lo}-{hi} after {after:?} limit {limit}");
                for g in &got {
                    let holder = orgs.iter().find(|o| o.id == g.holding.organisation_id);
                    assert_eq!(Some(&g.holder), holder, "holding {}", g.holding.id);
                    let stored = all.iter().find(|h| h.id == g.holding.id);
                    assert_eq!(Some(&g.holding), stored);
                }
            }
        }
    }
}

/// The lookup's history (the interval index's newest matches, or the newest entries first for
/// a wide range) agrees with the ledger filtered by hand, with and without a cursor.
#[tokio::test]
async fn the_history_is_the_newest_entries_that_touch_the_range() {
    use ipxfer::db::entities::ledger_entry;
    use ipxfer::domain::Ipv4Range;
    use ipxfer::services::lookup;
    use sea_orm::EntityTrait;

    let db = TestDb::with_scale(Scale {
        holdings: 300,
        ledger: 400,
        finalized: 0,
        open: 0,
        members: 5,
        seed: 5,
    })
    .await;
    let mut all = ledger_entry::Entity::find().all(&db.conn).await.unwrap();
    all.sort_by_key(|e| std::cmp::Reverse(e.seq));
    assert!(all.len() >= 400, "{}", all.len());

    let mut ranges: Vec<(u32, u32)> = vec![(0, u32::MAX), (0, (1 << 28) - 1)];
    for e in all.iter().step_by(37) {
        let (s, t) = (e.start_addr as u32, e.end_addr as u32);
        for (lo, len) in [
            (s, 0u32),
            (t, 0),
            (s & !0xffff, 0xffff),
            (s & !0xff_ffff, 0xff_ffff),
        ] {
            ranges.push((lo, lo.saturating_add(len)));
        }
    }
    for (lo, hi) in ranges {
        let range = Ipv4Range::new(lo, hi).unwrap();
        let touching: Vec<i64> = all
            .iter()
            .filter(|e| e.start_addr <= i64::from(hi) && e.end_addr >= i64::from(lo))
            .map(|e| e.seq)
            .collect();
        let middle = touching.get(touching.len() / 2).copied();
        for before in [None, middle, Some(all[all.len() / 3].seq)] {
            for limit in [1u64, 7, 51] {
                let want: Vec<i64> = touching
                    .iter()
                    .copied()
                    .filter(|s| before.is_none_or(|b| *s < b))
                    .take(limit as usize)
                    .collect();
                let got: Vec<i64> = lookup::history(&db.conn, range, before, limit)
                    .await
                    .unwrap()
                    .iter()
                    .map(|e| e.seq)
                    .collect();
                assert_eq!(got, want, "{lo}-{hi} before {before:?} limit {limit}");
            }
        }
    }
}

/// The lookup page's read of both lists at once (`db::lookup`: one statement on SQLite unless
/// the history looks among the newest entries first) returns what the two reads above return
/// alone, for ranges around holdings and entries, with either cursor and at limits of one and
/// more, and takes one statement on SQLite for a range narrower than a /5.
#[tokio::test]
async fn the_lookup_reads_both_lists_at_once_as_it_reads_each_alone() {
    use ipxfer::db::entities::ledger_entry;
    use ipxfer::domain::Ipv4Range;
    use ipxfer::services::lookup;
    use sea_orm::EntityTrait;

    let db = TestDb::with_scale(Scale {
        holdings: 300,
        ledger: 400,
        finalized: 0,
        open: 0,
        members: 5,
        seed: 7,
    })
    .await;
    let mut all = ledger_entry::Entity::find().all(&db.conn).await.unwrap();
    all.sort_by_key(|e| e.seq);
    let mut ranges: Vec<(u32, u32)> = vec![(0, u32::MAX), (0, (1 << 26) - 1), (1, 1)];
    for e in all.iter().step_by(41) {
        let s = e.start_addr as u32;
        for (lo, len) in [
            (s, 0u32),
            (s & !0xffff, 0xffff),
            (s & !0xff_ffff, 0xff_ffff),
        ] {
            ranges.push((lo, lo.saturating_add(len)));
        }
    }
    let (recording, seen) = crate::harness::recording_connection(&db).await;
    let mut shown = 0;
    for (lo, hi) in ranges {
        let range = Ipv4Range::new(lo, hi).unwrap();
        for limit in [1u64, 51] {
            let first = lookup::holdings(&db.conn, range, None, limit)
                .await
                .unwrap();
            let after = first.first().map(|h| h.holding.start_addr as u32);
            let newest = lookup::history(&db.conn, range, None, limit).await.unwrap();
            let before = newest.last().map(|e| e.seq);
            for cursors in [(None, None), (after, before)] {
                seen.lock().unwrap().clear();
                let (held, entries) =
                    lookup::holdings_and_history(&recording, range, cursors, limit)
                        .await
                        .unwrap();
                let statements = seen.lock().unwrap().len();
                let alone = lookup::holdings(&db.conn, range, cursors.0, limit)
                    .await
                    .unwrap();
                let pair = |h: &lookup::Held| (h.holding.clone(), h.holder.clone());
                assert_eq!(
                    held.iter().map(pair).collect::<Vec<_>>(),
                    alone.iter().map(pair).collect::<Vec<_>>(),
                    "{lo}-{hi} {cursors:?} limit {limit}"
                );
                let history = lookup::history(&db.conn, range, cursors.1, limit)
                    .await
                    .unwrap();
                assert_eq!(entries, history, "{lo}-{hi} {cursors:?} limit {limit}");
                shown += held.len() + entries.len();
                if !db.is_postgres() && range.size() < 1 << 27 {
                    assert_eq!(statements, 1, "{lo}-{hi}");
                }
            }
        }
    }
    assert!(shown > 1_000, "the ranges show little: {shown}");
}
