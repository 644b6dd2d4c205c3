//! What keeps pages quick under load beside the pages themselves: the slow-request and
//! slow-statement warnings (`--slow-ms`) that say where a slow page spent its time, and requests
//! that run to their end when their client leaves (so that a dropped statement never costs the
//! pool a connection). The warnings go through `tracing`; SQLite's statements run on sqlx's
//! worker thread, so the capture is the process's global subscriber (installed once, at WARN,
//! for every test that needs it).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::http::StatusCode;
use ipxfer::config::Settings;
use ipxfer::web::AppState;
use sea_orm::{ConnectionTrait, Statement};

use crate::browser::Browser;
use crate::harness::TestDb;

/// Everything logged at WARN or above since the capture was installed.
fn captured() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        logs
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The captured lines that contain `marker`.
fn lines_with(logs: &Mutex<Vec<u8>>, marker: &str) -> Vec<String> {
    String::from_utf8_lossy(&logs.lock().unwrap())
        .lines()
        .filter(|l| l.contains(marker))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_request_slower_than_the_threshold_is_logged_with_its_path_and_status() {
    let logs = captured();
    let db = TestDb::new().await;
    let slow = AppState {
        slow_requests: Duration::ZERO,
        ..AppState::new(db.conn.clone(), Settings::default())
    };
    let page = Browser::with_state(slow)
        .get("/no-such-page-slow-probe")
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let lines = lines_with(&logs, "/no-such-page-slow-probe");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("WARN")
            && lines[0].contains("slow request")
            && lines[0].contains("method=GET")
            && lines[0].contains("status=404")
            && lines[0].contains(" ms="),
        "{}",
        lines[0]
    );

    // Under the default threshold (a second), a page that answers at once is not logged.
    let page = Browser::new(&db.conn).get("/no-such-page-fast-probe").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(
        lines_with(&logs, "/no-such-page-fast-probe"),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_statement_slower_than_the_threshold_is_logged_with_its_text() {
    let logs = captured();
    let db = TestDb::new().await;
    let every = ipxfer::db::connect_with(&db.url, Duration::ZERO)
        .await
        .unwrap();
    let quick = ipxfer::db::connect(&db.url).await.unwrap();
    for (conn, marker) in [(&every, "slow_probe_4242"), (&quick, "fast_probe_4343")] {
        conn.query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            format!("SELECT 1 AS {marker}"),
        ))
        .await
        .unwrap();
    }
    let lines = lines_with(&logs, "slow_probe_4242");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("WARN") && l.contains("slow statement")),
        "{lines:?}"
    );
    assert_eq!(lines_with(&logs, "fast_probe_4343"), Vec::<String>::new());
}

/// A client that goes away mid-request (wrk at the end of a run, a browser moving on) does not
/// stop the request: it runs to its end on its own task (`web::run_to_completion`), so no
/// statement is dropped halfway (which would make sqlx close that connection) and nothing is
/// left half done. Here: a sign-in with a wrong password, dropped after its first poll, still
/// records the failed attempt that throttling counts.
#[tokio::test]
async fn a_request_whose_client_leaves_still_runs_to_its_end() {
    use ipxfer::db::entities::login_attempt;
    use sea_orm::{EntityTrait, PaginatorTrait};

    let db = TestDb::new().await;
    let mut browser = Browser::new(&db.conn);
    browser
        .post_and_leave(
            "/login",
            &[
                ("email", "nobody@example.net"),
                ("password", "not-the-password"),
            ],
        )
        .await;
    let mut recorded = 0;
    for _ in 0..500 {
        recorded = login_attempt::Entity::find().count(&db.conn).await.unwrap();
        if recorded > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(recorded, 1, "the abandoned sign-in was not recorded");
}

/// The pool's open connections and its size.
fn open_of(conn: &sea_orm::DatabaseConnection) -> (u32, u32) {
    if conn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        let pool = conn.get_postgres_connection_pool();
        (pool.size(), pool.options().get_max_connections())
    } else {
        let pool = conn.get_sqlite_connection_pool();
        (pool.size(), pool.options().get_max_connections())
    }
}

/// `serve` opens its pool's connections at start (`db::open_all`, from `web::warm_caches`), so
/// that its first burst of requests does not wait for them to be opened one by one.
#[tokio::test]
async fn the_pool_is_filled_at_start() {
    let db = TestDb::new().await;
    let conn = ipxfer::db::connect(&db.url).await.unwrap();
    let open = open_of;
    let (before, max) = open(&conn);
    assert!(before < max, "{before} of {max} open before");
    ipxfer::db::open_all(&conn).await.unwrap();
    assert_eq!(open(&conn), (max, max));
}

/// `serve` and `worker` keep every connection of their pool open (`db::connect_lasting`): the
/// pool opens them by itself, with no request asking, and so reopens any that sqlx closes as
/// idle or old. A command's pool opens only what it uses.
#[tokio::test]
async fn a_lasting_pool_opens_its_connections_by_itself() {
    let db = TestDb::new().await;
    let lasting = ipxfer::db::connect_lasting(&db.url, ipxfer::db::DEFAULT_SLOW)
        .await
        .unwrap();
    let (_, max) = open_of(&lasting);
    assert!(max > 1);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while open_of(&lasting).0 < max && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        open_of(&lasting),
        (max, max),
        "the lasting pool did not fill itself"
    );

    let command = ipxfer::db::connect(&db.url).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (open, _) = open_of(&command);
    assert!(
        open <= 1,
        "a command's pool opened {open} connections unasked"
    );
}

/// An in-memory SQLite database lives as long as its one connection: sqlx must never close it as
/// idle (after 10 minutes) or old (30), or the data is gone.
#[tokio::test]
async fn an_in_memory_database_keeps_its_connection() {
    for conn in [
        ipxfer::db::connect("sqlite::memory:").await.unwrap(),
        ipxfer::db::connect_lasting("sqlite::memory:", ipxfer::db::DEFAULT_SLOW)
            .await
            .unwrap(),
    ] {
        let options = conn.get_sqlite_connection_pool().options();
        assert_eq!(options.get_max_connections(), 1);
        assert_eq!(options.get_idle_timeout(), None);
        assert_eq!(options.get_max_lifetime(), None);
    }
}
