//! The pure core of ipxfer: registries, IPv4 blocks, registry file formats, the transfer workflow,
//! policy rules, fees and the ledger. Nothing here performs I/O, awaits, or reads the clock; time
//! and identifiers are passed in, so every rule is a plain function that unit tests can drive.
//!
//! A crate of its own so that its `Cargo.toml` is the list of what it may use (held by
//! `architecture::the_domain_depends_only_on_pure_crates` in the `ipxfer` tests), and so that the
//! fuzz targets build it without the web and database stack. `ipxfer` re-exports it as
//! `ipxfer::domain`; inside this crate the same modules are `crate::block`, `crate::policy`, ...

pub mod authz;
pub mod block;
pub mod charts;
pub mod currency;
pub mod delegated;
pub mod export;
pub mod fees;
pub mod finding;
pub mod format;
pub mod ledger;
pub mod notification;
pub mod origins;
pub mod policy;
pub mod rir;
pub mod statistics;
pub mod timeline;
pub mod tlog;
pub mod transfer;
pub mod transfer_log;
pub mod workflow;

pub use block::{BlockError, Ipv4Range};
pub use finding::{Finding, Severity};
pub use rir::Rir;
pub use transfer::{Side, TransferFacts, TransferType};
