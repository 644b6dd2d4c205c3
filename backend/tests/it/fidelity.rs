//! Registry fidelity of the exports and imports (issue 14, points 1-6): each test is a case that
//! came out differently from what the registries publish before.
//!
//! 1. a transfer-log record with several ranges is one object in every export, with its
//!    `original_set`, and survives import -> export -> import record for record;
//! 2. the 5.0 log publishes `SOURCE_CANCELLED` / `RECIPIENT_CANCELLED` only for transfers that
//!    had published `SOURCE_INITIALIZED`, and a `transfer_date` on every object;
//! 3. the delegated export writes each registry's lines as its own file does;
//! 4. the 4.0 schema shipped is the 4.1 schema but for its version constant;
//! 5. an older delegated file does not replace a newer snapshot; notes are stored;
//! 6. transfer dates after the log's production date or in the future are refused.

use std::collections::BTreeSet;

use ipxfer::db::entities::registry_import;
use ipxfer::domain::Side;
use ipxfer::domain::export::LedgerFilter;
use ipxfer::domain::export::nro::NroVersion;
use ipxfer::domain::transfer_log::{self, LogOrg, LogTransfer, TransferLog};
use ipxfer::domain::workflow::NroStatus;
use ipxfer::domain::{Ipv4Range, Rir};
use ipxfer::error::AppError;
use ipxfer::services::export::{self, WriteSink};
use ipxfer::services::import::{self, DelegatedOptions, NoProgress, TransferLogOptions};
use ipxfer::services::transfers::{self as transfer_service, Command};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use time::OffsetDateTime;

use crate::harness::{TestDb, fixture_bytes, now};
use crate::transfers::{World, need};

/// What a consumer reads of one IPv4 record: registries, type, dates, organisations, the
/// transfer set and the original set, in the log's order.
type Record = (
    Rir,
    Rir,
    &'static str,
    Option<i64>,
    Option<i64>,
    (Option<String>, Option<String>),
    (Option<String>, Option<String>),
    Vec<Ipv4Range>,
    Vec<Ipv4Range>,
);

fn org(o: &Option<LogOrg>) -> (Option<String>, Option<String>) {
    o.as_ref()
        .map(|o| (o.name.clone(), o.country_code.clone()))
        .unwrap_or_default()
}

fn record(t: &LogTransfer) -> Record {
    (
        t.source_rir,
        t.recipient_rir,
        t.kind.nro_name(),
        t.transfer_date.map(OffsetDateTime::unix_timestamp),
        t.source_registration_date
            .map(OffsetDateTime::unix_timestamp),
        org(&t.source_org),
        org(&t.recipient_org),
        t.transferred_ranges().collect(),
        t.ip4
            .iter()
            .flat_map(|n| n.original_set.iter().copied())
            .collect(),
    )
}

/// The completed IPv4 records of a log (ASN- and IPv6-only ones are not ipxfer's).
fn ipv4_records(log: &TransferLog) -> Vec<Record> {
    log.transfers
        .iter()
        .filter(|t| !t.ip4.is_empty())
        .map(record)
        .collect()
}

async fn export_log(conn: &DatabaseConnection, version: NroVersion, at: OffsetDateTime) -> Vec<u8> {
    let mut sink = WriteSink(Vec::new());
    export::transfer_log(conn, &mut sink, version, None, &LedgerFilter::default(), at)
        .await
        .unwrap();
    sink.0
}

