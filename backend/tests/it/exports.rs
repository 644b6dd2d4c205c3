//! Exports of the ledger built from the fixture data plus transfers completed through the
//! services: each format is written, read back with ipxfer's own readers (and validated against
//! the NRO schemas by `.ci/run` with Python's jsonschema), re-imported into a fresh database and
//! compared with the original address by address, entry by entry.

use std::collections::BTreeMap;
use std::process::Command as Process;

use ipxfer::db::ledger as ledger_db;
use ipxfer::db::ledger_query::{self, Direction};
use ipxfer::domain::export::csv_rows::{self, CsvRow};
use ipxfer::domain::export::nro::NroVersion;
use ipxfer::domain::export::{LedgerFilter, bundle};
use ipxfer::domain::ledger::{EntryKind, LedgerEntry, ledger_time};
use ipxfer::domain::transfer_log;
use ipxfer::domain::workflow::NroStatus;
use ipxfer::domain::{Ipv4Range, Rir, TransferType};
use ipxfer::services::export::{self, WriteSink};
use ipxfer::services::import::{self, NoProgress};
use ipxfer::services::transfers::Command;
use sea_orm::ConnectionTrait;

use crate::harness::{TestDb, fixture, fixture_bytes, now};
use crate::transfers::World;
use ipxfer::domain::transfer::OrgId;

/// The World's two registries, the LACNIC and AFRINIC fixtures and ARIN's published log, two
/// transfers completed through the services and one still in flight at the recipient registry.
async fn audited_world() -> World {
    let w = World::new().await;
    for name in [
        "delegated-lacnic-extended-20230323",
        "delegated-afrinic-extended-20260505",
    ] {
        import::import_delegated(&w.db.conn, &fixture_bytes(name), now(), &NoProgress)
            .await
            .unwrap();
    }
    import::import_transfer_log(
        &w.db.conn,
        &fixture_bytes("transfers-arin-sample.json"),
        now(),
    )
    .await
    .unwrap();
    for block in ["20.0.4.0/22", "20.1.0.0/17"] {
        let id = w.ready_to_finalize(block).await;
        w.act(&w.arin_hostmaster, id, Command::Finalize)
            .await
            .unwrap();
    }
    // In flight: the source registry approved, the recipient registry reviews.
    w.initialized("20.0.8.0/24").await;
    w
}

async fn all_entries(conn: &impl ConnectionTrait) -> Vec<LedgerEntry> {
    ledger_db::page_after(conn, 0, 1_000_000).await.unwrap()
}

/// What a transfer log keeps of an entry: the range, the registries, the type and the time.
fn movement_key(e: &LedgerEntry) -> (Ipv4Range, Rir, Rir, TransferType, i64) {
    let m = &e.movement;
    (
        m.range,
        m.source_rir,
        m.recipient_rir,
        m.transfer_type,
        ledger_time(m.transfer_date).unix_timestamp(),
    )
}

async fn export_log(w: &World, version: NroVersion, producer: Option<Rir>) -> Vec<u8> {
    let mut sink = WriteSink(Vec::new());
    export::transfer_log(
        &w.db.conn,
        &mut sink,
        version,
        producer,
        &LedgerFilter::default(),
        now(),
    )
    .await
    .unwrap();
    sink.0
}

#[tokio::test]
async fn transfer_logs_read_back_and_re_import_as_the_same_ledger() {
    let w = audited_world().await;
    let original = all_entries(&w.db.conn).await;
    assert_eq!(original.len(), 4, "2 imported + 2 transferred");
    let expected: Vec<_> = original.iter().map(movement_key).collect();

    for version in [NroVersion::V4_0, NroVersion::V5_0] {
        let bytes = export_log(&w, version, None).await;
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(!text.contains("price") && !text.contains("25000"), "{text}");
        let log = transfer_log::parse_bytes(&bytes).unwrap();
        assert_eq!(log.version.stats_version, version.as_str());
        assert_eq!(log.version.producer, "NRO");
        match version {
            NroVersion::V4_0 => assert!(log.in_progress.is_empty()),
            NroVersion::V5_0 => {
                assert_eq!(log.in_progress.len(), 1);
                let t = &log.in_progress[0];
                assert_eq!(t.status, Some(NroStatus::SourceInitialized));
                assert_eq!(
                    t.transferred_ranges().collect::<Vec<_>>(),
                    ["20.0.8.0/24".parse().unwrap()]
                );
            }
        }

        // Re-imported into a fresh database: the same movements, entry by entry.
        let fresh = TestDb::new().await;
        let report = import::import_transfer_log(&fresh.conn, &bytes, now())
            .await
            .unwrap();
        assert_eq!(report.entries_added, 4, "{version}");
        let back: Vec<_> = all_entries(&fresh.conn)
            .await
            .iter()
            .map(movement_key)
            .collect();
        assert_eq!(back, expected, "{version}");
        for (a, b) in all_entries(&fresh.conn).await.iter().zip(&original) {
            assert_eq!(a.movement.kind, EntryKind::Imported);
            assert_eq!(a.movement.source.name, b.movement.source.name);
            assert_eq!(a.movement.recipient.country, b.movement.recipient.country);
        }
    }

    // A registry's own log lists the transfers touching it.
    let ripe = export_log(&w, NroVersion::V4_0, Some(Rir::RipeNcc)).await;
    let log = transfer_log::parse_bytes(&ripe).unwrap();
    assert_eq!(log.version.producer, "RIPE NCC");
    assert_eq!(log.transfers.len(), 2);
    assert!(
        log.transfers
            .iter()
            .all(|t| t.recipient_rir == Rir::RipeNcc)
    );
}

