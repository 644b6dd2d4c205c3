//! The transparency log over the ledger, on both databases: the stored Merkle tree against an
//! independent recomputation, checkpoints and their keys, inclusion and consistency proofs, the
//! public tiles, witnesses, signed bundles, the monitor, and an operator who rewrites history.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use ipxfer::clock::SystemClock;
use ipxfer::db::{ledger as ledger_db, tlog as tlog_db};
use ipxfer::domain::export::LedgerFilter;
use ipxfer::domain::export::bundle::{self, BundleKeys};
use ipxfer::domain::ledger::{self, EntryKind, LedgerParty, Movement};
use ipxfer::domain::tlog::{self, Hash, LogSigner, WitnessSigner, WitnessVerifier};
use ipxfer::domain::{Rir, TransferType};
use ipxfer::services::export::{self, WriteSink};
use ipxfer::services::tlog::{LogConfig, WitnessConfig};
use ipxfer::services::{monitor, witness};
use ipxfer::web::{AppState, router};
use sea_orm::{ConnectionTrait, Statement};
use tower::ServiceExt;

use crate::harness::{TestDb, now};

fn movement(i: u32, source: Rir, recipient: Rir) -> Movement {
    let start = 0x1400_0000 + i * 256;
    Movement {
        kind: EntryKind::Imported,
        transfer_id: None,
        transfer_reference: None,
        transfer_type: TransferType::ResourceTransfer,
        source_rir: source,
        recipient_rir: recipient,
        source: LedgerParty {
            org_id: None,
            name: Some(format!("Source {i}")),
            country: Some("US".into()),
        },
        recipient: LedgerParty {
            org_id: None,
            name: Some(format!("Recipient {i}")),
            country: Some("NL".into()),
        },
        range: ipxfer::domain::Ipv4Range::new(start, start + 255).unwrap(),
        original: None,
        transfer_date: now(),
        source_registration_date: None,
    }
}

/// Appends `n` entries in one transaction, numbered from `first`.
async fn append(db: &TestDb, first: u32, n: u32) {
    let txn = ipxfer::db::begin_write(&db.conn).await.unwrap();
    let moves = (first..first + n)
        .map(|i| {
            let to = if i % 2 == 0 { Rir::RipeNcc } else { Rir::Apnic };
            movement(i, Rir::Arin, to)
        })
        .collect();
    ledger_db::append(&txn, moves, now()).await.unwrap();
    txn.commit().await.unwrap();
}

/// Every stored entry's leaf hash, in order.
async fn leaf_hashes(db: &TestDb) -> Vec<Hash> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = ledger_db::page_after(&db.conn, after, 500).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        out.extend(page.iter().map(|e| tlog::leaf_hash(&tlog::leaf_data(e))));
    }
    out
}

/// RFC 6962's MTH, straight from the RFC's recursion and SHA-256: the independent recomputation.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => tlog::EMPTY_HASH,
        1 => leaves[0],
        n => {
            let k = 1usize << (n as u64 - 1).ilog2();
            node(mth(&leaves[..k]), mth(&leaves[k..]))
        }
    }
}

/// `SHA-256(0x01 || left || right)`.
fn node(l: Hash, r: Hash) -> Hash {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(l.0);
    h.update(r.0);
    Hash(h.finalize().into())
}

fn log_config(origin: &str, witnesses: Vec<WitnessConfig>) -> LogConfig {
    let (skey, _) = tlog::generate_log_key(&mut rand_core::OsRng, origin).unwrap();
    LogConfig::new(LogSigner::parse(&skey).unwrap(), witnesses)
}

