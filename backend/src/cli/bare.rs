//! `ipxfer bench-bare` (hidden): the bare page of the load test (`.ci/load-test`). The same
//! stack as ipxfer's pages (axum, askama, sea-orm on the same pool settings) reading 50 rows of
//! a 60,000-row table, and nothing else: no session, no authorization, no domain. Each page's
//! requests per second are reported as a ratio to this page's, measured right before it on the
//! same machine, so the figures say what ipxfer costs over its stack, whatever the machine.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

/// Rows in the table, and rows a page shows.
const ROWS: i64 = 60_000;
const SHOWN: i64 = 50;

#[derive(Template)]
#[template(
    ext = "html",
    source = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Bare</title>\
</head><body><main><h1>Rows after {{ after }}</h1><table><thead><tr><th>id</th><th>name</th>\
<th>start</th><th>end</th></tr></thead><tbody>{% for r in rows %}<tr><td>{{ r.0 }}</td>\
<td>{{ r.1 }}</td><td>{{ r.2 }}</td><td>{{ r.3 }}</td></tr>{% endfor %}</tbody></table></main>\
</body></html>"
)]
struct BarePage {
    after: i64,
    rows: Vec<(i64, String, i64, i64)>,
}

#[derive(Clone)]
struct Bare {
    db: DatabaseConnection,
    next: Arc<AtomicI64>,
}

/// Creates and fills the table if needed, then serves `/bare` on `addr` until interrupted.
pub async fn serve(db: DatabaseConnection, addr: SocketAddr) -> anyhow::Result<()> {
    let backend = db.get_database_backend();
    db.execute_unprepared(
        "CREATE TABLE IF NOT EXISTS bench_bare_rows (id BIGINT PRIMARY KEY, name VARCHAR(64) \
         NOT NULL, start_addr BIGINT NOT NULL, end_addr BIGINT NOT NULL)",
    )
    .await?;
    let count = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) FROM bench_bare_rows",
        ))
        .await?
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    if count < ROWS {
        db.execute_unprepared("DELETE FROM bench_bare_rows").await?;
        for chunk in (1..=ROWS).collect::<Vec<_>>().chunks(1_000) {
            let values: Vec<String> = chunk
                .iter()
                .map(|i| format!("({i}, 'organisation {i}', {}, {})", i * 256, i * 256 + 255))
                .collect();
            db.execute_unprepared(&format!(
                "INSERT INTO bench_bare_rows (id, name, start_addr, end_addr) VALUES {}",
                values.join(", ")
            ))
            .await?;
        }
    }
    let state = Bare {
        db,
        next: Arc::new(AtomicI64::new(0)),
    };
    let app = Router::new().route("/bare", get(page)).with_state(state);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(crate::web::shutdown_signal())
        .await?;
    Ok(())
}

async fn page(State(bare): State<Bare>) -> Result<Html<String>, String> {
    // Successive requests read successive pages, as keyset pages of a real list do.
    let after = bare.next.fetch_add(SHOWN, Ordering::Relaxed) % (ROWS - SHOWN);
    let backend = bare.db.get_database_backend();
    let placeholder = match backend {
        sea_orm::DatabaseBackend::Postgres => "$1",
        _ => "?",
    };
    let rows = bare
        .db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT id, name, start_addr, end_addr FROM bench_bare_rows WHERE id > \
                 {placeholder} ORDER BY id LIMIT {SHOWN}"
            ),
            [after.into()],
        ))
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|r| {
            Ok((
                r.try_get_by_index(0)?,
                r.try_get_by_index(1)?,
                r.try_get_by_index(2)?,
                r.try_get_by_index(3)?,
            ))
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()
        .map_err(|e| e.to_string())?;
    BarePage { after, rows }
        .render()
        .map(Html)
        .map_err(|e| e.to_string())
}