#[tokio::test]
async fn csv_and_bundle_read_back_entry_by_entry() {
    let w = audited_world().await;
    let original = all_entries(&w.db.conn).await;

    let mut sink = WriteSink(Vec::new());
    let report = export::csv(&w.db.conn, &mut sink, &LedgerFilter::default())
        .await
        .unwrap();
    assert_eq!(report.rows, original.len() as u64);
    let rows: Vec<CsvRow> = csv_rows::read(sink.0.as_slice())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), original.len());
    for (row, e) in rows.iter().zip(&original) {
        assert_eq!(row, &CsvRow::of(e));
        assert_eq!(row.range().unwrap(), e.movement.range);
    }

    let mut sink = WriteSink(Vec::new());
    export::bundle(
        &w.db.conn,
        &mut sink,
        &LedgerFilter::default(),
        String::new(),
        now(),
        None,
    )
    .await
    .unwrap();
    let text = String::from_utf8(sink.0).unwrap();
    let check = bundle::verify_lines(text.lines()).unwrap();
    let head = ledger_db::head(&w.db.conn).await.unwrap().unwrap();
    assert_eq!(
        check.summary(),
        format!(
            "verified: {} entries, head hash {}",
            original.len(),
            head.hash
        )
    );
    let back: Vec<LedgerEntry> = text
        .lines()
        .enumerate()
        .skip(1)
        .map(|(i, l)| bundle::read_entry(i + 1, l).unwrap())
        .collect();
    assert_eq!(back, original);
}

/// Holdings per (registry, holder handle), coalesced: what a delegated file says.
async fn holdings_by_handle(
    conn: &impl ConnectionTrait,
) -> BTreeMap<(String, String), Vec<Ipv4Range>> {
    use ipxfer::db::entities::{holding, organisation};
    use sea_orm::EntityTrait;
    let orgs: BTreeMap<i64, String> = organisation::Entity::find()
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.id, o.handle))
        .collect();
    let mut out: BTreeMap<(String, String), Vec<Ipv4Range>> = BTreeMap::new();
    for h in holding::Entity::find().all(conn).await.unwrap() {
        out.entry((h.registry, orgs[&h.organisation_id].clone()))
            .or_default()
            .push(Ipv4Range::new(h.start_addr as u32, h.end_addr as u32).unwrap());
    }
    out.into_iter()
        .map(|(k, v)| (k, ipxfer::domain::block::coalesce(v)))
        .collect()
}

#[tokio::test]
async fn delegated_snapshots_re_import_as_the_same_holdings() {
    let w = audited_world().await;
    let fresh = TestDb::new().await;
    for registry in [Rir::Arin, Rir::RipeNcc, Rir::Lacnic, Rir::Afrinic] {
        let mut sink = WriteSink(Vec::new());
        export::delegated(&w.db.conn, &mut sink, registry, None, now())
            .await
            .unwrap();
        let file = ipxfer::domain::delegated::parse_document_bytes(&sink.0).unwrap();
        assert!(
            file.mismatches().is_empty(),
            "{registry}: {:?}",
            file.mismatches()
        );
        assert_eq!(file.header.registry, registry.token());
        import::import_delegated(&fresh.conn, &sink.0, now(), &NoProgress)
            .await
            .unwrap();
    }
    let before = holdings_by_handle(&w.db.conn).await;
    assert_eq!(holdings_by_handle(&fresh.conn).await, before);
    // The transferred space is in RIPE NCC's snapshot, under the recipient's handle.
    let ripe = &before[&("ripencc".to_owned(), "ripe-holder".to_owned())];
    assert!(ripe.contains(&"20.0.4.0/22".parse().unwrap()), "{ripe:?}");

    // One holder's holdings only.
    let mut sink = WriteSink(Vec::new());
    let ids = export::organisation_ids(&w.db.conn, "ripe-holder")
        .await
        .unwrap();
    export::delegated(&w.db.conn, &mut sink, Rir::RipeNcc, Some(&ids), now())
        .await
        .unwrap();
    let file = ipxfer::domain::delegated::parse_document_bytes(&sink.0).unwrap();
    assert_eq!(file.records.len(), 3);
}

