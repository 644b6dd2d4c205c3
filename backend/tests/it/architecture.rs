//! The pure core stays pure: no database, web, e-mail, runtime or file-system crates, and no
//! clock reads, in `backend/src/domain/` outside its test modules; and the transfer pages and the
//! API keep to services and `db` functions.

use std::path::Path;

const FORBIDDEN: &[&str] = &[
    "sea_orm",
    "axum",
    "tokio",
    "lettre",
    "askama",
    "tower",
    "std::fs",
    "std::net::Tcp",
    "now_utc",
    "SystemTime",
    "Instant::now",
    "thread_rng",
    "rand::",
];

fn check(dir: &Path, offences: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            check(&path, offences);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            // Test modules may read fixtures; they come last in each file.
            let production = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (n, line) in production.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                for word in FORBIDDEN {
                    if code.contains(word) {
                        offences.push(format!("{}:{}: uses {word}", path.display(), n + 1));
                    }
                }
            }
        }
    }
}

#[test]
fn the_domain_does_no_io_and_reads_no_clock() {
    let mut offences = Vec::new();
    check(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain"),
        &mut offences,
    );
    assert!(
        offences.is_empty(),
        "the pure core must not do I/O:\n{}",
        offences.join("\n")
    );
}

/// The transfer pages and the JSON API reach the database only through `db` functions and
/// services: no `sea_orm`, and no entity rows, in `web/transfers/` or `web/api/`.
#[test]
fn the_transfer_pages_and_the_api_do_not_query_the_database() {
    fn scan(dir: &Path, offences: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                scan(&path, offences);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or_default();
                    for word in ["sea_orm", "db::entities"] {
                        if code.contains(word) {
                            offences.push(format!("{}:{}: uses {word}", path.display(), n + 1));
                        }
                    }
                }
            }
        }
    }
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut offences = Vec::new();
    scan(&web.join("transfers"), &mut offences);
    scan(&web.join("api"), &mut offences);
    assert!(
        offences.is_empty(),
        "web handlers call services and db functions, not sea_orm:\n{}",
        offences.join("\n")
    );
}
