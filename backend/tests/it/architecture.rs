//! The pure core stays pure: the `ipxfer-domain` crate (`backend/domain/`) depends on no database,
//! web, e-mail, runtime or network crate, and its code outside test modules names no file system
//! or clock. Neither crate's modules import each other in a circle.

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
    "OsRng",
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

/// The domain crate's folder, beside this crate's `src/`.
fn domain_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("domain")
}

#[test]
fn the_domain_does_no_io_and_reads_no_clock() {
    let mut offences = Vec::new();
    check(&domain_dir().join("src"), &mut offences);
    assert!(
        offences.is_empty(),
        "the pure core must not do I/O:\n{}",
        offences.join("\n")
    );
}

/// The crates the core may depend on: data formats, arithmetic and hashing. Adding one is a
/// decision to make here, in review, not in passing.
const DOMAIN_DEPENDENCIES: &[&str] = &[
    "base64",
    "csv",
    "ed25519-dalek",
    "hex",
    "ipnet",
    "rand_core",
    "rust_decimal",
    "serde",
    "serde_json",
    "sha2",
    "signed_note",
    "thiserror",
    "time",
    "tlog_tiles",
    "toml",
];

#[test]
fn the_domain_depends_only_on_pure_crates() {
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(domain_dir().join("Cargo.toml")).unwrap()).unwrap();
    let dependencies: Vec<&str> = manifest["dependencies"]
        .as_table()
        .expect("a [dependencies] table")
        .keys()
        .map(String::as_str)
        .collect();
    let unexpected: Vec<&&str> = dependencies
        .iter()
        .filter(|d| !DOMAIN_DEPENDENCIES.contains(d))
        .collect();
    assert!(
        unexpected.is_empty(),
        "the pure core depends on {unexpected:?}; it must stay free of I/O crates"
    );
    assert!(
        !manifest.contains_key("build-dependencies"),
        "the pure core has no build script"
    );
}

// ---------------------------------------------------------------------------------------------
// No import circles between modules.
//
// Each file under `src/` is a module; an edge runs from a file to every module its `crate::`,
// `super::` and `self::` paths name (grouped `use` trees included). A module's edges to its own
// descendants are left out: a `mod.rs` declaring and routing its children is how Rust lays out a
// subtree, not a circle. `syn` would parse more exactly, but the project writes its paths plainly
// and a scanner of forty lines keeps the test free of a parser dependency.

use std::collections::{BTreeMap, BTreeSet};