/// A witness on a free local port; returns its configuration for the log.
async fn start_witness(name: &str, log: &LogConfig, dir: &std::path::Path) -> WitnessConfig {
    let (skey, _) = tlog::generate_witness_key(&mut rand_core::OsRng, name).unwrap();
    let signer = WitnessSigner::parse(&skey).unwrap();
    let verifier = WitnessVerifier::parse(signer.vkey()).unwrap();
    let w = witness::Witness::open(
        signer,
        vec![log.verifier()],
        &dir.join(format!("{name}.json")),
        Arc::new(SystemClock),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(witness::serve(w, listener, std::future::pending()));
    WitnessConfig { url, verifier }
}

/// The web server on a free local port; returns its base URL.
async fn serve(db: &TestDb) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = router(AppState::new(db.conn.clone(), Default::default()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn get(db: &TestDb, uri: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let app = router(AppState::new(db.conn.clone(), Default::default()));
    let res = app
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let cache = res
        .headers()
        .get(header::CACHE_CONTROL)
        .map(|v| v.to_str().unwrap().to_owned());
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, cache, body)
}

fn keys(log: &LogConfig) -> BundleKeys {
    BundleKeys {
        log: log.verifier(),
        witnesses: log.witness_verifiers(),
        quorum: log.witnesses.len(),
    }
}

#[tokio::test]
async fn the_tree_equals_an_independent_recomputation_and_proves_consistency_at_any_two_sizes() {
    let db = TestDb::new().await;
    // Batches of odd sizes, across tile boundaries: single appends and bulk imports alike.
    let mut n = 0;
    for batch in [1u32, 2, 5, 120, 128, 1, 255, 300, 188] {
        append(&db, n, batch).await;
        n += batch;
    }
    assert_eq!(n, 1_000);
    assert_eq!(tlog_db::tree_size(&db.conn).await.unwrap(), 1_000);
    let leaves = leaf_hashes(&db).await;
    assert_eq!(leaves.len(), 1_000);
    for size in [1u64, 2, 3, 7, 8, 255, 256, 257, 511, 512, 513, 999, 1_000] {
        let want = mth(&leaves[..size as usize]);
        assert_eq!(
            tlog_db::root(&db.conn, size).await.unwrap(),
            want,
            "size {size}"
        );
    }
    // Load the whole stored tree once, then prove every pair of a spread of sizes.
    let mut hashes = tlog::Hashes::default();
    let all: Vec<u64> = (0..tlog_tiles::stored_hash_count(1_000)).collect();
    tlog_db::load_hashes(&db.conn, &all, &mut hashes)
        .await
        .unwrap();
    let sizes: Vec<u64> = (1..=1_000)
        .filter(|s| s % 37 == 0 || [1, 2, 255, 256, 257, 999, 1_000].contains(s))
        .collect();
    let roots: Vec<Hash> = sizes.iter().map(|&s| mth(&leaves[..s as usize])).collect();
    for (i, &old) in sizes.iter().enumerate() {
        for (j, &new) in sizes.iter().enumerate().skip(i) {
            let p = tlog::consistency_proof(new, old, &hashes).unwrap();
            tlog::check_consistency(&p, new, roots[j], old, roots[i]).unwrap();
        }
    }
    // And against the database, proof by proof, for some pairs.
    for (old, new) in [(1u64, 1_000u64), (256, 257), (500, 999)] {
        let p = tlog_db::compute(&db.conn, |h| tlog::consistency_proof(new, old, h))
            .await
            .unwrap();
        tlog::check_consistency(
            &p,
            new,
            mth(&leaves[..new as usize]),
            old,
            mth(&leaves[..old as usize]),
        )
        .unwrap();
    }
}

#[tokio::test]
async fn an_existing_ledger_is_back_filled_and_the_tree_is_append_only() {
    let db = TestDb::new().await;
    append(&db, 0, 40).await;
    let root = tlog_db::root(&db.conn, 40).await.unwrap();
    // As if the ledger predated the tree: remove the tree (triggers first), then migrate again.
    let sql = |s: &str| Statement::from_string(db.conn.get_database_backend(), s.to_owned());
    let refused = db.conn.execute_raw(sql("DELETE FROM tlog_hashes")).await;
    assert!(refused.unwrap_err().to_string().contains("append-only"));
    drop_tree_triggers(&db).await;
    db.conn
        .execute_raw(sql("DELETE FROM tlog_hashes"))
        .await
        .unwrap();
    assert_eq!(tlog_db::tree_size(&db.conn).await.unwrap(), 0);
    ipxfer::db::migrate(&db.conn).await.unwrap();
    assert_eq!(tlog_db::tree_size(&db.conn).await.unwrap(), 40);
    assert_eq!(tlog_db::root(&db.conn, 40).await.unwrap(), root);
    // Migrating again adds nothing.
    assert_eq!(ledger_db::backfill_tree(&db.conn).await.unwrap(), 0);
}

async fn drop_tree_triggers(db: &TestDb) {
    let stmts: &[&str] = if db.is_postgres() {
        &[
            "DROP TRIGGER tlog_hashes_no_update_delete ON tlog_hashes",
            "DROP TRIGGER tlog_hashes_no_truncate ON tlog_hashes",
            "DROP TRIGGER ledger_entries_no_update_delete ON ledger_entries",
        ]
    } else {
        &[
            "DROP TRIGGER tlog_hashes_no_update",
            "DROP TRIGGER tlog_hashes_no_delete",
            "DROP TRIGGER ledger_entries_no_update",
        ]
    };
    for s in stmts {
        db.conn
            .execute_raw(Statement::from_string(
                db.conn.get_database_backend(),
                (*s).to_owned(),
            ))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn checkpoints_verify_with_their_key_and_serve_starts_only_with_that_key() {
    let db = TestDb::new().await;
    append(&db, 0, 3).await;
    let log = log_config("ipxfer.example.net", vec![]);
    let c = ipxfer::services::tlog::sign_if_grown(&db.conn, &log, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.size, 3);
    // Not grown: nothing new.
    assert!(
        ipxfer::services::tlog::sign_if_grown(&db.conn, &log, now())
            .await
            .unwrap()
            .is_none()
    );
    let v = tlog::verify_checkpoint(&c.published(), &log.verifier(), &[]).unwrap();
    assert_eq!(v.root, mth(&leaf_hashes(&db).await));
    let other = log_config("ipxfer.example.net", vec![]);
    assert!(tlog::verify_checkpoint(&c.published(), &other.verifier(), &[]).is_err());
    ipxfer::services::tlog::check_key(&db.conn, &log)
        .await
        .unwrap();
    let err = ipxfer::services::tlog::check_key(&db.conn, &other)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("latest checkpoint (tree size 3)"), "{err}");
    // Every checkpoint is kept.
    append(&db, 3, 2).await;
    ipxfer::services::tlog::sign_if_grown(&db.conn, &log, now())
        .await
        .unwrap();
    assert!(tlog_db::checkpoint_at(&db.conn, 3).await.unwrap().is_some());
    assert_eq!(
        tlog_db::latest_checkpoint(&db.conn)
            .await
            .unwrap()
            .unwrap()
            .size,
        5
    );
}

#[tokio::test]
async fn tiles_are_public_and_full_tiles_are_cached_for_good() {
    let db = TestDb::new().await;
    let (status, _, _) = get(&db, "/tlog/checkpoint").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    append(&db, 0, 300).await;
    let log = log_config("ipxfer.example.net", vec![]);
    ipxfer::services::tlog::sign_if_grown(&db.conn, &log, now())
        .await
        .unwrap();
    let (status, cache, body) = get(&db, "/tlog/checkpoint").await;
    assert_eq!(status, StatusCode::OK);
    assert!(cache.unwrap().contains("max-age=5"));
    let note = String::from_utf8(body).unwrap();
    assert!(note.starts_with("ipxfer.example.net\n300\n"), "{note}");
    let leaves = leaf_hashes(&db).await;
    // A full level-0 tile: 256 leaf hashes, immutable.
    let (status, cache, body) = get(&db, "/tlog/tile/0/000").await;
    assert_eq!(status, StatusCode::OK);
    assert!(cache.unwrap().contains("immutable"));
    assert_eq!(tlog::decode_hash_tile(&body).unwrap(), leaves[..256]);
    // The partial tile after it, and the level-1 tile whose one hash is the first 256 leaves'.
    let (_, cache, body) = get(&db, "/tlog/tile/0/001.p/44").await;
    assert!(!cache.unwrap().contains("immutable"));
    assert_eq!(tlog::decode_hash_tile(&body).unwrap(), leaves[256..]);
    let (_, _, body) = get(&db, "/tlog/tile/1/000.p/1").await;
    assert_eq!(
        tlog::decode_hash_tile(&body).unwrap(),
        vec![mth(&leaves[..256])]
    );
    // Entry bundles hold each entry's canonical bytes.
    let (_, _, body) = get(&db, "/tlog/tile/entries/001.p/44").await;
    let entries = tlog::decode_entry_bundle(&body).unwrap();
    assert_eq!(entries.len(), 44);
    assert_eq!(tlog::leaf_hash(&entries[0]), leaves[256]);
    // Beyond the checkpoint, or malformed: not found.
    for uri in [
        "/tlog/tile/0/001",
        "/tlog/tile/0/001.p/45",
        "/tlog/tile/entries/002.p/1",
        "/tlog/tile/0/1",
        "/tlog/tile/99/000",
        "/tlog/tile/0/000.p/0",
    ] {
        assert_eq!(get(&db, uri).await.0, StatusCode::NOT_FOUND, "{uri}");
    }
}

#[tokio::test]
async fn witnesses_cosign_consistent_checkpoints_and_refuse_a_rewrite() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let mut log = log_config("ipxfer.example.net", vec![]);
    let a = start_witness("witness.arin", &log, dir.path()).await;
    let b = start_witness("witness.ripencc", &log, dir.path()).await;
    log.witnesses = vec![a.clone(), b.clone()];
    append(&db, 0, 10).await;
    let r = ipxfer::services::tlog::round(&db.conn, &log, now())
        .await
        .unwrap();
    assert_eq!(r.signed, Some(10));
    assert_eq!(r.cosigned_by, ["witness.arin", "witness.ripencc"]);
    append(&db, 10, 7).await;
    let r = ipxfer::services::tlog::round(&db.conn, &log, now())
        .await
        .unwrap();
    assert_eq!((r.signed, r.cosigned_by.len()), (Some(17), 2));
    let latest = tlog_db::latest_checkpoint(&db.conn).await.unwrap().unwrap();
    let v = tlog::verify_checkpoint(
        &latest.published(),
        &log.verifier(),
        &log.witness_verifiers(),
    )
    .unwrap();
    assert_eq!(v.cosigned_by.len(), 2);
    // Nothing new: nothing to sign or send.
    let r = ipxfer::services::tlog::round(&db.conn, &log, now())
        .await
        .unwrap();
    assert_eq!(r, Default::default());

    // A checkpoint of a different history of 20 entries, signed with the real key: the witness
    // cannot tie it to the 17 it cosigned and refuses, and keeps 17.
    let mut other: Vec<Hash> = leaf_hashes(&db).await;
    other[4] = tlog::leaf_hash(b"rewritten");
    other.extend((0..3).map(|i: u8| tlog::leaf_hash(&[i])));
    let mut hashes = tlog::Hashes::default();
    tlog::append_leaves(0, &mut hashes, other.iter().copied()).unwrap();
    let forged = tlog::AddCheckpoint {
        old_size: 17,
        proof: tlog::consistency_proof(20, 17, &hashes).unwrap(),
        checkpoint: log.signer.sign_checkpoint(20, mth(&other)).unwrap(),
    };
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{}/add-checkpoint", a.url))
        .body(forged.encode())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    // An old size the witness has moved past: 409 with the size it has.
    let stale = tlog::AddCheckpoint {
        old_size: 10,
        ..forged
    };
    let res = client
        .post(format!("{}/add-checkpoint", a.url))
        .body(stale.encode())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 409);
    assert_eq!(res.text().await.unwrap(), "17\n");
}

#[tokio::test]
async fn signed_bundles_verify_and_truncation_or_relabelling_fails() {
    let db = TestDb::new().await;
    append(&db, 0, 12).await;
    let log = log_config("ipxfer.example.net", vec![]);
    let export = |filter: LedgerFilter| {
        let (db, log) = (&db, &log);
        async move {
            let mut sink = WriteSink(Vec::new());
            export::bundle(
                &db.conn,
                &mut sink,
                &filter,
                String::new(),
                now(),
                Some(log),
            )
            .await
            .unwrap();
            String::from_utf8(sink.0).unwrap()
        }
    };
    let k = keys(&log);
    let complete = export(LedgerFilter::default()).await;
    let (check, c) = bundle::verify_lines_with(complete.lines(), Some(&k)).unwrap();
    assert_eq!((check.count(), c.unwrap().checkpoint.size), (12, 12));

    let lines: Vec<&str> = complete.lines().collect();
    // The last entry removed (the signature kept).
    let mut cut = lines.clone();
    cut.remove(cut.len() - 2);
    let err = bundle::verify_lines_with(cut.iter(), Some(&k)).unwrap_err();
    assert!(err.contains("are not the 12 entries"), "{err}");
    // The last entry and the signature removed.
    let err = bundle::verify_lines_with(lines[..lines.len() - 2].iter(), Some(&k)).unwrap_err();
    assert!(err.contains("are not the 12 entries"), "{err}");
    // Relabelled as filtered: the entries carry no proofs, and the signature covers the header.
    let relabelled = complete.replacen("\"complete\":true", "\"complete\":false", 1);
    let err = bundle::verify_lines_with(relabelled.lines(), Some(&k)).unwrap_err();
    assert!(err.contains("inclusion proof"), "{err}");
    // Another key: refused.
    let other = keys(&log_config("ipxfer.example.net", vec![]));
    assert!(bundle::verify_lines_with(complete.lines(), Some(&other)).is_err());

    // A filtered bundle proves each entry; removing one breaks the signature.
    let filtered = export(LedgerFilter {
        registry: Some(Rir::Apnic),
        ..Default::default()
    })
    .await;
    let (check, _) = bundle::verify_lines_with(filtered.lines(), Some(&k)).unwrap();
    assert_eq!(check.count(), 6);
    let mut fewer: Vec<&str> = filtered.lines().collect();
    fewer.remove(3);
    let err = bundle::verify_lines_with(fewer.iter(), Some(&k)).unwrap_err();
    assert!(err.contains("signature does not cover"), "{err}");
    let relabelled = filtered.replacen("\"complete\":false", "\"complete\":true", 1);
    assert!(bundle::verify_lines_with(relabelled.lines(), Some(&k)).is_err());
}

#[tokio::test]
async fn the_command_line_verifies_a_bundle_against_the_vkey_offline() {
    let db = TestDb::new().await;
    append(&db, 0, 5).await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("log.key");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ipxfer"))
        .args([
            "log-key",
            "generate",
            "--log-origin",
            "ipxfer.example.net",
            "-o",
        ])
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vkey = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(vkey.starts_with("ipxfer.example.net+"), "{vkey}");
    let bundle_path = dir.path().join("b.jsonl");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ipxfer"))
            .args(args)
            .env("DATABASE_URL", &db.url)
            .env("IPXFER_LOG_KEY", &key)
            .env("IPXFER_LOG_ORIGIN", "ipxfer.example.net")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let b = bundle_path.to_str().unwrap();
    let (ok, text) = run(&["export", "bundle", "-o", b]);
    assert!(ok, "{text}");
    let (ok, text) = run(&["ledger", "verify", "--file", b, "--vkey", &vkey]);
    assert!(ok, "{text}");
    assert!(text.contains("tree size 5"), "{text}");
    let content = std::fs::read_to_string(&bundle_path).unwrap();
    let mut lines: Vec<&str> = content.lines().collect();
    lines.remove(lines.len() - 2);
    std::fs::write(&bundle_path, lines.join("\n")).unwrap();
    let (ok, text) = run(&["ledger", "verify", "--file", b, "--vkey", &vkey]);
    assert!(!ok && text.contains("not the 5 entries"), "{text}");
}

/// The demo's data, and a log for it with `witnesses` started (their state in `dir`).
async fn demo_with_log(
    witnesses: &[&str],
    dir: &std::path::Path,
) -> (TestDb, ipxfer::config::Settings, LogConfig) {
    let db = TestDb::new().await;
    let settings = ipxfer::config::Settings::default();
    ipxfer::services::demo::seed(&db.conn, &settings, now())
        .await
        .unwrap();
    let mut log = log_config("ipxfer.demo", vec![]);
    for name in witnesses {
        let started = start_witness(name, &log, dir).await;
        log.witnesses.push(started);
    }
    (db, settings, log)
}

#[tokio::test]
async fn every_demo_entry_proves_its_inclusion_and_the_ledger_page_shows_the_witnesses() {
    let dir = tempfile::tempdir().unwrap();
    let witnesses = ["witness.arin.demo", "witness.ripencc.demo"];
    let (db, settings, log) = demo_with_log(&witnesses, dir.path()).await;
    let r = ipxfer::services::tlog::round(&db.conn, &log, now())
        .await
        .unwrap();
    let size = r.signed.unwrap();
    assert!(size > 0);
    assert_eq!(r.cosigned_by.len(), 2);
    let c = tlog_db::latest_checkpoint(&db.conn).await.unwrap().unwrap();
    let root = tlog::verify_checkpoint(&c.published(), &log.verifier(), &[])
        .unwrap()
        .root;
    // The ledger browser's read (one statement on SQLite) gives the page and the checkpoint,
    // cosignatures and all, as each read alone does.
    {
        use ipxfer::db::ledger_query::{self, Direction};
        let filter = ipxfer::domain::export::LedgerFilter::default();
        let (entries, latest) =
            ledger_query::page_with_checkpoint(&db.conn, &filter, None, Direction::Backward, 4)
                .await
                .unwrap();
        assert_eq!(
            entries,
            ledger_query::page(&db.conn, &filter, None, Direction::Backward, 4)
                .await
                .unwrap()
        );
        assert_eq!(entries.first().map(|e| e.seq), Some(size as i64));
        assert_eq!(latest.as_ref(), Some(&c));
        assert_eq!(c.cosignatures.len(), 2);
        // Past the oldest entry the page is empty; the checkpoint is still read.
        let (none, latest) =
            ledger_query::page_with_checkpoint(&db.conn, &filter, Some(1), Direction::Backward, 4)
                .await
                .unwrap();
        assert!(none.is_empty());
        assert_eq!(latest.as_ref(), Some(&c));
    }
    for seq in 1..=size as i64 {
        let p = ipxfer::services::tlog::inclusion(&db.conn, seq)
            .await
            .unwrap()
            .unwrap();
        let e = ipxfer::db::ledger_query::entry(&db.conn, seq)
            .await
            .unwrap()
            .unwrap();
        let leaf = tlog::leaf_hash(&tlog::leaf_data(&e));
        assert_eq!(p.leaf_hash, leaf);
        tlog::check_inclusion(&p.proof, size, root, seq as u64 - 1, leaf).unwrap();
    }

    let state = AppState::new(db.conn.clone(), settings).with_log(Arc::new(log));
    let mut b = crate::browser::Browser::with_state(state);
    let login = b
        .post(
            "/login",
            &[
                ("email", "auditor@ipxfer.example"),
                ("password", ipxfer::services::demo::DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    let page = b.get("/ledger").await;
    page.assert_ok();
    let text = page.text("#checkpoint");
    assert!(text.contains(&format!("{size} entries")), "{text}");
    assert_eq!(
        page.texts("#checkpoint .witness"),
        ["witness.arin.demo", "witness.ripencc.demo"]
    );
    let entry = b.get("/ledger/1").await;
    entry.assert_ok();
    assert!(
        entry.text("#inclusion").contains("leaf index 0"),
        "{}",
        entry.text("#inclusion")
    );
    let proof = b.get("/ledger/1/proof").await;
    proof.assert_ok();
    assert!(proof.body.starts_with("ipxfer.demo\n"), "{}", proof.body);
}

#[tokio::test]
async fn an_operator_who_rewrites_history_passes_ledger_verify_but_not_the_monitor() {
    let db = TestDb::new().await;
    let url = serve(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("monitor.json");
    let mut log = log_config("ipxfer.example.net", vec![]);
    log.witnesses = vec![start_witness("witness.arin", &log, dir.path()).await];
    append(&db, 0, 6).await;
    ipxfer::services::tlog::round(&db.conn, &log, now())
        .await
        .unwrap();
    let k = keys(&log);
    let first = monitor::run(&url, &k, &state).await.unwrap();
    assert_eq!(
        (first.previous_size, first.size, first.new_entries),
        (0, 6, 6)
    );
    append(&db, 6, 300).await;
    ipxfer::services::tlog::round(&db.conn, &log, now())
        .await
        .unwrap();
    let second = monitor::run(&url, &k, &state).await.unwrap();
    assert_eq!((second.previous_size, second.size), (6, 306));
    assert!(
        second.summary().contains("cosigned by witness.arin"),
        "{}",
        second.summary()
    );

    // The operator changes entry 3, recomputes the chain after it and the whole tree, and signs
    // a new checkpoint with the real key.
    drop_tree_triggers(&db).await;
    let backend = db.conn.get_database_backend();
    let exec = |s: String| db.conn.execute_raw(Statement::from_string(backend, s));
    exec("UPDATE ledger_entries SET recipient_org_name = 'Mallory' WHERE seq = 3".into())
        .await
        .unwrap();
    let mut prev = ledger::GENESIS_HASH.to_owned();
    for mut e in ledger_db::page_after(&db.conn, 0, 1_000).await.unwrap() {
        e.prev_hash = prev.clone();
        e.hash = ledger::entry_hash(e.seq, &e.movement, e.recorded_at, &prev);
        exec(format!(
            "UPDATE ledger_entries SET prev_hash = '{}', hash = 'x{}' WHERE seq = {}",
            e.prev_hash, e.seq, e.seq
        ))
        .await
        .unwrap();
        prev = e.hash;
    }
    // (Hashes are unique: set the final ones in a second pass.)
    let mut prev = ledger::GENESIS_HASH.to_owned();
    for e in ledger_db::page_after(&db.conn, 0, 1_000).await.unwrap() {
        let hash = ledger::entry_hash(e.seq, &e.movement, e.recorded_at, &prev);
        exec(format!(
            "UPDATE ledger_entries SET hash = '{hash}' WHERE seq = {}",
            e.seq
        ))
        .await
        .unwrap();
        prev = hash;
    }
    exec("DELETE FROM tlog_hashes".into()).await.unwrap();
    ledger_db::backfill_tree(&db.conn).await.unwrap();
    append(&db, 306, 2).await;
    let r = ipxfer::services::tlog::round(&db.conn, &log, now())
        .await
        .unwrap();
    assert_eq!(r.signed, Some(308));
    // The witness refuses to cosign the rewritten history.
    assert!(r.cosigned_by.is_empty());

    // The database alone still verifies...
    let v = ipxfer::services::ledger::verify(&db.conn).await.unwrap();
    assert!(v.is_intact(), "{}", v.summary());
    // ...but the monitor, with the checkpoint it saved before, names where history diverged.
    let k = BundleKeys { quorum: 0, ..k };
    let err = monitor::run(&url, &k, &state)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("rewritten") && err.contains("tree size 3 "),
        "{err}"
    );
    // A fresh monitor, which never saw the old history, finds nothing to compare.
    let fresh = dir.path().join("fresh.json");
    assert_eq!(monitor::run(&url, &k, &fresh).await.unwrap().size, 308);
}

/// The whole ledger's page is kept between views (`web::cache::ledger_page`) and read again
/// after each append and each new checkpoint; its key moves with a cosignature added to the
/// latest checkpoint too (`db::freshness::ledger_page_key`). A filtered page is read each time.
#[tokio::test]
async fn the_kept_ledger_page_shows_each_append_and_checkpoint_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (db, settings, log) = demo_with_log(&["witness.arin.demo"], dir.path()).await;
    let log = Arc::new(log);
    let state = AppState::new(db.conn.clone(), settings).with_log(log.clone());
    let mut b = crate::browser::Browser::with_state(state);
    b.sign_in_with(
        "auditor@ipxfer.example",
        ipxfer::services::demo::DEMO_PASSWORD,
    )
    .await;
    let newest = |page: &crate::browser::Page| page.texts("#entries tbody tr")[0].clone();
    let first = b.get("/ledger").await;
    let before = first.text("#checkpoint");
    assert!(!before.contains("witness.arin.demo"), "{before}");
    let head = ledger_db::head(&db.conn).await.unwrap().unwrap().seq;
    assert!(newest(&first).starts_with(&format!("Entry {head} ")));

    append(&db, 900, 1).await;
    let page = b.get("/ledger").await;
    assert!(
        newest(&page).starts_with(&format!("Entry {} ", head + 1)),
        "{}",
        newest(&page)
    );
    let filtered = b.get("/ledger?registry=ARIN").await;
    filtered.assert_ok();

    let round = ipxfer::services::tlog::round(&db.conn, &log, now())
        .await
        .unwrap();
    assert_eq!(round.signed, Some(head as u64 + 1));
    let page = b.get("/ledger").await;
    let text = page.text("#checkpoint");
    assert!(text.contains(&format!("{} entries", head + 1)), "{text}");
    assert_eq!(page.texts("#checkpoint .witness"), ["witness.arin.demo"]);

    let page_key = || async {
        ipxfer::db::freshness::ledger_page_key(&db.conn)
            .await
            .unwrap()
    };
    let key = page_key().await;
    let c = tlog_db::latest_checkpoint(&db.conn).await.unwrap().unwrap();
    // The same cosignature twice: the second time writes nothing, so the kept page stays kept.
    let mut keys = Vec::new();
    for _ in 0..2 {
        tlog_db::add_cosignatures(&db.conn, c.id, &["— witness.other abc=\n".to_owned()])
            .await
            .unwrap();
        keys.push(page_key().await);
    }
    let (cosigned, again) = (&keys[0], &keys[1]);
    assert_ne!(cosigned, &key, "a cosignature added");
    assert_eq!(again, cosigned, "the same cosignature again");
}
