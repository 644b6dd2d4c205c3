//! What a page costs in statements (issue 11): the main pages, and the scheduler's minute tick,
//! issue the same number of SQL statements whatever the number of transfers waiting, counted
//! with sea-orm's metric callback on a connection of their own; and on SQLite none of those
//! statements scans a whole table (`EXPLAIN QUERY PLAN`). Speed itself is measured by
//! `.ci/load-test`, never here.
//! `SHOW_SQL=1 cargo test --test it pages_cost -- --nocapture` prints each page's statements and
//! how many each page issues.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ipxfer::config::Settings;
use ipxfer::db::entities::organisation;
use ipxfer::db::transfers as transfers_db;
use ipxfer::domain::Rir;
use ipxfer::services::demo::DEMO_PASSWORD;
use ipxfer::services::scale::Scale;
use ipxfer::web::AppState;
use sea_orm::EntityTrait;

use crate::browser::Browser;
use crate::harness::{TestDb, now};

/// A connection of its own to the test database that counts its statements (and prints them
/// with `SHOW_SQL`).
async fn counted(db: &TestDb) -> (sea_orm::DatabaseConnection, Arc<AtomicUsize>, Issued) {
    let count = Arc::new(AtomicUsize::new(0));
    let issued = Issued::default();
    let mut conn = ipxfer::db::connect(&db.url).await.unwrap();
    let counter = count.clone();
    let kept = issued.clone();
    conn.set_metric_callback(move |info| {
        counter.fetch_add(1, Ordering::SeqCst);
        kept.lock().unwrap().push(info.statement.clone());
        if std::env::var("SHOW_SQL").is_ok() {
            eprintln!(
                "SQL {:?} {}",
                info.elapsed,
                info.statement.sql.chars().take(300).collect::<String>()
            );
        }
    });
    (conn, count, issued)
}

/// The statements a connection issued, with their values.
type Issued = crate::harness::Recorded;

