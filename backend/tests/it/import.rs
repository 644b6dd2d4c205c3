//! Importing the registries' real published files.

use ipxfer::db::holdings;
use ipxfer::services::import::{self, NoProgress, Outcome};
use ipxfer::services::{ledger, stats};

use crate::harness::{TestDb, fixture_bytes, now};

/// What a delegated file's own IPv4 records add up to, counted by plain string splitting
/// (independently of the parser): (holdings, addresses held, inventory addresses).
fn own_totals(text: &str) -> (u64, u64, u64) {
    let (mut held, mut addresses, mut inventory) = (0, 0, 0);
    for line in text.lines() {
        let f: Vec<&str> = line.split('|').collect();
        if line.starts_with('#') || f.len() < 7 || f[1] == "*" || f[2] != "ipv4" {
            continue;
        }
        let count: u64 = f[4].parse().unwrap();
        match f[6] {
            "allocated" | "assigned" => {
                held += 1;
                addresses += count;
            }
            _ => inventory += count,
        }
    }
    (held, addresses, inventory)
}

async fn assert_no_overlapping_holdings(db: &TestDb) {
    let mut ranges = holdings::all_ranges(&db.conn).await.unwrap();
    ranges.sort();
    for w in ranges.windows(2) {
        assert!(
            w[0].1 < w[1].0,
            "holdings overlap: {:?} and {:?}",
            w[0],
            w[1]
        );
    }
}

async fn import_full_file(name: &str, nro_name: &str, expected_held: u64, expected_addresses: u64) {
    let db = TestDb::new().await;
    let bytes = fixture_bytes(name);
    let (held, addresses, inventory) = own_totals(std::str::from_utf8(&bytes).unwrap());
    assert_eq!((held, addresses), (expected_held, expected_addresses));

    let report = import::import_delegated(&db.conn, &bytes, now(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Imported);
    assert_eq!(report.holdings, held);
    assert_eq!(report.holding_addresses, addresses);
    assert_eq!(report.inventory_addresses, inventory);

    let s = stats::stats(&db.conn).await.unwrap();
    let r = &s.registries[nro_name];
    assert_eq!(
        (r.holdings, r.ipv4_addresses, r.inventory_addresses),
        (held, addresses, inventory)
    );
    assert_eq!(r.organisations, report.organisations);
    assert_no_overlapping_holdings(&db).await;

    // The same file again changes nothing.
    let again = import::import_delegated(&db.conn, &bytes, now(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::Unchanged);
    assert_eq!(stats::stats(&db.conn).await.unwrap(), s);

    let v = ledger::verify(&db.conn).await.unwrap();
    assert!(v.is_intact(), "{}", v.summary());
}

#[tokio::test]
async fn afrinic_2026_file_imports_with_its_own_counts() {
    import_full_file(
        "delegated-afrinic-extended-20260505",
        "AFRINIC",
        5397,
        116_046_848,
    )
    .await;
}

#[tokio::test]
async fn lacnic_2023_file_imports_with_its_own_counts() {
    import_full_file(
        "delegated-lacnic-extended-20230323",
        "LACNIC",
        19_089,
        189_935_872,
    )
    .await;
}

#[tokio::test]
async fn every_registry_excerpt_imports_side_by_side() {
    let db = TestDb::new().await;
    for (token, name) in [
        ("afrinic", "AFRINIC"),
        ("apnic", "APNIC"),
        ("arin", "ARIN"),
        ("lacnic", "LACNIC"),
        ("ripencc", "RIPE NCC"),
    ] {
        let bytes = fixture_bytes(&format!(
            "excerpts-2019/delegated-{token}-extended-2019-excerpt"
        ));
        let (held, addresses, _) = own_totals(std::str::from_utf8(&bytes).unwrap());
        let report = import::import_delegated(&db.conn, &bytes, now(), &NoProgress)
            .await
            .unwrap();
        assert_eq!(
            (report.holdings, report.holding_addresses),
            (held, addresses),
            "{token}"
        );
        let s = stats::stats(&db.conn).await.unwrap();
        assert_eq!(s.registries[name].ipv4_addresses, addresses, "{token}");
    }
    assert_no_overlapping_holdings(&db).await;
}

#[tokio::test]
async fn iana_file_is_refused_with_a_reason() {
    let db = TestDb::new().await;
    let bytes = fixture_bytes("excerpts-2019/delegated-iana-extended-2019-excerpt");
    let err = import::import_delegated(&db.conn, &bytes, now(), &NoProgress)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("\"iana\""), "{err}");
}

#[tokio::test]
async fn a_malformed_line_stops_the_import_and_changes_nothing() {
    let db = TestDb::new().await;
    let good = fixture_bytes("excerpts-2019/delegated-ripencc-extended-2019-excerpt");
    let mut text = String::from_utf8(good).unwrap();
    text.push_str("ripencc|DE|ipv4|10.300.0.0|256|20190101|allocated|abc\n");
    let bad_line = text.lines().count();
    let err = import::import_delegated(&db.conn, text.as_bytes(), now(), &NoProgress)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(&format!("line {bad_line}")),
        "{err}"
    );
    assert!(err.to_string().contains("10.300.0.0"), "{err}");
    let s = stats::stats(&db.conn).await.unwrap();
    assert!(
        s.registries
            .values()
            .all(|r| r.holdings == 0 && r.organisations == 0)
    );
}

