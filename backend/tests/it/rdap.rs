//! The public RDAP service through the router: RFC 9083 members of each object, the media type
//! and CORS header on every answer, transfer events for a transferred block, inventory space,
//! entities, help, and RDAP error objects (400, 404, 501, never 422 or an HTML page) for bad
//! queries. What a lookup costs is checked in statements as the ledger and holdings grow.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use ipxfer::config::Settings;
use ipxfer::services::import::{self, NoProgress};
use ipxfer::services::scale::Scale;
use ipxfer::services::transfers::Command;
use ipxfer::web::{AppState, router};
use serde_json::Value;
use tower::ServiceExt;

use crate::harness::{TestDb, now};
use crate::transfers::World;

/// An RDAP answer as a client reads it.
struct Answer {
    status: StatusCode,
    content_type: String,
    cors: Option<String>,
    /// Whether the answer set a cookie (a session or a form token): it never should.
    sets_cookie: bool,
    json: Value,
}

async fn get_with(state: AppState, uri: &str) -> Answer {
    send(state, "GET", uri).await
}

async fn send(state: AppState, method: &str, uri: &str) -> Answer {
    let res = router(state)
        .oneshot(
            Request::builder()
                .method(method)
                .uri(uri)
                .header(header::ACCEPT, "application/rdap+json")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let header = |name| {
        res.headers()
            .get(name)
            .map(|v: &header::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let content_type = header(header::CONTENT_TYPE).unwrap_or_default();
    let cors = header(header::ACCESS_CONTROL_ALLOW_ORIGIN);
    let sets_cookie = res.headers().contains_key(header::SET_COOKIE);
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    Answer {
        status,
        content_type,
        cors,
        sets_cookie,
        json,
    }
}

async fn get(w: &World, uri: &str) -> Answer {
    get_with(AppState::new(w.db.conn.clone(), Settings::default()), uri).await
}

/// What every RDAP answer carries, objects and errors alike (RFC 7480, RFC 9083 section 4.1).
#[track_caller]
fn assert_rdap(a: &Answer, status: StatusCode) {
    assert_eq!(a.status, status, "{:#}", a.json);
    assert_eq!(a.content_type, "application/rdap+json");
    assert_eq!(a.cors.as_deref(), Some("*"));
    assert!(!a.sets_cookie, "an RDAP answer set a cookie");
    assert_eq!(a.json["rdapConformance"][0], "rdap_level_0", "{:#}", a.json);
    assert!(a.json.get("port43").is_none());
}

/// An RDAP error object (RFC 9083 section 6).
#[track_caller]
fn assert_error(a: &Answer, status: StatusCode) {
    assert_rdap(a, status);
    assert_eq!(a.json["errorCode"], status.as_u16());
    assert!(a.json["title"].is_string());
    assert!(
        !a.json["description"][0]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{:#}",
        a.json
    );
}

fn events(n: &Value, action: &str) -> Vec<Value> {
    n["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["eventAction"] == action)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_transferred_block_answers_with_its_new_holder_and_transfer_event() {
    let w = World::new().await;
    let id = w.ready_to_finalize("20.0.4.0/22").await;
    w.act(&w.arin_hostmaster, id, Command::Finalize)
        .await
        .unwrap();

    for uri in [
        "/rdap/ip/20.0.5.7",
        "/rdap/ip/20.0.4.0/22",
        "/rdap/ip/20.0.6.0/23",
    ] {
        let a = get(&w, uri).await;
        assert_rdap(&a, StatusCode::OK);
        let n = &a.json;
        assert_eq!(n["objectClassName"], "ip network");
        assert_eq!(n["handle"], "20.0.4.0 - 20.0.7.255");
        assert_eq!(n["startAddress"], "20.0.4.0");
        assert_eq!(n["endAddress"], "20.0.7.255");
        assert_eq!(n["ipVersion"], "v4");
        assert_eq!(n["name"], "RIPE-20-0-4-0-22");
        assert_eq!(n["type"], "allocated");
        assert_eq!(n["status"], serde_json::json!(["active"]));
        assert_eq!(n["cidr0_cidrs"][0]["v4prefix"], "20.0.4.0");
        assert_eq!(n["cidr0_cidrs"][0]["length"], 22);
        // Cut from ARIN's 20.0.0.0/20 when it was transferred.
        assert_eq!(n["parentHandle"], "20.0.0.0 - 20.0.15.255");
        let link = &n["links"][0];
        assert_eq!(link["rel"], "self");
        assert_eq!(link["href"], "http://127.0.0.1:8080/rdap/ip/20.0.4.0/22");
        assert_eq!(link["value"], format!("http://127.0.0.1:8080{uri}"));

        // The holder: registrant, name and country only.
        let holder = &n["entities"][0];
        assert_eq!(holder["objectClassName"], "entity");
        assert_eq!(holder["handle"], "ripe-holder-RIPE");
        assert_eq!(holder["roles"], serde_json::json!(["registrant"]));
        let vcard = holder["vcardArray"][1].as_array().unwrap();
        let props: Vec<&str> = vcard.iter().map(|p| p[0].as_str().unwrap()).collect();
        assert_eq!(props, ["version", "fn", "kind", "adr"]);
        assert_eq!(vcard[1][3], "RIPE NCC holder ripe-holder");
        assert_eq!(vcard[3][1]["cc"], "NL");

        // Registration (the registry's original date), the transfer, the last change.
        assert_eq!(
            events(n, "registration")[0]["eventDate"],
            "2010-01-01T00:00:00Z"
        );
        let transfers = events(n, "transfer");
        assert_eq!(transfers.len(), 1, "{n:#}");
        let moved = &transfers[0];
        assert_eq!(moved["eventDate"], "2026-11-28T12:00:00Z");
        assert_eq!(moved["links"][0]["rel"], "related");
        assert_eq!(moved["links"][0]["href"], "http://127.0.0.1:8080/ledger/1");
        let title = moved["links"][0]["title"].as_str().unwrap();
        assert!(
            title.starts_with("Ledger entry 1: 20.0.4.0/22 from ARIN holder"),
            "{title}"
        );
        assert_eq!(
            events(n, "last changed")[0]["eventDate"],
            "2026-11-28T12:00:00Z"
        );
    }

    // The source keeps the rest of its block, without a transfer of it.
    let rest = get(&w, "/rdap/ip/20.0.0.1").await;
    assert_rdap(&rest, StatusCode::OK);
    assert_eq!(rest.json["handle"], "20.0.0.0 - 20.0.3.255");
    assert_eq!(rest.json["entities"][0]["handle"], "arin-holder-ARIN");
    assert_eq!(rest.json["country"], "US");
    assert!(events(&rest.json, "transfer").is_empty());
    assert!(rest.json.get("parentHandle").is_none());
}

#[tokio::test]
async fn inventory_space_answers_with_its_registry_as_holder() {
    let w = World::new().await;
    let lacnic = "2|lacnic|20230323|3|19870101|20230323|-0300\n\
                  lacnic|BR|ipv4|45.4.0.0|1024|20150101|allocated|lacnic-holder\n\
                  lacnic||ipv4|24.152.20.0|1024||reserved|\n\
                  lacnic|ZZ|ipv4|45.5.0.0|4096|20220101|available|\n";
    import::import_delegated(&w.db.conn, lacnic.as_bytes(), now(), &NoProgress)
        .await
        .unwrap();

    let reserved = get(&w, "/rdap/ip/24.152.21.9").await;
    assert_rdap(&reserved, StatusCode::OK);
    assert_eq!(reserved.json["handle"], "24.152.20.0 - 24.152.23.255");
    assert_eq!(reserved.json["type"], "reserved");
    assert_eq!(reserved.json["status"], serde_json::json!(["reserved"]));
    let registry = &reserved.json["entities"][0];
    assert_eq!(registry["handle"], "LACNIC");
    assert_eq!(registry["roles"], serde_json::json!(["registrant"]));
    assert_eq!(registry["vcardArray"][1][1][3], "LACNIC");

    let available = get(&w, "/rdap/ip/45.5.0.0/22").await;
    assert_rdap(&available, StatusCode::OK);
    assert_eq!(available.json["type"], "available");
    assert_eq!(available.json["status"], serde_json::json!(["inactive"]));
    assert_eq!(
        events(&available.json, "registration")[0]["eventDate"],
        "2022-01-01T00:00:00Z"
    );

    // A block larger than any one registration is not answered by a part of it.
    assert_error(
        &get(&w, "/rdap/ip/45.4.0.0/15").await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn entities_name_organisations_and_registries_and_nothing_personal() {
    let w = World::new().await;
    for uri in [
        "/rdap/entity/arin-holder-ARIN",
        "/rdap/entity/ARIN-HOLDER-arin",
    ] {
        let a = get(&w, uri).await;
        if uri.contains("ARIN-HOLDER") {
            // Handles are matched as issued or upper-cased, not in any case.
            assert_error(&a, StatusCode::NOT_FOUND);
            continue;
        }
        assert_rdap(&a, StatusCode::OK);
        assert_eq!(a.json["objectClassName"], "entity");
        assert_eq!(a.json["handle"], "arin-holder-ARIN");
        assert_eq!(
            a.json["links"][0]["href"],
            "http://127.0.0.1:8080/rdap/entity/arin-holder-ARIN"
        );
        let text = a.json.to_string();
        for personal in ["email", "tel", "@"] {
            assert!(!text.contains(personal), "{personal} in {text}");
        }
    }
    let ripe = get(&w, "/rdap/entity/RIPE-NCC").await;
    assert_rdap(&ripe, StatusCode::OK);
    assert_eq!(ripe.json["vcardArray"][1][1][3], "RIPE NCC");

    let help = get(&w, "/rdap/help").await;
    assert_rdap(&help, StatusCode::OK);
    assert!(
        help.json["notices"][0]["description"]
            .as_array()
            .unwrap()
            .len()
            > 1
    );
}

#[tokio::test]
async fn bad_queries_get_rdap_errors_never_pages_or_422() {
    let w = World::new().await;
    for (uri, status) in [
        ("/rdap/ip/20.0.0.256", StatusCode::BAD_REQUEST),
        ("/rdap/ip/020.0.0.1", StatusCode::BAD_REQUEST),
        ("/rdap/ip/not-an-address", StatusCode::BAD_REQUEST),
        ("/rdap/ip/20.0.0.1/33", StatusCode::BAD_REQUEST),
        ("/rdap/ip/20.0.0.1/24", StatusCode::BAD_REQUEST),
        ("/rdap/ip/20.0.0.0/x", StatusCode::BAD_REQUEST),
        ("/rdap/ip/%FF%FE", StatusCode::BAD_REQUEST),
        ("/rdap/ip/20.0.0.0/24/7", StatusCode::BAD_REQUEST),
        (
            &format!("/rdap/ip/{}", "1".repeat(5000)),
            StatusCode::BAD_REQUEST,
        ),
        ("/rdap/entity/%00", StatusCode::NOT_FOUND),
        ("/rdap/entity/nobody-ARIN", StatusCode::NOT_FOUND),
        ("/rdap/entity/nobody", StatusCode::NOT_FOUND),
        ("/rdap/ip/198.51.100.1", StatusCode::NOT_FOUND),
        ("/rdap/ip/2001:db8::1", StatusCode::NOT_FOUND),
        ("/rdap/ip/2001:db8::/32", StatusCode::NOT_FOUND),
        ("/rdap/ip/20.0.0.0/8", StatusCode::NOT_FOUND),
        ("/rdap/autnum/64496", StatusCode::NOT_IMPLEMENTED),
        ("/rdap/domain/example.net", StatusCode::NOT_IMPLEMENTED),
        ("/rdap/", StatusCode::BAD_REQUEST),
        ("/rdap", StatusCode::BAD_REQUEST),
        ("/rdap/whois", StatusCode::BAD_REQUEST),
    ] {
        let a = get(&w, uri).await;
        assert_error(&a, status);
    }
    let state = AppState::new(w.db.conn.clone(), Settings::default());
    let a = send(state, "DELETE", "/rdap/ip/20.0.0.1").await;
    assert_error(&a, StatusCode::METHOD_NOT_ALLOWED);
}

/// A database with the scale data set: `holdings` holdings (a /24 each, in one /8 per registry;
/// ARIN's is 24.0.0.0/8) and `ledger` historic transfers over them.
async fn scale_db(holdings: u64, ledger: u64) -> TestDb {
    TestDb::with_scale(Scale {
        holdings,
        ledger,
        finalized: 5,
        open: 10,
        members: 10,
        seed: 11,
    })
    .await
}

/// Statements one RDAP query issues, on a scale data set of `holdings` holdings and `ledger`
/// ledger entries.
async fn statements_per_query(holdings: u64, ledger: u64) -> Vec<(String, usize)> {
    let db = scale_db(holdings, ledger).await;
    let count = Arc::new(AtomicUsize::new(0));
    let mut conn = ipxfer::db::connect(&db.url).await.unwrap();
    let counter = count.clone();
    conn.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let state = AppState::new(conn, Settings::default());
    let mut out = Vec::new();
    for uri in [
        "/rdap/ip/24.0.0.1",
        "/rdap/ip/24.0.0.0/24",
        "/rdap/ip/198.51.100.1",
        "/rdap/entity/ARIN",
        "/rdap/entity/arin-member-0-ARIN",
    ] {
        count.store(0, Ordering::SeqCst);
        let a = get_with(state.clone(), uri).await;
        assert!(a.status.is_success() || a.status == StatusCode::NOT_FOUND);
        out.push((uri.to_owned(), count.load(Ordering::SeqCst)));
    }
    out
}

#[tokio::test]
async fn a_query_costs_the_same_statements_however_large_the_ledger() {
    let small = statements_per_query(500, 30).await;
    let large = statements_per_query(2_000, 300).await;
    assert_eq!(small, large, "statements per RDAP query");
    eprintln!("statements per RDAP query: {large:?}");
    for (uri, n) in &large {
        assert!(*n <= 8, "{uri} issues {n} statements");
    }
}

#[tokio::test]
async fn unread_answers_hold_no_database_connection() {
    let w = World::new().await;
    let id = w.ready_to_finalize("20.0.4.0/22").await;
    w.act(&w.arin_hostmaster, id, Command::Finalize)
        .await
        .unwrap();
    // One connection only: an answer that kept it while its reader is slow would block the next.
    let conn = ipxfer::db::connect_pool(&w.db.url, 1, ipxfer::db::DEFAULT_SLOW)
        .await
        .unwrap();
    let state = AppState::new(conn.clone(), Settings::default());
    let mut unread = Vec::new();
    for uri in [
        "/rdap/ip/20.0.5.7",
        "/rdap/entity/ripe-holder-RIPE",
        "/rdap/ip/198.51.100.1",
    ] {
        let res = router(state.clone())
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        // The whole body is in memory before the first byte is sent: nothing streams from the
        // database.
        assert!(
            axum::body::HttpBody::size_hint(res.body())
                .exact()
                .is_some(),
            "{uri} streams its body"
        );
        unread.push(res);
    }
    conn.ping().await.unwrap();
    let again = get_with(state, "/rdap/ip/20.0.0.1").await;
    assert_rdap(&again, StatusCode::OK);
    drop(unread);
}

/// The query plans of the statements one RDAP query issues, one line per step: SQLite's
/// `EXPLAIN QUERY PLAN` (its planner takes an index whenever one applies), PostgreSQL's
/// `EXPLAIN` with sequential scans priced out (so a scan that remains has no index to use).
async fn plans_of(
    uri: &str,
) -> (
    Vec<(String, Vec<String>)>,
    std::collections::HashSet<String>,
) {
    let db = scale_db(500, 30).await;
    let (conn, seen) = crate::harness::recording_connection(&db).await;
    let a = get_with(AppState::new(conn, Settings::default()), uri).await;
    assert!(a.status.is_success() || a.status == StatusCode::NOT_FOUND);
    let statements = seen.lock().unwrap().clone();
    let out = crate::harness::plans_of(&db, statements, &["enable_seqscan"]).await;
    let tables = if db.is_postgres() {
        Default::default()
    } else {
        db.sqlite_tables().await
    };
    (out, tables)
}

#[tokio::test]
async fn queries_read_through_indexes_never_scan_a_table() {
    for uri in [
        "/rdap/ip/24.0.0.1",
        "/rdap/ip/24.0.0.0/24",
        "/rdap/ip/198.51.100.1",
        "/rdap/entity/arin-member-0-ARIN",
    ] {
        let (plans, tables) = plans_of(uri).await;
        for (sql, plan) in plans {
            for (i, step) in plan.iter().enumerate() {
                // SQLite: `SCAN t` of a table reads all of it or of an index
                // (`harness::sqlite_scans_a_table`; the rows of a subquery, such as a page
                // packed into one row, and the R*Tree's index are not). PostgreSQL:
                // `Seq Scan on t`, or an index scan without an index condition (the whole index
                // in order).
                let index_scan = step.contains("Index Scan") || step.contains("Index Only Scan");
                let unbounded = !plan
                    .get(i + 1)
                    .is_some_and(|next| next.starts_with("Index Cond"));
                let full_scan = crate::harness::sqlite_scans_a_table(step, &tables)
                    || step.contains("Seq Scan")
                    || (index_scan && unbounded);
                assert!(!full_scan, "{uri}: {sql}\nplan: {plan:#?}");
            }
        }
    }
}
