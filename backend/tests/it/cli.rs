//! The `ipxfer` binary as a user runs it.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::harness::{TestDb, fixture};

fn ipxfer(db: &TestDb, args: &[&str]) -> (bool, String, String) {
    ipxfer_with_input(db, args, "")
}

/// Runs `ipxfer` on the test database with `input` on standard input: (success, stdout, stderr).
pub fn ipxfer_with_input(db: &TestDb, args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipxfer"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ipxfer");
    child
        .stdin
        .take()
        .expect("a pipe")
        .write_all(input.as_bytes())
        .expect("write standard input");
    let out = child.wait_with_output().expect("wait for ipxfer");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn import_then_stats_json_reports_the_files_totals() {
    let db = TestDb::new().await;
    let afrinic = fixture("excerpts-2019/delegated-afrinic-extended-2019-excerpt");
    let (ok, out, err) = ipxfer(&db, &["import", "delegated", afrinic.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.starts_with("AFRINIC: "), "{out}");
    let (ok, out, _) = ipxfer(&db, &["import", "delegated", afrinic.to_str().unwrap()]);
    assert!(ok);
    assert!(out.contains("already imported; nothing changed"), "{out}");
    let log = fixture("transfers-arin-sample.json");
    let (ok, out, err) = ipxfer(&db, &["import", "transfers", log.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("2 ledger entries added"), "{out}");
    assert!(err.contains("skipped"), "{err}");

    let (ok, out, err) = ipxfer(&db, &["stats", "--json"]);
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["registries"]["AFRINIC"]["holdings"], 100);
    assert_eq!(json["registries"]["AFRINIC"]["ipv4_addresses"], 4_917_248);
    assert_eq!(json["registries"]["RIPE NCC"]["holdings"], 0);
    assert_eq!(json["ledger"]["imported"], 2);
    assert_eq!(json["ledger"]["transfer"], 0);

    let (ok, out, _) = ipxfer(&db, &["ledger", "verify"]);
    assert!(ok);
    assert!(out.starts_with("verified: 2 entries, head hash "), "{out}");
}

#[tokio::test]
async fn expiry_runs_from_the_command_line() {
    let db = TestDb::new().await;
    let (ok, out, err) = ipxfer(&db, &["expire"]);
    assert!(ok, "{err}");
    assert_eq!(out, "0 transfers expired\n");
}

#[tokio::test]
async fn a_missing_file_is_a_clear_error() {
    let db = TestDb::new().await;
    let (ok, _, err) = ipxfer(&db, &["import", "delegated", "/nonexistent/delegated-file"]);
    assert!(!ok);
    assert!(
        err.contains("cannot read /nonexistent/delegated-file"),
        "{err}"
    );
}

#[tokio::test]
async fn a_base_url_that_is_not_http_is_refused_before_anything_runs() {
    let db = TestDb::new().await;
    let (ok, _, err) = ipxfer(&db, &["--base-url", "ipxfer.example.net", "expire"]);
    assert!(!ok);
    assert!(
        err.contains("must be an http:// or https:// address"),
        "{err}"
    );
}