#[tokio::test]
async fn overlapping_records_in_one_file_are_refused() {
    let db = TestDb::new().await;
    let text = "2|ripencc|1|2|19700101|20260101|+0200\n\
                ripencc|DE|ipv4|193.0.0.0|1024|20190101|allocated|a\n\
                ripencc|NL|ipv4|193.0.2.0|256|20190101|allocated|b\n";
    let err = import::import_delegated(&db.conn, text.as_bytes(), now(), &NoProgress)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 3: 193.0.2.0/24 overlaps 193.0.0.0/22 of line 2; one address cannot have two holders"
    );
}

#[tokio::test]
async fn a_second_registry_claiming_held_space_is_refused() {
    let db = TestDb::new().await;
    let ripe = "2|ripencc|1|1|19700101|20260101|+0200\nripencc|DE|ipv4|193.0.0.0|1024|20190101|allocated|a\n";
    let arin =
        "2.3|arin|1|1|19700101|20260101|-0400\narin|US|ipv4|193.0.3.0|256|20190101|allocated|b\n";
    import::import_delegated(&db.conn, ripe.as_bytes(), now(), &NoProgress)
        .await
        .unwrap();
    let err = import::import_delegated(&db.conn, arin.as_bytes(), now(), &NoProgress)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("which ripencc already lists as held"),
        "{err}"
    );
    assert_eq!(
        stats::stats(&db.conn).await.unwrap().registries["ARIN"].holdings,
        0
    );
}

#[tokio::test]
async fn a_newer_file_replaces_the_snapshot_while_no_transfer_touched_it() {
    let db = TestDb::new().await;
    let v1 = "2|ripencc|1|1|19700101|20260101|+0200\nripencc|DE|ipv4|193.0.0.0|1024|20190101|allocated|a\n";
    let v2 = "2|ripencc|2|2|19700101|20260102|+0200\n\
              ripencc|DE|ipv4|193.0.0.0|1024|20190101|allocated|a\n\
              ripencc|NL|ipv4|194.0.0.0|256|20200101|assigned|b\n";
    import::import_delegated(&db.conn, v1.as_bytes(), now(), &NoProgress)
        .await
        .unwrap();
    let r = import::import_delegated(&db.conn, v2.as_bytes(), now(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(r.outcome, Outcome::Imported);
    let s = stats::stats(&db.conn).await.unwrap();
    assert_eq!(
        (
            s.registries["RIPE NCC"].holdings,
            s.registries["RIPE NCC"].ipv4_addresses
        ),
        (2, 1280)
    );
    assert!(ledger::verify(&db.conn).await.unwrap().is_intact());
}

#[tokio::test]
async fn arin_transfer_log_imports_its_ipv4_records_once() {
    let db = TestDb::new().await;
    let bytes = fixture_bytes("transfers-arin-sample.json");
    let r = import::import_transfer_log(&db.conn, &bytes, now())
        .await
        .unwrap();
    assert_eq!(
        (r.producer.as_str(), r.stats_version.as_str()),
        ("ARIN", "4.0")
    );
    assert_eq!(r.transfers, 4);
    assert_eq!(r.entries_added, 2);
    assert_eq!(r.asn_or_ipv6_only, 2);
    assert_eq!(r.notes.len(), 2, "{:?}", r.notes);

    let entries = ipxfer::db::ledger::page_after(&db.conn, 0, 10)
        .await
        .unwrap();
    let ranges: Vec<String> = entries
        .iter()
        .map(|e| e.movement.range.to_string())
        .collect();
    assert_eq!(ranges, ["162.208.48.0/22", "54.224.0.0/12"]);
    assert_eq!(
        entries[1].movement.original.unwrap().to_string(),
        "54.0.0.0/8"
    );
    assert_eq!(
        entries[1].movement.source.name.as_deref(),
        Some("Merck and Co., Inc.")
    );

    let again = import::import_transfer_log(&db.conn, &bytes, now())
        .await
        .unwrap();
    assert_eq!((again.entries_added, again.entries_already_present), (0, 2));
    let s = stats::stats(&db.conn).await.unwrap();
    assert_eq!(s.ledger["imported"], 2);
    assert_eq!(s.ledger["transfer"], 0);
    let v = ledger::verify(&db.conn).await.unwrap();
    assert!(v.is_intact(), "{}", v.summary());
    assert_eq!(v.entries, 2);
}

#[tokio::test]
async fn a_broken_transfer_log_changes_nothing() {
    let db = TestDb::new().await;
    let text = String::from_utf8(fixture_bytes("transfers-arin-sample.json"))
        .unwrap()
        .replace("054.224.000.000", "054.224.000.0000");
    let err = import::import_transfer_log(&db.conn, text.as_bytes(), now())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("054.224.000.0000"), "{err}");
    assert_eq!(stats::stats(&db.conn).await.unwrap().ledger["imported"], 0);
}

#[tokio::test]
async fn a_movement_listed_twice_in_one_log_is_recorded_once() {
    let db = TestDb::new().await;
    let record = r#"{ "type": "RESOURCE_TRANSFER", "source_rir": "ARIN", "recipient_rir": "ARIN",
        "transfer_date": "2026-04-14T18:59:21Z",
        "ip4nets": { "transfer_set": [ { "start_address": "162.208.48.0", "end_address": "162.208.51.255" } ] } }"#;
    let log = format!(
        r#"{{ "version": {{ "stats_version": "4.0", "producer": "ARIN", "UTC_offset": -4,
        "production_date": "2026-04-15T03:59:11Z" }}, "transfers": [ {record}, {record} ] }}"#
    );
    let r = import::import_transfer_log(&db.conn, log.as_bytes(), now())
        .await
        .unwrap();
    assert_eq!((r.entries_added, r.entries_already_present), (1, 1));
}

