//! Configuration, typed and validated once at start-up from flags and the environment.

use std::path::Path;

use crate::domain::notification::ServiceLevels;
use crate::domain::policy::{self, Profiles};
use crate::error::{AppError, AppResult};

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

/// A URL fit for logs and error messages: the password of `scheme://user:password@host` is
/// replaced by `***`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// The operator's settings the services apply (workflow, notifications, the web's client
/// address).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The registries' policy profiles, fee schedules included.
    pub profiles: Profiles,
    /// Transfers of at least this many addresses need two hostmasters to finalize (/16).
    pub four_eyes_addresses: u64,
    /// Days the recipient has to accept (APNIC practice: 30).
    pub consent_days: i64,
    /// Days an organisation has to answer a request for information.
    pub information_days: i64,
    /// Where links in e-mails point.
    pub base_url: String,
    /// Most blocks one transfer may list.
    pub max_blocks: usize,
    /// Days each registry's hostmasters have for a step before the scheduler reminds them.
    pub service_levels: ServiceLevels,
    /// Behind a reverse proxy: the header whose last address is the client's (the proxy sets
    /// it). Without it, the TCP peer is the client.
    pub client_ip_header: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            profiles: Profiles::default_shipped(),
            four_eyes_addresses: 1 << 16,
            consent_days: 30,
            information_days: 30,
            base_url: "http://127.0.0.1:8080".to_owned(),
            max_blocks: 64,
            service_levels: ServiceLevels::default(),
            client_ip_header: None,
        }
    }
}

impl Settings {
    /// The defaults with an operator's policy override file (TOML, any subset of the shipped
    /// profiles' keys) applied on top. An unknown key or a bad value is an error naming it.
    pub fn with_policy_overrides(operator_toml: &str) -> AppResult<Settings> {
        let profiles =
            Profiles::from_toml_with_overrides(policy::SHIPPED_PROFILES, Some(operator_toml))
                .map_err(|e| AppError::invalid(e.to_string()))?;
        Ok(Settings {
            profiles,
            ..Settings::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://ipxfer:secret@127.0.0.1/ipxfer"),
            "postgres://ipxfer:***@127.0.0.1/ipxfer"
        );
        assert_eq!(redact(DEFAULT_DATABASE_URL), DEFAULT_DATABASE_URL);
    }
}