/// Module path (`crate::db::ledger`) -> the modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The crate's files as (module path, source) pairs: `lib.rs` is `crate`, `a/mod.rs` and `a.rs`
/// are `crate::a`. `main.rs` is another crate (the binary) and is left out.
fn crate_files(root: &Path) -> Vec<(String, String)> {
    fn walk(dir: &Path, module: &str, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                walk(&path, &format!("{module}::{name}"), out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let own = match name.as_str() {
                    "lib" if module == "crate" => module.to_owned(),
                    "main" if module == "crate" => continue,
                    "mod" => module.to_owned(),
                    _ => format!("{module}::{name}"),
                };
                out.push((own, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, "crate", &mut out);
    out.sort();
    out
}

/// The paths a use tree starting at `text` spells out, each as its segments: `a::{b, c::d}`
/// gives `[a, b]` and `[a, c, d]`. Stops at the first character that is not part of a path.
fn expand_paths(text: &str) -> (Vec<Vec<String>>, usize) {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut prefix = Vec::new();
    loop {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        if i > start {
            prefix.push(text[start..i].to_owned());
        }
        if text[i..].starts_with("::{") {
            i += 3;
            let mut paths = Vec::new();
            loop {
                while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b',') {
                    i += 1;
                }
                if i >= bytes.len() || bytes[i] == b'}' {
                    break;
                }
                let (inner, used) = expand_paths(&text[i..]);
                // `self` inside a group names the prefix itself.
                for tail in inner {
                    let mut path = prefix.clone();
                    path.extend(tail.into_iter().filter(|s| s != "self"));
                    paths.push(path);
                }
                if used == 0 {
                    i += 1; // `*` or another token that is no path
                } else {
                    i += used;
                }
            }
            return (paths, (i + 1).min(bytes.len()));
        } else if text[i..].starts_with("::") {
            i += 2;
        } else {
            return (vec![prefix], i);
        }
    }
}

/// The code of a file that the graph reads: comments and the trailing `#[cfg(test)] mod tests`
/// are left out (an inline test module's `super` is the file itself, not its parent).
fn production_code(text: &str) -> String {
    let production = text.split("#[cfg(test)]").next().unwrap_or_default();
    production
        .lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path in `code` that begins with one of `starts` at a word boundary, expanded.
fn paths_after(code: &str, starts: &[&str]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut from = 0;
    while from < code.len() {
        let Some(at) = starts
            .iter()
            .filter_map(|s| code[from..].find(s).map(|i| (from + i, s.len())))
            .min()
        else {
            break;
        };
        let (at, len) = at;
        let starts_word = at == 0 || {
            let b = code.as_bytes()[at - 1];
            !b.is_ascii_alphanumeric() && b != b'_' && b != b':'
        };
        if starts_word {
            // `pub use ` is dropped; `crate::` and the like are part of the path.
            let skip = if starts[0] == "pub use " { len } else { 0 };
            let (paths, used) = expand_paths(&code[at + skip..]);
            found.extend(paths);
            from = at + skip + used.max(1);
        } else {
            from = at + 1;
        }
    }
    found
}

/// Where `path`, written in `module`, lands: the longest known module it runs through, and the
/// segments after it (an item's name). A path that names no module of the crate gives `None`.
fn resolve(
    modules: &BTreeSet<&str>,
    module: &str,
    path: &[String],
) -> Option<(String, Vec<String>)> {
    let mut segments: Vec<&str> = module.split("::").collect();
    let mut tail = path;
    match tail.first().map(String::as_str) {
        Some("crate") => {
            segments = vec!["crate"];
            tail = &tail[1..];
        }
        Some("self") => tail = &tail[1..],
        Some("super") => {
            while tail.first().is_some_and(|s| s == "super") {
                segments.pop();
                tail = &tail[1..];
            }
        }
        _ => {} // a child named plainly, as in `pub use profile::Profiles`
    }
    let mut target = None;
    for (i, segment) in tail.iter().enumerate() {
        segments.push(segment);
        let candidate = segments.join("::");
        if modules.contains(candidate.as_str()) {
            target = Some((candidate, tail[i + 1..].to_vec()));
        }
    }
    target.or_else(|| {
        let base = segments[..segments.len() - tail.len()].join("::");
        modules
            .contains(base.as_str())
            .then(|| (base, tail.to_vec()))
    })
}

/// The module graph of `files` (module path, source). A path through a module's `pub use`
/// counts as an edge to the module that defines the item, so a circle cannot hide behind a
/// re-export (`fees -> policy::Profiles`, defined in `policy::profile`, which uses `fees`).
fn module_graph(files: &[(String, String)]) -> Graph {
    let modules: BTreeSet<&str> = files.iter().map(|(m, _)| m.as_str()).collect();
    let code: BTreeMap<&str, String> = files
        .iter()
        .map(|(m, t)| (m.as_str(), production_code(t)))
        .collect();
    // module -> item it re-exports -> where that item lives
    let mut reexports: BTreeMap<&str, BTreeMap<String, (String, Vec<String>)>> = BTreeMap::new();
    for (&module, text) in &code {
        for path in paths_after(text, &["pub use "]) {
            let Some(item) = path.last().cloned() else {
                continue;
            };
            if let Some(target) = resolve(&modules, module, &path) {
                reexports.entry(module).or_default().insert(item, target);
            }
        }
    }
    let mut graph = Graph::new();
    for (&module, text) in &code {
        let edges = graph.entry(module.to_owned()).or_default();
        for path in paths_after(text, &["crate::", "super::", "self::"]) {
            let Some((mut target, mut rest)) = resolve(&modules, module, &path) else {
                continue;
            };
            for _ in 0..8 {
                let Some(next) = rest
                    .first()
                    .and_then(|item| reexports.get(target.as_str())?.get(item))
                else {
                    break;
                };
                (target, rest) = next.clone();
            }
            let descendant = target.starts_with(&format!("{module}::"));
            if target != module && !descendant {
                edges.insert(target);
            }
        }
    }
    graph
}

/// Every circle of `graph`, one per strongly connected component (Tarjan), each printed as
/// `a -> b -> ... -> a`.
fn circles(graph: &Graph) -> Vec<String> {
    struct Tarjan<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        components: Vec<Vec<&'g str>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, node: &'g str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(top) = self.stack.pop() {
                    self.on_stack.remove(top);
                    component.push(top);
                    if top == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.components.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for node in graph.keys() {
        if !tarjan.index.contains_key(node.as_str()) {
            tarjan.visit(node);
        }
    }
    // One concrete circle per component: the shortest way back to its smallest member.
    tarjan
        .components
        .into_iter()
        .map(|component| {
            let members: BTreeSet<&str> = component.into_iter().collect();
            let start = *members.first().unwrap();
            let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            'search: while let Some(node) = queue.pop_front() {
                for next in &graph[node] {
                    let next = next.as_str();
                    if !members.contains(next) {
                        continue;
                    }
                    if next == start {
                        came_from.insert(start, node);
                        break 'search;
                    }
                    if !came_from.contains_key(next) {
                        came_from.insert(next, node);
                        queue.push_back(next);
                    }
                }
            }
            let mut path = vec![start];
            let mut node = came_from[start];
            while node != start {
                path.push(node);
                node = came_from[node];
            }
            path.push(start);
            path.reverse();
            let circle = path.join(" -> ");
            if members.len() + 1 > path.len() {
                // More circles share these modules; name them all so none is a surprise.
                let all: Vec<&str> = members.into_iter().collect();
                format!("{circle} (and more among {})", all.join(", "))
            } else {
                circle
            }
        })
        .collect()
}

/// Circles known and tolerated until the work named beside each breaks them (none left). A new
/// circle fails the test, and so does a listed one that is gone (then delete its line).
const KNOWN_CIRCLES: &[&str] = &[];

#[test]
fn no_import_circles_between_modules() {
    // Each crate on its own: `crate::` means a different root in each.
    let found: Vec<String> = [
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        domain_dir().join("src"),
    ]
    .iter()
    .flat_map(|root| circles(&module_graph(&crate_files(root))))
    .collect();
    let new: Vec<&String> = found
        .iter()
        .filter(|c| !KNOWN_CIRCLES.contains(&c.as_str()))
        .collect();
    let gone: Vec<&&str> = KNOWN_CIRCLES
        .iter()
        .filter(|k| !found.iter().any(|c| c == *k))
        .collect();
    assert!(
        new.is_empty(),
        "modules must not import each other in a circle:\n{}",
        new.iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        gone.is_empty(),
        "these circles are broken now: delete them from KNOWN_CIRCLES:\n{}",
        gone.iter().map(|c| **c).collect::<Vec<_>>().join("\n")
    );
}

fn synthetic(files: &[(&str, &str)]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(m, t)| ((*m).to_owned(), (*t).to_owned()))
        .collect()
}

#[test]
fn the_module_graph_reads_grouped_super_and_crate_paths() {
    let graph = module_graph(&synthetic(&[
        ("crate", "pub mod db; pub mod web;"),
        ("crate::db", "pub mod ledger; pub use ledger::append;"),
        (
            "crate::db::ledger",
            "use super::{bulk::rows, Db};\nfn f() { crate::web::cache::x(); }",
        ),
        (
            "crate::db::bulk",
            "// crate::web is only a comment\nuse self::inner::X;",
        ),
        (
            "crate::web",
            "use crate::{db::{self, ledger::Entry}, web::cache};",
        ),
        (
            "crate::web::cache",
            "#[cfg(test)]\nmod tests { use crate::db::bulk; }",
        ),
    ]));
    let set = |names: &[&str]| {
        names
            .iter()
            .map(|n| (*n).to_owned())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        graph["crate::db::ledger"],
        set(&["crate::db::bulk", "crate::db", "crate::web::cache"])
    );
    assert_eq!(graph["crate::db::bulk"], set(&[]));
    // `web` routes its own child `cache`: not an edge.
    assert_eq!(
        graph["crate::web"],
        set(&["crate::db", "crate::db::ledger"])
    );
    assert_eq!(graph["crate::web::cache"], set(&[]));
    assert!(circles(&graph).is_empty());
}

#[test]
fn a_circle_through_a_re_export_is_found() {
    let graph = module_graph(&synthetic(&[
        ("crate::domain", "pub mod fees; pub mod policy;"),
        (
            "crate::domain::fees",
            "use super::policy::{PrefixLength, Profiles};",
        ),
        (
            "crate::domain::policy",
            "mod profile;\npub use profile::{\n    PrefixLength, Profiles,\n};",
        ),
        (
            "crate::domain::policy::profile",
            "use crate::domain::fees::FeeSchedule;",
        ),
    ]));
    assert_eq!(
        graph["crate::domain::fees"],
        ["crate::domain::policy::profile".to_owned()].into()
    );
    assert_eq!(
        circles(&graph),
        ["crate::domain::fees -> crate::domain::policy::profile -> crate::domain::fees"]
    );
}

#[test]
fn an_import_circle_fails_with_its_path() {
    let graph = module_graph(&synthetic(&[
        ("crate", "pub mod cli; pub mod mail; pub mod background;"),
        ("crate::background", "use crate::mail::Mailer;"),
        ("crate::mail", "fn f() { crate::cli::redact(\"x\") }"),
        ("crate::cli", "use crate::background::run;"),
        ("crate::db", "pub mod ledger; pub mod ledger_query;"),
        ("crate::db::ledger", "use super::ledger_query::read;"),
        (
            "crate::db::ledger_query",
            "use super::ledger::{self, Entry};",
        ),
    ]));
    assert_eq!(
        circles(&graph),
        [
            "crate::background -> crate::mail -> crate::cli -> crate::background",
            "crate::db::ledger -> crate::db::ledger_query -> crate::db::ledger",
        ]
    );
}

/// The files under `backend/src/web/` (paths relative to it, `/`-separated) that may name
/// sea-orm. Everything else in the web layer reaches the database through `db::*` or services.
const WEB_MAY_NAME_SEA_ORM: &[&str] = &[
    // tower-sessions' store on our database: a storage adapter, not a page.
    "session_store.rs",
];

/// The lines (1-based) of `source` whose code, not comments, names sea-orm or its query builder.
fn database_lines(source: &str) -> Vec<usize> {
    code_lines_where(source, |code| {
        code.contains("sea_orm") || code.contains("sea_query")
    })
}

/// The lines (1-based) of `source` whose code, the line before any `//`, satisfies `hit`.
fn code_lines_where(source: &str, hit: impl Fn(&str) -> bool) -> Vec<usize> {
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| hit(line.split("//").next().unwrap_or_default()))
        .map(|(n, _)| n + 1)
        .collect()
}

/// Every `.rs` file under `dir`, in subfolders too, relative to `dir` with `/` separators.
fn rust_files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(root).unwrap();
                let parts: Vec<_> = relative.iter().map(|p| p.to_string_lossy()).collect();
                out.push(parts.join("/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// `src/{layer}/{file}:{line}` for each line `check` finds in the layer's files, `exempt` aside.
fn offending_lines(
    layer: &str,
    files: Vec<String>,
    exempt: &[&str],
    check: fn(&str) -> Vec<usize>,
) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(layer);
    let mut offences = Vec::new();
    for file in files.iter().filter(|f| !exempt.contains(&f.as_str())) {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for n in check(&text) {
            offences.push(format!("src/{layer}/{file}:{n}"));
        }
    }
    offences
}

#[test]
fn the_web_layer_reaches_the_database_only_through_db() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let files = rust_files(&web);
    // The walk itself works: it sees the pages in subfolders, and the store it exempts.
    assert!(files.iter().any(|f| f == "api/mod.rs"), "{files:?}");
    assert!(files.iter().any(|f| f == "session_store.rs"), "{files:?}");
    let offences = offending_lines("web", files, WEB_MAY_NAME_SEA_ORM, database_lines);
    assert!(
        offences.is_empty(),
        "pages call functions of db::* (or services) instead of building queries:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_database_check_sees_queries_and_not_comments() {
    let clean = "//! Pages.\nuse crate::db::users;\n// sea_orm stays in db/\nlet u = users::by_id(&app.db, 1).await?;\n";
    assert!(database_lines(clean).is_empty());
    let offending = "use crate::db::users;\nuse sea_orm::EntityTrait;\nlet q = sea_orm::sea_query::Expr::val(1); // built here\n";
    assert_eq!(database_lines(offending), [2, 3]);
    assert_eq!(
        database_lines("Expr::col(sea_query::Alias::new(\"x\"))"),
        [1]
    );
}

/// Longest file under `backend/src/web/`, tests included: a longer one is split along its pages.
const WEB_MAX_LINES: usize = 600;

#[test]
fn no_web_file_is_over_600_lines() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let long: Vec<String> = rust_files(&web)
        .into_iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(web.join(&f))
                .unwrap()
                .lines()
                .count();
            (lines > WEB_MAX_LINES).then(|| format!("src/web/{f}: {lines} lines"))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these along their seams (one module per page, tests beside them):\n{}",
        long.join("\n")
    );
}

