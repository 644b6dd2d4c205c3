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

#[tokio::test]
async fn a_public_download_rate_out_of_range_is_refused_before_serving() {
    let db = TestDb::new().await;
    for bad in ["4096", "0.5", "fast"] {
        let (ok, _, err) = ipxfer(&db, &["serve", "--public-download-rate", bad]);
        assert!(!ok, "{bad}");
        assert!(
            err.contains("invalid value") && err.contains("--public-download-rate"),
            "{bad}: {err}"
        );
    }
}

#[tokio::test]
async fn policy_check_lists_the_unconfirmed_values_and_import_origins_sets_them_in_bulk() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let overrides = dir.path().join("policy.toml");
    std::fs::write(&overrides, "[ripencc.minimum_size]\nconfirmed = true\n").unwrap();
    let (ok, out, err) = ipxfer(&db, &["policy", "check", overrides.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("values are configurable defaults, not confirmed against the registry's published policy"), "{out}");
    assert!(
        out.contains("  afrinic inter_rir.enabled: takes part in intra-RIR transfers only"),
        "{out}"
    );
    // The operator confirmed RIPE NCC's minimum: it is no longer listed.
    assert!(!out.contains("ripencc minimum_size"), "{out}");

    let delegated = dir.path().join("arin");
    std::fs::write(
        &delegated,
        "2.3|arin|1|1|19700101|20260101|-0400\narin|US|ipv4|20.0.0.0|4096|20100101|allocated|h1\n",
    )
    .unwrap();
    let (ok, _, err) = ipxfer(&db, &["import", "delegated", delegated.to_str().unwrap()]);
    assert!(ok, "{err}");
    let origins = dir.path().join("origins.csv");
    std::fs::write(
        &origins,
        "range,origin\n20.0.0.0/20,legacy\n20.9.0.0/24,legacy\n",
    )
    .unwrap();
    let (ok, _, err) = ipxfer(&db, &["import", "origins", origins.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("line 3: no holding covers 20.9.0.0/24"),
        "{err}"
    );
    std::fs::write(&origins, "range,origin\n20.0.0.0/20,legacy\n").unwrap();
    let (ok, out, err) = ipxfer(&db, &["import", "origins", origins.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        out.ends_with("1 holdings' origins recorded, 0 already as listed\n"),
        "{out}"
    );
}

/// Commands read "now" from the clock they are given, not the system's: `expire` on a clock a
/// month ahead expires the consent a clock of today leaves waiting.
#[tokio::test]
async fn commands_take_now_from_the_clock_they_are_given() {
    use std::sync::Arc;

    use clap::Parser;
    use ipxfer::cli::{Cli, run_with_clock};
    use ipxfer::clock::ManualClock;
    use ipxfer::db::entities::transfer;
    use sea_orm::EntityTrait;

    let w = crate::transfers::World::new().await;
    let id = w.file("20.0.4.0/22").await.unwrap();
    let expire = || Cli::try_parse_from(["ipxfer", "--database-url", &w.db.url, "expire"]).unwrap();
    let state = || async {
        transfer::Entity::find_by_id(id)
            .one(&w.db.conn)
            .await
            .unwrap()
            .unwrap()
            .state
    };

    let today = Arc::new(ManualClock::at(crate::harness::now()));
    run_with_clock(expire(), today.clone()).await.unwrap();
    assert_ne!(state().await, "expired");

    today.advance(time::Duration::days(31));
    run_with_clock(expire(), today).await.unwrap();
    assert_eq!(state().await, "expired");
}

#[tokio::test]
async fn a_command_with_nothing_to_report_writes_nothing_to_standard_error() {
    let db = TestDb::new().await;
    ipxfer::db::migrate(&db.conn).await.unwrap();
    // Without RUST_LOG: on PostgreSQL the migrator's `CREATE TABLE IF NOT EXISTS` draws notices
    // that sqlx logs as information, four lines before every command's output.
    let out = Command::new(env!("CARGO_BIN_EXE_ipxfer"))
        .args(["ledger", "verify"])
        .env("DATABASE_URL", &db.url)
        .env_remove("RUST_LOG")
        .output()
        .expect("run ipxfer");
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("verified: 0 entries"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