/// Statements of each page (second view, after the session settled) on a scale data set with
/// `open` open transfers.
async fn statements_per_page(open: u64) -> (Vec<(String, usize)>, Vec<String>) {
    let db = TestDb::with_scale(Scale {
        holdings: 1_000,
        ledger: 60,
        finalized: 5,
        open,
        members: 10,
        seed: 11,
    })
    .await;
    let waiting = transfers_db::queue(&db.conn, Rir::Arin, None, 1)
        .await
        .unwrap();
    let first = waiting.first().expect("the ARIN queue has a transfer");
    let transfer = first.id;
    // Its source's member: organisation `<registry>-member-<n>` has `member<n>@<registry>...`.
    let source = organisation::Entity::find_by_id(first.source_org_id)
        .one(&db.conn)
        .await
        .unwrap()
        .unwrap();
    let (registry, n) = source.handle.split_once("-member-").unwrap();
    let member = format!("member{n}@{registry}.scale.example");

    let (conn, count, issued) = counted(&db).await;
    let state = AppState::new(conn, Settings::default());
    let mut out = Vec::new();
    let mut scans = Vec::new();
    for (email, pages) in [
        (
            "hm1@arin.scale.example",
            vec![
                "/queue".to_owned(),
                format!("/transfers/{transfer}"),
                "/transfers".to_owned(),
            ],
        ),
        (
            member.as_str(),
            vec!["/transfers".to_owned(), format!("/transfers/{transfer}")],
        ),
        (
            "auditor@scale.example",
            vec![
                "/transfers?show=all".to_owned(),
                "/ledger".to_owned(),
                "/lookup?q=24.0.0.0/16".to_owned(),
                "/stats".to_owned(),
            ],
        ),
        ("admin@scale.example", vec!["/admin".to_owned()]),
    ] {
        let mut browser = Browser::with_state(state.clone());
        browser.sign_in_with(email, DEMO_PASSWORD).await;
        for page in pages {
            browser.get(&page).await.assert_ok();
            count.store(0, Ordering::SeqCst);
            if std::env::var("SHOW_SQL").is_ok() {
                eprintln!("PAGE {page}");
            }
            issued.lock().unwrap().clear();
            browser.get(&page).await.assert_ok();
            out.push((format!("{page} as {email}"), count.load(Ordering::SeqCst)));
            let statements = std::mem::take(&mut *issued.lock().unwrap());
            // A registry's and everyone's list keep their totals until a transfer changes
            // (`ListTotals`); counting thousands of transfers again is a scan of their scope.
            let shared_list = page.starts_with("/transfers?") || page == "/transfers";
            if shared_list && email != member {
                for s in statements.iter().filter(|s| s.sql.contains("COUNT(")) {
                    let sql: String = s.sql.chars().take(160).collect();
                    scans.push(format!("{page} as {email}: counted again | {sql}"));
                }
            }
            // Everyone's list is the newest transfers: a walk along the primary key too.
            let walks: &[&str] = match page.as_str() {
                "/transfers?show=all" => &["transfers"],
                _ => &[],
            };
            for found in table_scans(&db, &statements, walks).await {
                scans.push(format!("{page} as {email}: {found}"));
            }
            // The queue, the lists, the transfer pages, the lookup and the admin's attention page
            // are kept until what they show may have changed (`web::cache`): what a view costs
            // that reads one again, after a write (its revision moved).
            let revision = if page == "/admin" {
                Some("attention")
            } else if ["/queue", "/transfers", "/transfers?show=all"].contains(&page.as_str())
                || page.starts_with("/transfers/")
                || page.starts_with("/lookup")
            {
                Some("contents")
            } else {
                None
            };
            if let Some(revision) = revision {
                use sea_orm::ConnectionTrait;
                db.conn
                    .execute_unprepared(&format!(
                        "UPDATE revisions SET revision = revision + 1 WHERE name = '{revision}'"
                    ))
                    .await
                    .unwrap();
                count.store(0, Ordering::SeqCst);
                issued.lock().unwrap().clear();
                browser.get(&page).await.assert_ok();
                out.push((
                    format!("{page} read again as {email}"),
                    count.load(Ordering::SeqCst),
                ));
                let statements = std::mem::take(&mut *issued.lock().unwrap());
                for found in table_scans(&db, &statements, walks).await {
                    scans.push(format!("{page} read again as {email}: {found}"));
                }
            }
        }
    }
    (out, scans)
}

/// Tables that pages read newest first along their integer primary key, stopping at the page's
/// LIMIT (the ledger browser and the ledger's head; the latest checkpoint): SQLite shows that
/// walk as a plain "SCAN", so these are not checked; nor are a page's own `walks`.
const ORDERED_WALKS: [&str; 2] = ["ledger_entries", "tlog_checkpoints"];

/// The whole-table scans in SQLite's plans of `statements` (`EXPLAIN QUERY PLAN`), each as
/// "plan line | statement". A page's reads are index seeks, interval-index probes and ordered
/// walks that stop at the page's LIMIT; a scan of a table on every view costs the table, which
/// is how a transfer page read all fee lines (docs/performance.md). Checked on SQLite, whose
/// plans do not depend on table statistics as PostgreSQL's do (there a small test table is
/// rightly read whole).
async fn table_scans(
    db: &TestDb,
    statements: &[sea_orm::Statement],
    walks: &[&str],
) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    if TestDb::runs_on_postgres() {
        return Vec::new();
    }
    let tables = db.sqlite_tables().await;
    let mut found = Vec::new();
    for statement in statements {
        let explain = sea_orm::Statement {
            sql: format!("EXPLAIN QUERY PLAN {}", statement.sql),
            ..statement.clone()
        };
        for row in db.conn.query_all_raw(explain).await.unwrap() {
            let detail: String = row.try_get("", "detail").unwrap();
            let walk = ORDERED_WALKS
                .iter()
                .chain(walks)
                .any(|t| detail.split_whitespace().nth(1) == Some(t));
            if crate::harness::sqlite_scans_a_table(&detail, &tables) && !walk {
                let sql: String = statement.sql.chars().take(160).collect();
                found.push(format!("{detail} | {sql}"));
            }
        }
    }
    found
}

