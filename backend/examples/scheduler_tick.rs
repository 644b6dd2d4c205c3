//! Benchmark: what the scheduler's minute tick costs on a seeded database (issue 11).
//!
//! `cargo run --release --example scheduler_tick -- DATABASE_URL` runs five ticks, as `serve`
//! does each minute (the first may queue reminders; the others find them queued), and then
//! loads every transfer past a service level whole, with its blocks, parties and documents,
//! which is what each tick did before it decided from the rows alone. Give it a copy of a
//! `seed scale` database: the first tick writes reminders to its outbox.

use std::time::Instant;

use ipxfer::config::Settings;
use ipxfer::db::entities::transfer;
use ipxfer::db::transfers as transfers_db;
use ipxfer::domain::workflow::State;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: scheduler_tick DATABASE_URL"))?;
    let db = ipxfer::db::connect(&url).await?;
    let settings = Settings::default();
    let now = time::OffsetDateTime::now_utc();
    for i in 1..=5 {
        let started = Instant::now();
        let tick = ipxfer::services::scheduler::tick(&db, &settings, now).await?;
        println!("tick {i}: {:>7.1} ms  {tick:?}", ms(started));
    }
    let started = Instant::now();
    let rows = transfer::Entity::find()
        .filter(transfer::Column::State.is_not_in(State::TERMINAL_NAMES))
        .filter(transfer::Column::UpdatedAt.lte(now - settings.service_levels.shortest()))
        .all(&db)
        .await?;
    let found = rows.len();
    transfers_db::load_many(&db, rows).await?;
    println!(
        "loading the {found} transfers past a service level whole: {:.1} ms",
        ms(started)
    );
    Ok(())
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}
