//! HTTP-level tests through the router.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use ipxfer::web::{AppState, router};
use tower::ServiceExt;

use crate::harness::TestDb;

async fn get(db: &TestDb, uri: &str) -> (StatusCode, String) {
    let app = router(AppState::new(db.conn.clone(), Default::default()));
    let res = app
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn home_page_and_health_check_answer() {
    let db = TestDb::new().await;
    let (status, body) = get(&db, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<h1>IPv4 transfers between registries</h1>"));
    assert!(body.contains("RIPE NCC"));
    let (status, body) = get(&db, "/healthz").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"status":"ok"}"#)
    );
    let (status, body) = get(&db, "/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Page not found"));
}

#[tokio::test]
async fn the_home_page_links_to_what_anyone_may_read_and_how_to_get_an_account() {
    let db = TestDb::new().await;
    let (_, body) = get(&db, "/").await;
    let page = scraper::Html::parse_document(&body);
    let links: Vec<(String, String)> = page
        .select(&scraper::Selector::parse("main a").unwrap())
        .map(|a| {
            (
                a.value().attr("href").unwrap_or_default().to_owned(),
                a.text().collect::<String>(),
            )
        })
        .collect();
    for (href, words) in [
        ("/holdings", "Holdings by registry"),
        ("/stats/transfers_latest.json", "The public transfer log"),
        ("/login", "Sign in"),
    ] {
        assert!(
            links.iter().any(|(h, t)| h == href && t == words),
            "{href} {words}: {links:?}"
        );
    }
    assert!(body.contains("<h2 id=\"accounts\">How to get an account</h2>"));
    assert!(body.contains("Accounts are by invitation"));

    // Both public pages answer without an account.
    let (status, body) = get(&db, "/holdings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<h1>Holdings by registry</h1>"));
    let page = scraper::Html::parse_document(&body);
    let registries: Vec<String> = page
        .select(&scraper::Selector::parse("#registries tbody th").unwrap())
        .map(|th| th.text().collect())
        .collect();
    assert_eq!(
        registries,
        ["AFRINIC", "APNIC", "ARIN", "LACNIC", "RIPE NCC"]
    );
    let (status, _) = get(&db, "/stats/transfers_latest.json").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn every_page_forbids_scripts_framing_and_sniffing() {
    let db = TestDb::new().await;
    let app = router(AppState::new(db.conn.clone(), Default::default()));
    for uri in ["/", "/login", "/no/such/page"] {
        let res = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{uri}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{uri}");
        assert_eq!(h["referrer-policy"], "same-origin", "{uri}");
    }
}

#[tokio::test]
async fn the_public_log_answers_304_to_a_matching_etag_and_sends_gzip() {
    let db = TestDb::new().await;
    let app = router(AppState::new(db.conn.clone(), Default::default()));
    let send = |headers: Vec<(&'static str, String)>| {
        let app = app.clone();
        async move {
            let mut req = Request::get("/stats/transfers_latest.json");
            for (k, v) in headers {
                req = req.header(k, v);
            }
            app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap()
        }
    };
    let first = send(vec![]).await;
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let modified = first.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();
    let plain = first.into_body().collect().await.unwrap().to_bytes();
    assert!(plain.starts_with(b"{"));
    let again = send(vec![("if-none-match", etag.clone())]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let again = send(vec![("if-modified-since", modified)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let other = send(vec![("if-none-match", "\"other\"".to_owned())]).await;
    assert_eq!(other.status(), StatusCode::OK);
    let gz = send(vec![("accept-encoding", "br, gzip".to_owned())]).await;
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let bytes = gz.into_body().collect().await.unwrap().to_bytes();
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain.to_vec());
}