#[tokio::test]
async fn pages_cost_the_same_statements_however_many_transfers_wait() {
    let (few, _) = statements_per_page(20).await;
    let (many, scans) = statements_per_page(100).await;
    // The transfer's page names another transfer in each data set; its cost must not grow.
    let pages = |v: &[(String, usize)]| {
        v.iter()
            .map(|(page, n)| {
                let page = page.split(" as ").next().unwrap_or_default();
                let kind = match page.strip_prefix("/transfers/") {
                    Some(rest) if rest.ends_with(" read again") => "/transfers/{id} read again",
                    Some(_) => "/transfers/{id}",
                    None => page,
                };
                (kind.to_owned(), *n)
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        pages(&few),
        pages(&many),
        "statements per page: {few:?} vs {many:?}"
    );
    if std::env::var("SHOW_SQL").is_ok() {
        eprintln!("statements per page: {many:?}");
    }
    // Each page's budget, as measured when it was last made cheaper (docs/performance.md): a
    // statement more is a hand-over to SQLite's worker or a PostgreSQL round trip more per view.
    // The kept pages (`web::cache`) cost the session's statement alone, which reads their keys
    // too (`db::freshness::Freshness`). Read again, the reads beside a page's transfers come
    // packed (`db::packed`) on both databases, a list or the queue comes with its counts and its
    // transfers' parts, and the ledger's page with its latest checkpoint.
    let budget = |page: &str| match page.split(" as ").next().unwrap_or_default() {
        "/queue" | "/transfers" | "/transfers?show=all" | "/ledger" | "/stats" | "/admin" => 1,
        p if p.starts_with("/transfers/") && !p.ends_with(" read again") => 1,
        p if p.starts_with("/lookup") && !p.ends_with(" read again") => 1,
        // Read again: the page with its counts and its transfers' parts, and the rules' reads.
        "/queue read again" => 3,
        // The page with its total.
        "/transfers read again" | "/transfers?show=all read again" => 2,
        // Two on SQLite (the transfer, its parts, its records and the holdings it touches are
        // one statement; then the rules'), four or five on PostgreSQL.
        p if p.starts_with("/transfers/") => 6,
        // The holdings and the history: one statement on SQLite (`db::lookup`), two on
        // PostgreSQL.
        p if p.starts_with("/lookup") => 3,
        // The invitations with the counts' key and the failed e-mails (the counts kept by it).
        "/admin read again" => 2,
        other => panic!("no budget for {other}"),
    };
    for (page, n) in &many {
        assert!(
            *n <= budget(page),
            "{page} issues {n} statements, budget {}",
            budget(page)
        );
    }
    assert!(
        scans.is_empty(),
        "pages that read a whole table on every view:\n{}",
        scans.join("\n")
    );
}

/// Statements of the scheduler's second tick, a day after `open` transfers were filed and
/// every step went past its service level (the first tick queued the reminders).
async fn statements_per_tick(open: u64) -> usize {
    let db = TestDb::with_scale(Scale {
        holdings: 500,
        ledger: 20,
        finalized: 0,
        open,
        members: 10,
        seed: 11,
    })
    .await;
    let settings = Settings::default();
    let (conn, count, _) = counted(&db).await;
    let later = now() + time::Duration::days(20);
    let first = ipxfer::services::scheduler::tick(&conn, &settings, later)
        .await
        .unwrap();
    assert!(
        first.service_level_reminders > 0,
        "the first tick reminds: {first:?}"
    );
    count.store(0, Ordering::SeqCst);
    let second = ipxfer::services::scheduler::tick(&conn, &settings, later)
        .await
        .unwrap();
    assert_eq!(
        second.service_level_reminders + second.deadline_reminders,
        0
    );
    count.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_scheduler_tick_costs_the_same_statements_however_many_transfers_wait() {
    // It asked the outbox once per overdue transfer: 8,600 statements a minute at the
    // registries' volumes (docs/performance.md). Now: the expiry's list, the transfers near a
    // deadline and those past a service level (four statements each when there are any), one
    // question to the outbox for all their reminders, and three prunes.
    for open in [10, 60] {
        let n = statements_per_tick(open).await;
        assert!(
            n <= 13,
            "a tick over {open} open transfers issued {n} statements"
        );
    }
}

/// Statements of the first and the second view of `page`.
async fn first_and_second_view(
    browser: &mut Browser,
    count: &AtomicUsize,
    page: &str,
) -> (usize, usize) {
    let mut views = [0; 2];
    for n in &mut views {
        count.store(0, Ordering::SeqCst);
        browser.get(page).await.assert_ok();
        *n = count.load(Ordering::SeqCst);
    }
    (views[0], views[1])
}

/// A small scale data set and the web state on a counted connection to it.
async fn small_scale_state() -> (TestDb, AppState, Arc<AtomicUsize>) {
    let db = TestDb::with_scale(Scale {
        holdings: 500,
        ledger: 40,
        finalized: 5,
        open: 10,
        members: 10,
        seed: 11,
    })
    .await;
    let (conn, count, _) = counted(&db).await;
    (db, AppState::new(conn, Settings::default()), count)
}

#[tokio::test]
async fn after_the_start_warms_the_caches_no_first_view_computes_them() {
    let (_db, state, count) = small_scale_state().await;
    // What `serve` runs beside its first requests.
    ipxfer::web::warm_caches(&state).await.unwrap();

    let mut anonymous = Browser::with_state(state.clone());
    for page in ["/", "/stats/transfers_latest.json"] {
        let (first, second) = first_and_second_view(&mut anonymous, &count, page).await;
        assert_eq!(first, second, "{page}: the first view computed something");
    }
    for (email, settle, page) in [
        ("auditor@scale.example", "/ledger", "/stats"),
        ("hm1@arin.scale.example", "/ledger", "/stats"),
        ("admin@scale.example", "/admin/users", "/admin"),
    ] {
        let mut browser = Browser::with_state(state.clone());
        browser.sign_in_with(email, DEMO_PASSWORD).await;
        // The first page after signing in marks the session seen (one write).
        browser.get(settle).await.assert_ok();
        let (first, second) = first_and_second_view(&mut browser, &count, page).await;
        assert_eq!(
            first, second,
            "{page} as {email}: the first view computed something"
        );
    }
}

#[tokio::test]
async fn the_ledger_is_read_once_for_both_versions_of_the_statistics() {
    let (_db, state, count) = small_scale_state().await;
    let mut auditor = Browser::with_state(state.clone());
    auditor
        .sign_in_with("auditor@scale.example", DEMO_PASSWORD)
        .await;
    auditor.get("/stats").await.assert_ok();
    // The hostmaster's version (without prices) is rendered from the figures the auditor's
    // view read: its first view reads no more than its second.
    let mut hostmaster = Browser::with_state(state.clone());
    hostmaster
        .sign_in_with("hm1@arin.scale.example", DEMO_PASSWORD)
        .await;
    hostmaster.get("/ledger").await.assert_ok();
    let (first, second) = first_and_second_view(&mut hostmaster, &count, "/stats").await;
    assert_eq!(first, second);
    assert!(
        !hostmaster
            .get("/stats")
            .await
            .body
            .contains("Price per address")
    );
}

/// Reads by a list of ids bind the list as one parameter: their statement's text is the same
/// however many ids they are given (PostgreSQL parses and plans a statement once per text and
/// connection, and sqlx keeps a bounded cache of prepared statements per connection, which one
/// text per list length would fill), and the list finds what its ids find one by one.
#[tokio::test]
async fn reads_by_a_list_of_ids_bind_it_as_one_parameter() {
    use ipxfer::db::entities::{transfer, user};
    use ipxfer::db::tlog;

    let (db, _state, _count) = small_scale_state().await;
    let orgs = first_ids::<organisation::Entity>(&db, organisation::Column::Id, 7).await;
    let people = first_ids::<user::Entity>(&db, user::Column::Id, 7).await;
    // Transfers past the source's approval and before it: some found, some not.
    let transfers = first_ids::<transfer::Entity>(&db, transfer::Column::Id, 1_000).await;
    assert!(orgs.len() == 7 && people.len() == 7 && transfers.len() >= 10);

    let (conn, seen) = crate::harness::recording_connection(&db).await;
    // Each read once with one id, then once with all of them; what the latter found is kept.
    let mut found = Found::default();
    for list in [1, orgs.len()] {
        let of = if list == 1 {
            &transfers[..1]
        } else {
            &transfers[..]
        };
        found = Found::read(&conn, &orgs[..list], &people[..list], of).await;
        let indexes: Vec<u64> = (0..list as u64).collect();
        tlog::load_hashes(&conn, &indexes, &mut Default::default())
            .await
            .unwrap();
    }
    let statements = seen.lock().unwrap().clone();
    assert_eq!(statements.len(), 10, "{statements:?}");
    let (one, all) = statements.split_at(5);
    for (a, b) in one.iter().zip(all) {
        assert_eq!(a.sql, b.sql, "the number of ids changed the statement");
        assert_eq!(
            a.values.as_ref().map(|v| v.0.len()),
            b.values.as_ref().map(|v| v.0.len()),
            "{}",
            a.sql
        );
    }

    // What the whole list found is what its ids find one by one.
    let mut by_one = Found::default();
    for i in 0..orgs.len() {
        let each = Found::read(&db.conn, &orgs[i..=i], &people[i..=i], &[]).await;
        by_one.emails.extend(each.emails);
        by_one.orgs.extend(each.orgs);
        by_one.counts.extend(each.counts);
    }
    for id in &transfers {
        let each = Found::read(&db.conn, &[], &[], std::slice::from_ref(id)).await;
        by_one.initialized.extend(each.initialized);
    }
    assert_eq!(found, by_one);
    assert_eq!((found.emails.len(), found.orgs.len()), (7, 7));
    assert!(!found.initialized.is_empty() && found.initialized.len() < transfers.len());
}

/// What [`reads_by_a_list_of_ids_bind_it_as_one_parameter`] reads by lists of ids.
#[derive(Debug, Default, PartialEq)]
struct Found {
    emails: std::collections::BTreeMap<i64, String>,
    orgs: std::collections::BTreeSet<i64>,
    counts: std::collections::BTreeSet<(i64, i64)>,
    initialized: std::collections::BTreeSet<i64>,
}

impl Found {
    /// Users' addresses, organisations and their holdings' counts, and which transfers the NRO
    /// log heard of, each read once by its list (none when the list is empty).
    async fn read(
        conn: &sea_orm::DatabaseConnection,
        orgs: &[i64],
        people: &[i64],
        transfers: &[i64],
    ) -> Found {
        use ipxfer::db::{holdings, organisations, users};
        let mut found = Found::default();
        if !people.is_empty() {
            found.emails = users::emails_of(conn, people.to_vec())
                .await
                .unwrap()
                .into_iter()
                .collect();
        }
        if !orgs.is_empty() {
            let by_ids = organisations::by_ids(conn, orgs.to_vec()).await.unwrap();
            found.orgs = by_ids.iter().map(|o| o.id).collect();
            let counts = holdings::count_by_organisation(conn, orgs.to_vec());
            found.counts = counts.await.unwrap().into_iter().collect();
        }
        // No statement for an empty list.
        let initialized = transfers_db::ever_initialized(conn, transfers)
            .await
            .unwrap();
        found.initialized = initialized.into_iter().collect();
        found
    }
}

/// The first `limit` ids of entity `E`, by `id`.
async fn first_ids<E: EntityTrait>(db: &TestDb, id: E::Column, limit: u64) -> Vec<i64> {
    use sea_orm::{QueryOrder, QuerySelect};
    E::find()
        .select_only()
        .column(id)
        .order_by_asc(id)
        .limit(limit)
        .into_tuple()
        .all(&db.conn)
        .await
        .unwrap()
}
