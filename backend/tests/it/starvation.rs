//! No client can starve the site (issue 11): slow readers of every export, anonymous and
//! signed-in, hold no database connection, extra long exports are turned away with a 503 and
//! `Retry-After`, and pages, sign-in's health check and the ledger keep answering. It asserts
//! that they answer, never how fast.

use std::time::Duration;

use ipxfer::config::Settings;
use ipxfer::services::demo::DEMO_PASSWORD;
use ipxfer::services::scale::Scale;
use ipxfer::web::{AppState, router, spool};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::browser::Browser;
use crate::harness::TestDb;

/// Sends a GET and returns the connection after reading only the first bytes of the answer
/// (a client that reads no further), with those bytes.
async fn slow_reader(addr: std::net::SocketAddr, path: &str, cookie: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nCookie: {cookie}\r\n\r\n");
    s.write_all(request.as_bytes()).await.unwrap();
    let mut head = vec![0; 512];
    let n = s.read(&mut head).await.unwrap();
    head.truncate(n);
    (s, String::from_utf8_lossy(&head).into_owned())
}

/// A whole GET: the status line and headers of the answer, read to the end.
async fn fetch(addr: std::net::SocketAddr, path: &str, cookie: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: test\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).await.unwrap();
    let text = String::from_utf8_lossy(&all).into_owned();
    text.split("\r\n\r\n").next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn slow_readers_of_every_export_do_not_starve_pages() {
    // Enough ledger for every export to be far larger than the sockets' buffers.
    let db = TestDb::with_scale(Scale {
        holdings: 1_000,
        ledger: 20_000,
        finalized: 2,
        open: 10,
        members: 10,
        seed: 11,
    })
    .await;
    let exports_db =
        ipxfer::db::connect_pool(&db.url, spool::EXPORT_SLOTS, ipxfer::db::DEFAULT_SLOW)
            .await
            .unwrap();
    let state = AppState::new(db.conn.clone(), Settings::default()).with_export_db(exports_db);
    let mut auditor = Browser::with_state(state.clone());
    auditor
        .sign_in_with("auditor@scale.example", DEMO_PASSWORD)
        .await;
    let cookie = auditor.cookie_value().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, router(state)).await.unwrap();
    });

    let mut stalled = Vec::new();
    // Eight anonymous readers of the public log, more than the pool's connections.
    for _ in 0..8 {
        let (s, head) = slow_reader(addr, "/stats/transfers_latest.json", "").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        stalled.push(s);
    }
    // Every long export of an auditor, read slowly: as many as there are slots are served, the
    // rest are asked to come back later.
    let mut served = 0;
    for format in [
        "nro-4.0",
        "nro-5.0",
        "csv",
        "bundle",
        "delegated&registry=arin",
    ] {
        let (s, head) =
            slow_reader(addr, &format!("/ledger/export?format={format}"), &cookie).await;
        if head.starts_with("HTTP/1.1 200") {
            served += 1;
            stalled.push(s);
        } else {
            assert!(head.starts_with("HTTP/1.1 503"), "{format}: {head}");
            assert!(
                head.to_lowercase().contains("retry-after: 30"),
                "{format}: {head}"
            );
        }
    }
    assert_eq!(served, spool::EXPORT_SLOTS);

    // Meanwhile every kind of page answers, repeatedly.
    for _ in 0..3 {
        for (path, cookie) in [
            ("/healthz", ""),
            ("/login", ""),
            ("/", ""),
            ("/ledger", cookie.as_str()),
            ("/stats", cookie.as_str()),
            ("/stats/transfers_latest.json", ""),
        ] {
            let head = fetch(addr, path, cookie).await;
            assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
        }
    }
    // The sender worker's claim of the outbox needs a connection too.
    ipxfer::services::outbox::failed(&db.conn, 10)
        .await
        .unwrap();
    drop(stalled);
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.abort();
}
