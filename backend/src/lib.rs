//! ipxfer coordinates IPv4 address transfers between the five Regional Internet Registries.
//!
//! Layers, from the inside out (see `docs/architecture.md`):
//! - [`domain`]: the pure core (blocks, registries, file formats, workflow, policy, ledger), the
//!   `ipxfer-domain` crate in `backend/domain/`, re-exported under this name;
//! - [`db`]: entities and queries on SQLite or PostgreSQL through sea-orm;
//! - [`services`]: use cases, each one database transaction around the pure core;
//! - [`web`]: the axum router, thin handlers and askama pages;
//! - [`cli`]: the `ipxfer` command line;
//! - [`mail`]: mail transports (SMTP, a folder of `.eml` files, a test stub);
//! - [`background`]: the outbox worker and deadline scheduler, in `serve` or `ipxfer worker`;
//! - [`process`]: this process as outbox claims name it, and whether a claimer has died.

// mimalloc for Rust and, through its `override` feature, for the bundled SQLite's C code too:
// glibc's allocator spent a fifth of SQLite's worker threads' time in arena locks and
// consolidation (perf; docs/performance.md). Declared here rather than in `main.rs` so that
// every program built on this crate runs on it: the benchmarks in `examples/` and `benches/`
// measured glibc's allocator while the binary ran mimalloc.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod background;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub use ipxfer_domain as domain;
pub mod error;
pub mod mail;
pub mod process;
pub mod services;
pub mod web;