/// The lines (1-based) of `source` whose code, not comments, builds a sea-orm row to write.
fn row_building_lines(source: &str) -> Vec<usize> {
    code_lines_where(source, |code| {
        code.contains("ActiveModel")
            || code.contains("ActiveValue")
            || code.contains("NotSet")
            || code.contains("sea_orm::Set")
            || code
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|word| word == "Set")
    })
}

#[test]
fn services_build_no_active_models() {
    let services = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/services");
    let files = rust_files(&services);
    assert!(files.iter().any(|f| f == "transfers.rs"), "{files:?}");
    let offences = offending_lines("services", files, &[], row_building_lines);
    assert!(
        offences.is_empty(),
        "services decide and call db::* to write; the row (ActiveModel, Set) is built in db/:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_row_check_sees_active_models_and_not_sets_or_comments() {
    let clean = "// an ActiveModel is built in db/\nlet s: HashSet<u8> = BTreeSet::new();\nusers::insert(db, new).await?;\n";
    assert!(row_building_lines(clean).is_empty());
    let offending = "let mut row: user::ActiveModel = u.into();\nrow.name = Set(name);\nrow.x = ActiveValue::NotSet;\n";
    assert_eq!(row_building_lines(offending), [1, 2, 3]);
}

/// The `.is_in(` calls that may stay, as (file under `src/`, code on the line, why): lists that
/// do not grow with the data (constants, a transfer's two parties, a member's own organisations)
/// or are not ids. A list of ids that does grow is bound as one parameter through
/// `db::packed::id_in_expr`: sea-query's `IN` binds one parameter per item, so every length is a
/// statement text of its own, parsed and planned anew on PostgreSQL and kept in sqlx's bounded
/// statement cache beside the pages' own (docs/performance.md, stop 37).
const IS_IN_MAY_STAY: &[(&str, &str, &str)] = &[
    (
        "services/transfers.rs",
        "is_in([f.source.id.get(), f.recipient.id.get()])",
        "two parties",
    ),
    (
        "db/holdings.rs",
        "OrganisationId.is_in(ids.to_vec())",
        "a member's organisations",
    ),
    (
        "db/ledger_query.rs",
        "SourceOrgId.is_in(ids.clone())",
        "a member's organisations",
    ),
    (
        "db/ledger_query.rs",
        "RecipientOrgId.is_in(ids.clone())",
        "a member's organisations",
    ),
    (
        "db/ledger_query.rs",
        "Reference.is_in(references",
        "the log's references: text",
    ),
    (
        "db/transfers.rs",
        "is_in(crate::domain::workflow::INITIALIZED_NAMES)",
        "a constant",
    ),
    (
        "db/transfers.rs",
        "is_in(hostmaster_steps(side))",
        "a constant",
    ),
    (
        "db/organisations.rs",
        "Id.is_in(ids.into_iter().flatten())",
        "changes only when an organisation gains its first member",
    ),
];

/// The lines (1-based) of `source`, a file at `file` under `src/`, whose code calls `.is_in(`
/// other than as [`IS_IN_MAY_STAY`] lets it.
fn is_in_lines(file: &str, source: &str) -> Vec<usize> {
    code_lines_where(source, |code| {
        code.contains(".is_in(")
            && !IS_IN_MAY_STAY
                .iter()
                .any(|(f, snippet, _)| *f == file && code.contains(snippet))
    })
}

#[test]
fn lists_of_ids_that_grow_are_bound_as_one_parameter() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offences = Vec::new();
    for layer in ["db", "services", "web"] {
        for file in rust_files(&src.join(layer)) {
            let file = format!("{layer}/{file}");
            let text = std::fs::read_to_string(src.join(&file)).unwrap();
            offences.extend(
                is_in_lines(&file, &text)
                    .iter()
                    .map(|n| format!("src/{file}:{n}")),
            );
        }
    }
    assert!(
        offences.is_empty(),
        "bind the ids as one parameter with db::packed::id_in_expr (or add the list, with why, \
         to IS_IN_MAY_STAY):\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_is_in_check_sees_lists_of_ids_and_not_comments_or_the_exempt() {
    let offending = "// .is_in( in a comment\n.filter(user::Column::Id.is_in(ids))\n";
    assert_eq!(is_in_lines("db/users.rs", offending), [2]);
    let exempt = ".filter(C::OrganisationId.is_in(ids.to_vec()));";
    assert!(is_in_lines("db/holdings.rs", exempt).is_empty());
    // An exemption holds in its own file only.
    assert_eq!(is_in_lines("db/users.rs", exempt), [1]);
}
