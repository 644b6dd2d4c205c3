//! Configuration, typed and validated once at start-up from flags and the environment.

use std::path::Path;

/// Default database: an SQLite file under `./data/`, created on first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/ipxfer.db?mode=rwc";

/// Makes sure the folder of a file-backed SQLite URL exists, so a fresh clone just runs.
pub fn prepare_database_url(url: &str) -> std::io::Result<()> {
    if let Some(rest) = url.strip_prefix("sqlite://") {
        let path = rest.split('?').next().unwrap_or_default();
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)?;
        }
    }
    Ok(())
}

/// The database `ipxfer serve --demo` seeds afresh at every start (unless `--database-url` says
/// otherwise).
pub const DEMO_DATABASE_URL: &str = "sqlite://data/demo.db?mode=rwc";

/// Removes the demo's SQLite file and its WAL companions, so the demo starts fresh.
pub fn remove_demo_database() -> std::io::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        match std::fs::remove_file(format!("data/demo.db{suffix}")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}