#[tokio::test]
async fn overlapping_holdings_are_found_at_every_boundary() {
    let db = TestDb::new().await;
    let text = "2|ripencc|1|3|19700101|20260101|+0200\n\
                ripencc|DE|ipv4|20.0.0.0|256|20190101|allocated|a\n\
                ripencc|DE|ipv4|20.0.2.0|512|20190101|allocated|b\n\
                ripencc|DE|ipv4|20.0.8.0|2048|20190101|allocated|c\n";
    import::import_delegated(&db.conn, text.as_bytes(), now(), &NoProgress)
        .await
        .unwrap();
    let found = |range: &'static str| {
        let conn = db.conn.clone();
        async move {
            holdings::overlapping(&conn, range.parse().unwrap())
                .await
                .unwrap()
                .iter()
                .map(|h| {
                    holdings::range_of(h.start_addr, h.end_addr)
                        .unwrap()
                        .to_string()
                })
                .collect::<Vec<_>>()
        }
    };
    assert!(
        found("20.0.1.0/24").await.is_empty(),
        "a gap between holdings"
    );
    assert_eq!(found("20.0.0.128/25").await, ["20.0.0.0/24"]);
    assert_eq!(
        found("20.0.0.0/20").await,
        ["20.0.0.0/24", "20.0.2.0/23", "20.0.8.0/21"]
    );
    assert_eq!(
        found("20.0.3.0 - 20.0.9.255").await,
        ["20.0.2.0/23", "20.0.8.0/21"]
    );
    assert_eq!(found("20.0.2.0/23").await, ["20.0.2.0/23"]);
    assert!(
        found("20.0.16.0/24").await.is_empty(),
        "past the last holding"
    );
    assert!(
        found("19.255.255.0/24").await.is_empty(),
        "before the first holding"
    );
}

#[tokio::test]
async fn a_delegation_of_special_purpose_space_is_refused() {
    let db = TestDb::new().await;
    let text = "2|ripencc|1|2|19700101|20260101|+0200\n\
                ripencc|DE|ipv4|193.0.0.0|256|20190101|allocated|a\n\
                ripencc|DE|ipv4|10.0.0.0|256|20190101|allocated|b\n";
    let err = import::import_delegated(&db.conn, text.as_bytes(), now(), &NoProgress)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 3: 10.0.0.0/24 lies in special-purpose space (Private-Use, RFC 1918), which no registry delegates"
    );
    assert_eq!(
        stats::stats(&db.conn).await.unwrap().registries["RIPE NCC"].holdings,
        0
    );
}