#[tokio::test]
async fn filters_in_sql_select_what_the_pure_filter_selects() {
    let w = audited_world().await;
    let all = all_entries(&w.db.conn).await;
    let filters = [
        LedgerFilter::default(),
        LedgerFilter {
            registry: Some(Rir::RipeNcc),
            ..Default::default()
        },
        LedgerFilter {
            org_ids: Some(vec![OrgId(w.ripe_org)]),
            ..Default::default()
        },
        LedgerFilter {
            from: Some(time::macros::date!(2026 - 01 - 01)),
            to: Some(now().date()),
            ..Default::default()
        },
        LedgerFilter {
            to: Some(time::macros::date!(2012 - 03 - 01)),
            ..Default::default()
        },
        LedgerFilter {
            kind: Some(EntryKind::Transfer),
            touching: Some("20.1.0.7".parse().unwrap()),
            ..Default::default()
        },
        LedgerFilter {
            transfer_type: Some(TransferType::MergerAcquisition),
            ..Default::default()
        },
    ];
    for f in filters {
        let expected: Vec<i64> = all.iter().filter(|e| f.matches(e)).map(|e| e.seq).collect();
        let forward: Vec<i64> = ledger_query::page(&w.db.conn, &f, None, Direction::Forward, 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(forward, expected, "{f:?}");
        let mut backward: Vec<i64> =
            ledger_query::page(&w.db.conn, &f, None, Direction::Backward, 100)
                .await
                .unwrap()
                .iter()
                .map(|e| e.seq)
                .collect();
        backward.reverse();
        assert_eq!(backward, expected, "{f:?}");
    }
}

fn ipxfer(url: Option<&str>, args: &[&str]) -> (bool, Vec<u8>, String) {
    let mut cmd = Process::new(env!("CARGO_BIN_EXE_ipxfer"));
    cmd.args(args).env("RUST_LOG", "warn");
    match url {
        Some(u) => cmd.env("DATABASE_URL", u),
        // Offline: a database URL that cannot be opened proves none is needed.
        None => cmd.env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
    };
    let out = cmd.output().expect("run ipxfer");
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_command_line_exports_and_verifies_a_bundle_offline() {
    let w = audited_world().await;
    let url = Some(w.db.url.as_str());
    let dir = tempfile::tempdir().unwrap();
    let bundle_path = dir.path().join("ledger.jsonl");
    let b = bundle_path.to_str().unwrap();
    let (ok, _, err) = ipxfer(url, &["export", "bundle", "-o", b]);
    assert!(ok, "{err}");
    assert!(err.contains("exported 4 ledger entries"), "{err}");
    let (ok, out, err) = ipxfer(None, &["ledger", "verify", "--file", b]);
    assert!(ok, "{err}");
    let head = ledger_db::head(&w.db.conn).await.unwrap().unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("verified: 4 entries, head hash {}\n", head.hash)
    );

    // Tampering with the file is caught at the entry.
    let text = std::fs::read_to_string(&bundle_path).unwrap();
    let tampered = text.replacen("\"RESOURCE_TRANSFER\"", "\"MERGER_ACQUISITION\"", 1);
    std::fs::write(&bundle_path, tampered).unwrap();
    let (ok, out, _) = ipxfer(None, &["ledger", "verify", "--file", b]);
    let out = String::from_utf8(out).unwrap();
    assert!(
        !ok && out.starts_with("ledger chain broken at entry 1:"),
        "{out}"
    );

    // Standard output, filters, and the other formats.
    let (ok, out, err) = ipxfer(
        url,
        &[
            "export",
            "transfer-log",
            "--version",
            "5.0",
            "--producer",
            "ARIN",
        ],
    );
    assert!(ok, "{err}");
    let log = transfer_log::parse_bytes(&out).unwrap();
    assert_eq!(
        (log.version.producer.as_str(), log.transfers.len()),
        ("ARIN", 4)
    );
    let (ok, out, err) = ipxfer(
        url,
        &[
            "export",
            "csv",
            "--registry",
            "RIPE NCC",
            "--from",
            "2026-11-28",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(csv_rows::read(out.as_slice()).count(), 2);
    let (ok, out, err) = ipxfer(url, &["export", "delegated", "--registry", "ripencc"]);
    assert!(ok, "{err}");
    assert!(out.starts_with(b"2|ripencc|"), "{err}");

    // Bad arguments are refused with what to write instead, and write nothing.
    let out_file = dir.path().join("never.json");
    for (args, says) in [
        (vec!["export", "transfer-log", "--version", "3.0"], "4.0"),
        (
            vec!["export", "csv", "--registry", "XYZ"],
            "unknown registry",
        ),
        (vec!["export", "csv", "--from", "28.11.2026"], "YYYY-MM-DD"),
        (
            vec![
                "export",
                "csv",
                "--from",
                "2026-02-01",
                "--to",
                "2026-01-01",
            ],
            "after --to",
        ),
        (
            vec!["export", "bundle", "--org", "nobody"],
            "no organisation",
        ),
        (vec!["export", "delegated"], "--registry"),
    ] {
        let mut args = args.clone();
        args.extend(["-o", out_file.to_str().unwrap()]);
        let (ok, _, err) = ipxfer(url, &args);
        assert!(!ok && err.contains(says), "{args:?}: {err}");
        assert!(!out_file.exists(), "{args:?} left a file");
    }
    let (ok, _, err) = ipxfer(
        None,
        &[
            "ledger",
            "verify",
            "--file",
            fixture("transfers-arin-sample.json").to_str().unwrap(),
        ],
    );
    assert!(!ok && err.contains("did not verify"), "{err}");
}

#[tokio::test]
async fn the_public_transfer_log_is_nro_4_0_without_prices() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let w = audited_world().await;
    let app = ipxfer::web::router(ipxfer::web::AppState::new(
        w.db.conn.clone(),
        Default::default(),
    ));
    let res = app
        .oneshot(
            Request::get("/stats/transfers_latest.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let log = transfer_log::parse_bytes(&body).unwrap();
    assert_eq!(
        (
            log.version.stats_version.as_str(),
            log.version.producer.as_str()
        ),
        ("4.0", "NRO")
    );
    assert_eq!(
        log.transfers.len(),
        4,
        "2 imported, 2 completed through the services"
    );
    assert!(log.in_progress.is_empty());
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(!text.contains("price") && !text.contains("25000"));
}

#[tokio::test]
async fn a_paced_download_of_the_public_log_arrives_whole_with_its_length() {
    use axum::body::Body;
    use axum::http::{Request, header};
    use http_body_util::BodyExt;
    use ipxfer::services::scale::Scale;
    use ipxfer::web::AppState;
    use tower::ServiceExt;

    // A log of a few hundred entries: larger than the chunks the budget sends.
    let db = TestDb::with_scale(Scale {
        holdings: 500,
        ledger: 400,
        finalized: 2,
        open: 2,
        members: 5,
        seed: 11,
    })
    .await;
    // One clock for every build of the log: its header says when it was produced, so two
    // builds a second apart would differ in that alone.
    let clock = std::sync::Arc::new(ipxfer::clock::ManualClock::at(now()));
    let download = |mib_per_second: u32, encoding: &'static str| {
        let state = AppState::new(db.conn.clone(), Default::default())
            .with_clock(clock.clone())
            .with_public_download_rate(mib_per_second);
        async move {
            let res = ipxfer::web::router(state)
                .oneshot(
                    Request::get("/stats/transfers_latest.json")
                        .header(header::ACCEPT_ENCODING, encoding)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let length = res.headers()[header::CONTENT_LENGTH]
                .to_str()
                .unwrap()
                .to_owned();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(length, body.len().to_string());
            body
        }
    };
    for encoding in ["identity", "gzip"] {
        let unpaced = download(0, encoding).await;
        assert_eq!(download(1, encoding).await, unpaced, "{encoding}");
    }
    let log = download(1, "identity").await;
    assert!(log.len() > 64 * 1024, "{} bytes", log.len());
    transfer_log::parse_bytes(&log).unwrap();
}

/// The Python that `.ci/run` prepares with jsonschema (an independent validator).
fn ci_python() -> std::path::PathBuf {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/.venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run .ci/run, or create it with `python3 -m venv .ci/.venv && \
         .ci/.venv/bin/pip install jsonschema rfc3339-validator`",
        python.display()
    );
    python
}

#[tokio::test]
#[ignore = "needs .ci/.venv with Python's jsonschema; .ci/run runs it"]
async fn exports_validate_against_the_nro_schemas() {
    let w = audited_world().await;
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (version, producer) in [
        (NroVersion::V4_0, None),
        (NroVersion::V5_0, None),
        (NroVersion::V4_0, Some(Rir::Arin)),
        (NroVersion::V5_0, Some(Rir::RipeNcc)),
    ] {
        let path = dir.path().join(format!("{version}-{producer:?}.json"));
        std::fs::write(&path, export_log(&w, version, producer).await).unwrap();
        files.push(path);
    }
    assert_eq!(validate(&files).matches("ok   ").count(), 4);
}

/// Runs `.ci/validate_exports.py` on the files, fails unless every one validates, and returns
/// what it printed.
pub(crate) fn validate(files: &[std::path::PathBuf]) -> String {
    let out = Process::new(ci_python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../.ci/validate_exports.py"
        ))
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
