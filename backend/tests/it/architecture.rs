//! The pure core stays pure: no database, web, e-mail, runtime or file-system crates, and no
//! clock reads, in `backend/src/domain/` outside its test modules.

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