async fn public_feed(conn: &DatabaseConnection) -> Vec<u8> {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let app = ipxfer::web::router(ipxfer::web::AppState::new(conn.clone(), Default::default()));
    let res = app
        .oneshot(
            Request::get("/stats/transfers_latest.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.into_body().collect().await.unwrap().to_bytes().to_vec()
}

const LOGS: [&str; 2] = [
    "transfers-arin-sample.json",
    "transfers-multi-range-synthetic.json",
];

#[tokio::test]
async fn multi_range_records_round_trip_record_for_record() {
    let db = TestDb::new().await;
    let mut expected = Vec::new();
    for name in LOGS {
        let bytes = fixture_bytes(name);
        expected.extend(ipv4_records(&transfer_log::parse_bytes(&bytes).unwrap()));
        import::import_transfer_log(&db.conn, &bytes, now())
            .await
            .unwrap();
    }
    // 2 ARIN records, 6 synthetic ones of 1 to 3 ranges (14 ranges in all).
    assert_eq!(expected.len(), 8);
    assert_eq!(expected.iter().map(|r| r.7.len()).sum::<usize>(), 14);

    // Every export has one object per record, with its transfer and original sets.
    let first = export_log(&db.conn, NroVersion::V4_0, now()).await;
    for (what, bytes) in [
        ("4.0", first.clone()),
        ("5.0", export_log(&db.conn, NroVersion::V5_0, now()).await),
        ("public feed", public_feed(&db.conn).await),
    ] {
        let log = transfer_log::parse_bytes(&bytes).unwrap();
        assert_eq!(ipv4_records(&log), expected, "{what}");
    }

    // Imported again into a fresh database, exported again: the same records.
    let fresh = TestDb::new().await;
    let report = import::import_transfer_log(&fresh.conn, &first, now())
        .await
        .unwrap();
    assert_eq!((report.transfers, report.entries_added), (8, 14));
    let second = export_log(&fresh.conn, NroVersion::V4_0, now()).await;
    assert_eq!(
        ipv4_records(&transfer_log::parse_bytes(&second).unwrap()),
        expected
    );
    // And importing the same log twice still adds nothing.
    let again = import::import_transfer_log(&fresh.conn, &first, now())
        .await
        .unwrap();
    assert_eq!(
        (again.entries_added, again.entries_already_present),
        (0, 14)
    );
}

/// The 5.0 statuses (and transfer_date) of the log's objects, by their first range.
fn statuses(bytes: &[u8]) -> Vec<(String, Option<String>, Option<String>)> {
    let json: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    json["transfers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["ip4nets"]["transfer_set"][0]["start_address"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                t["status"].as_str().map(str::to_owned),
                t["transfer_date"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// Inter-RIR transfers rejected, withdrawn and expired after ARIN initialized them, one
/// withdrawn before, and one in flight; returns the world, a time after the expiry, and the ids
/// of the transfer withdrawn before and of the one withdrawn after initialization.
async fn cancelled_world() -> (World, OffsetDateTime, i64, i64) {
    let w = World::new().await;
    // Initialized by ARIN, then rejected by RIPE NCC.
    let rejected = w.initialized("20.0.0.0/24").await;
    w.act(
        &w.ripe_hostmaster,
        rejected,
        Command::Reject {
            side: Side::Recipient,
            reason: "No plan for the space".into(),
        },
    )
    .await
    .unwrap();
    // Initialized, then withdrawn by the source organisation.
    let withdrawn = w.initialized("20.0.1.0/24").await;
    w.act(&w.source_member, withdrawn, Command::Withdraw)
        .await
        .unwrap();
    // Initialized, then RIPE NCC asked the recipient, who never answered.
    let expired = w.initialized("20.0.2.0/24").await;
    w.act(
        &w.ripe_hostmaster,
        expired,
        Command::RequestInfo {
            side: Side::Recipient,
            asked: Side::Recipient,
            question: "Show the network plan".into(),
        },
    )
    .await
    .unwrap();
    let later = now() + time::Duration::days(400);
    assert_eq!(
        transfer_service::expire_overdue(&w.db.conn, &Default::default(), later)
            .await
            .unwrap(),
        1
    );
    // Withdrawn while ARIN still reviewed it: the NRO log never heard of it.
    let early = w.file("20.0.3.0/24").await.unwrap();
    w.act(&w.recipient_member, early, Command::Accept { need: need() })
        .await
        .unwrap();
    w.act(&w.source_member, early, Command::Withdraw)
        .await
        .unwrap();
    // Still in flight: initialized.
    w.initialized("20.0.4.0/24").await;
    (w, later + time::Duration::hours(1), early, withdrawn)
}

#[tokio::test]
async fn cancel_statuses_are_published_only_after_source_initialized() {
    let (w, at, early, withdrawn) = cancelled_world().await;
    let bytes = export_log(&w.db.conn, NroVersion::V5_0, at).await;
    let day = "2026-11-28T12:00:00Z".to_owned();
    assert_eq!(
        statuses(&bytes),
        [
            (
                "20.0.0.0".to_owned(),
                Some("RECIPIENT_CANCELLED".to_owned()),
                Some(day.clone())
            ),
            (
                "20.0.1.0".to_owned(),
                Some("SOURCE_CANCELLED".to_owned()),
                Some(day.clone())
            ),
            (
                "20.0.2.0".to_owned(),
                Some("RECIPIENT_CANCELLED".to_owned()),
                Some("2028-01-02T12:00:00Z".to_owned())
            ),
            (
                "20.0.4.0".to_owned(),
                Some("SOURCE_INITIALIZED".to_owned()),
                Some(day)
            ),
        ],
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let log = transfer_log::parse_bytes(&bytes).unwrap();
    assert_eq!((log.cancelled.len(), log.in_progress.len()), (3, 1));
    assert_eq!(
        log.cancelled.iter().map(|t| t.status).collect::<Vec<_>>(),
        [
            Some(NroStatus::RecipientCancelled),
            Some(NroStatus::SourceCancelled),
            Some(NroStatus::RecipientCancelled)
        ]
    );
    // 4.0 lists completed transfers only.
    let four = export_log(&w.db.conn, NroVersion::V4_0, at).await;
    assert!(statuses(&four).is_empty());

    // The transfer pages say the same: nothing for the one withdrawn before initialization.
    let mut member = crate::browser::Browser::signed_in(&w.db.conn, "src@example.net").await;
    let list = member.get("/transfers?show=all").await;
    let mut shown = list.texts("td .nro");
    shown.sort();
    assert_eq!(
        shown,
        [
            "RECIPIENT_CANCELLED",
            "RECIPIENT_CANCELLED",
            "SOURCE_CANCELLED",
            "SOURCE_INITIALIZED"
        ]
    );
    let withdrawn_early = member.get(&format!("/transfers/{early}")).await;
    assert!(!withdrawn_early.has("h1 .nro"));
    let withdrawn_late = member.get(&format!("/transfers/{withdrawn}")).await;
    assert_eq!(withdrawn_late.text("h1 .nro"), "SOURCE_CANCELLED");
}

#[tokio::test]
async fn every_five_zero_object_carries_a_transfer_date() {
    let w = World::new().await;
    for name in LOGS {
        import::import_transfer_log(&w.db.conn, &fixture_bytes(name), now())
            .await
            .unwrap();
    }
    let done = w.ready_to_finalize("20.0.8.0/22").await;
    w.act(&w.arin_hostmaster, done, Command::Finalize)
        .await
        .unwrap();
    w.ready_to_finalize("20.0.12.0/22").await;
    let bytes = export_log(&w.db.conn, NroVersion::V5_0, now()).await;
    let all = statuses(&bytes);
    assert_eq!(all.len(), 8 + 2);
    assert!(all.iter().all(|(_, _, date)| date.is_some()), "{all:?}");
    assert!(all.contains(&(
        "20.0.12.0".to_owned(),
        Some("RECIPIENT_ACCEPTED".to_owned()),
        Some("2026-11-28T12:00:00Z".to_owned())
    )));
}

/// The IPv4 record lines of a delegated file, as written.
fn ipv4_lines(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| {
            let f: Vec<&str> = l.split('|').collect();
            !l.starts_with('#') && f.len() >= 7 && f[1] != "*" && f[2] == "ipv4"
        })
        .map(str::to_owned)
        .collect()
}

async fn delegated_export(conn: &DatabaseConnection, registry: Rir) -> String {
    let mut sink = WriteSink(Vec::new());
    export::delegated(conn, &mut sink, registry, None, now())
        .await
        .unwrap();
    String::from_utf8(sink.0).unwrap()
}

#[tokio::test]
async fn delegated_exports_write_each_registrys_lines_as_its_file_does() {
    // AFRINIC (ZZ on available and reserved space, version 2, offset 00000) and LACNIC (7-field
    // available lines): every IPv4 line comes back exactly as the registry wrote it.
    for (name, registry, version_line) in [
        (
            "delegated-afrinic-extended-20260505",
            Rir::Afrinic,
            "2|afrinic|20260505|",
        ),
        (
            "delegated-lacnic-extended-20230323",
            Rir::Lacnic,
            "2.3|lacnic|20230323|",
        ),
    ] {
        let db = TestDb::new().await;
        let bytes = fixture_bytes(name);
        import::import_delegated(&db.conn, &bytes, now(), &NoProgress)
            .await
            .unwrap();
        let out = delegated_export(&db.conn, registry).await;
        assert!(out.starts_with(version_line), "{}", &out[..80]);
        let first = out.lines().next().unwrap();
        let written = ipv4_lines(&out);
        let theirs = ipv4_lines(std::str::from_utf8(&bytes).unwrap());
        let differ: Vec<_> = theirs.symmetric_difference(&written).take(5).collect();
        assert!(differ.is_empty(), "{name}: {first}: {differ:?}");
    }
    // ARIN's undated records stay 00000000; its serial and offset are the file's.
    let arin = "2.3|arin|1567951216119|3|19700101|20190908|-0400\n\
                arin|*|ipv4|*|3|summary\n\
                arin|US|ipv4|3.0.0.0|16777216|19880223|allocated|e5e3b9c13678dfc483fb1f819d70883c\n\
                arin|US|ipv4|4.0.0.0|256|00000000|assigned|2cad1c5a7c2a0e40b8e8d6b1f5e4f1a0\n\
                arin||ipv4|23.128.0.0|1024||reserved|\n";
    let db = TestDb::new().await;
    import::import_delegated(&db.conn, arin.as_bytes(), now(), &NoProgress)
        .await
        .unwrap();
    let out = delegated_export(&db.conn, Rir::Arin).await;
    assert_eq!(
        out.lines().next().unwrap(),
        "2.3|arin|1567951216119|3|19880223|20261128|-0400"
    );
    assert_eq!(ipv4_lines(&out), ipv4_lines(arin));
}

#[test]
fn the_4_0_schema_is_the_4_1_schema_but_for_its_version() {
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/spec/");
    let read = |v: &str| -> serde_json::Value {
        let path = format!("{spec}rir-transfer-log-{v}.schema.json");
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    };
    let (mut v40, v41) = (read("4.0"), read("4.1"));
    let constant = "/properties/version/properties/stats_version/const";
    assert_eq!(v40.pointer(constant).unwrap(), "4.0");
    *v40.pointer_mut(constant).unwrap() = "4.1".into();
    assert_eq!(v40, v41);
}

async fn import_record(conn: &DatabaseConnection) -> registry_import::Model {
    registry_import::Entity::find()
        .filter(registry_import::Column::Registry.eq("ripencc"))
        .one(conn)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn an_older_delegated_file_does_not_replace_a_newer_snapshot() {
    let db = TestDb::new().await;
    let newer = "2|ripencc|1764460800|3|19930901|20261130|+0100\n\
                 ripencc|*|ipv4|*|5|summary\n\
                 ripencc|NL|ipv4|193.0.0.0|1024|19930901|allocated|new-holder\n\
                 ripencc|DE|ipv4|194.0.0.0|256|19940101|assigned|other\n";
    let older = "2|ripencc|1735689600|1|19930901|20250101|+0100\n\
                 ripencc|*|ipv4|*|1|summary\n\
                 ripencc|NL|ipv4|193.0.0.0|1024|19930901|allocated|old-holder\n";
    let report = import::import_delegated(&db.conn, newer.as_bytes(), now(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(report.count_mismatches.len(), 2, "{report:?}");
    let kept = import_record(&db.conn).await;
    let notes = kept.notes.clone().unwrap();
    assert_eq!(notes.lines().count(), 2);
    assert!(notes.contains("summary"), "{notes}");

    let err = import::import_delegated(&db.conn, older.as_bytes(), now(), &NoProgress)
        .await
        .unwrap_err();
    let AppError::Invalid(message) = &err else {
        panic!("{err}")
    };
    assert!(
        message.contains("2025-01-01")
            && message.contains("2026-11-30")
            && message.contains("--replace-older"),
        "{message}"
    );
    // Nothing changed.
    assert_eq!(import_record(&db.conn).await, kept);

    let options = DelegatedOptions {
        replace_older: true,
    };
    import::import_delegated_with(&db.conn, older.as_bytes(), now(), &NoProgress, options)
        .await
        .unwrap();
    let replaced = import_record(&db.conn).await;
    assert_eq!(replaced.serial, "1735689600");
    assert_eq!(replaced.notes, None);
}

/// One record dated `date` in a RIPE NCC log produced on 2026-10-01.
fn log_with(dates: &[&str]) -> Vec<u8> {
    let records: Vec<String> = dates
        .iter()
        .enumerate()
        .map(|(i, date)| {
            format!(
                r#"{{"transfer_date": "{date}", "source_rir": "RIPE NCC", "recipient_rir": "RIPE NCC",
                    "type": "RESOURCE_TRANSFER",
                    "ip4nets": {{"transfer_set": [{{"start_address": "185.1.{i}.0", "end_address": "185.1.{i}.255"}}]}}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"version": {{"stats_version": "4.0", "producer": "RIPE NCC", "UTC_offset": 0,
            "production_date": "2026-10-01T00:00:00Z",
            "records_interval": {{"start_date": "2020-01-01T00:00:00Z", "end_date": "2026-09-30T00:00:00Z"}}}},
           "transfers": [{}]}}"#,
        records.join(",")
    )
    .into_bytes()
}

#[tokio::test]
async fn transfer_dates_after_production_or_in_the_future_are_refused() {
    let db = TestDb::new().await;
    let late = log_with(&["2026-09-30T00:00:00Z", "2026-10-02T00:00:00Z"]);
    let err = import::import_transfer_log(&db.conn, &late, now())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("transfers[1].transfer_date")
            && err.to_string().contains("production_date"),
        "{err}"
    );
    // Before the log was produced, but after now (a clock, or a log, from the future).
    let early_now = time::macros::datetime!(2026-09-15 00:00 UTC);
    let future = log_with(&["2026-09-30T00:00:00Z"]);
    let err = import::import_transfer_log(&db.conn, &future, early_now)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("transfers[0]") && err.to_string().contains("future"),
        "{err}"
    );
    // Nothing was written.
    assert!(export_log(&db.conn, NroVersion::V4_0, now()).await.len() < 600);

    // Kept as given when asked; the export's interval still ends at its production date.
    let options = TransferLogOptions {
        allow_future_dates: true,
    };
    let report = import::import_transfer_log_with(&db.conn, &late, early_now, options)
        .await
        .unwrap();
    assert_eq!(report.entries_added, 2);
    let bytes = export_log(&db.conn, NroVersion::V4_0, early_now).await;
    let log = transfer_log::parse_bytes(&bytes).unwrap();
    assert_eq!(log.version.production_date, Some(early_now));
    assert_eq!(log.version.records_end, Some(early_now));
    assert_eq!(
        log.transfers[1].transfer_date,
        Some(time::macros::datetime!(2026-10-02 00:00 UTC))
    );
}

#[tokio::test]
#[ignore = "needs .ci/.venv with Python's jsonschema; .ci/run runs it"]
async fn grouped_and_cancelled_exports_validate_against_the_nro_schemas() {
    let (w, at, _, _) = cancelled_world().await;
    for name in LOGS {
        import::import_transfer_log(&w.db.conn, &fixture_bytes(name), now())
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for version in [NroVersion::V4_0, NroVersion::V5_0] {
        let path = dir.path().join(format!("{version}.json"));
        std::fs::write(&path, export_log(&w.db.conn, version, at).await).unwrap();
        files.push(path);
    }
    assert_eq!(crate::exports::validate(&files).matches("ok   ").count(), 2);
}
