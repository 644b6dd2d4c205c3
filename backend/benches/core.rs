//! Criterion benches of the pure core's hot paths (issue 11): policy evaluation of a transfer,
//! block arithmetic, the ledger chain's hashing (entry hashes and the Merkle tree), and reading
//! and writing an NRO transfer log.
//!
//! `cargo bench -p ipxfer --bench core` (stable); figures in docs/performance.md.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ipxfer::domain::block::{coalesce, parse_block_list};
use ipxfer::domain::export::nro::{LogHeader, NroVersion, TransferLogWriter};
use ipxfer::domain::ledger::{self, ChainHead, EntryKind, LedgerParty, Movement};
use ipxfer::domain::policy::{self, PolicyInput, Profiles, Stage};
use ipxfer::domain::transfer::{
    DocumentKind, HoldingFacts, HoldingOrigin, InFlightClaim, Membership, NeedJustification,
    OrgFacts,
};
use ipxfer::domain::transfer::{OrgId, TransferId};
use ipxfer::domain::{Ipv4Range, Rir, TransferFacts, TransferType};
use ipxfer::domain::{tlog, transfer_log};
use ipxfer::services::scale;
use time::macros::{date, datetime};

/// A /24 of 24.0.0.0/8 by index.
fn slash24(i: u32) -> Ipv4Range {
    let start = (24 << 24) + i * 256;
    Ipv4Range::new(start, start + 255).expect("a /24")
}

fn org(id: i64, registry: Rir) -> OrgFacts {
    OrgFacts {
        id: OrgId(id),
        registry,
        name: format!("Organisation {id}"),
        membership: Membership::GoodStanding,
    }
}

/// Policy of an inter-RIR transfer of `blocks` /24s, each held by the source, with as many
/// overlapping claims of other transfers in flight.
fn policy(c: &mut Criterion) {
    let profiles = Profiles::default_shipped();
    for blocks in [1u32, 16] {
        let transfer = TransferFacts {
            id: TransferId(1),
            reference: "XFER-1".into(),
            kind: TransferType::ResourceTransfer,
            source: org(1, Rir::Arin),
            recipient: org(2, Rir::RipeNcc),
            blocks: (0..blocks).map(slash24).collect(),
            need: Some(NeedJustification {
                text: "new data centre".into(),
                horizon_months: Some(24),
                planned_utilisation_percent: Some(60),
            }),
            documents: vec![
                DocumentKind::TransferAgreement,
                DocumentKind::CompanyRegistration,
            ],
        };
        let holdings: Vec<HoldingFacts> = (0..blocks)
            .map(|i| HoldingFacts {
                range: slash24(i),
                registry: Rir::Arin,
                org_id: OrgId(1),
                registered_on: Some(date!(2010 - 01 - 01)),
                received_on: Some(date!(2010 - 01 - 01)),
                origin: HoldingOrigin::RegistryIssued,
            })
            .collect();
        let in_flight: Vec<InFlightClaim> = (0..blocks)
            .map(|i| InFlightClaim {
                reference: format!("XFER-{}", i + 2),
                range: slash24(i),
            })
            .collect();
        let input = PolicyInput {
            transfer: &transfer,
            source_holdings: &holdings,
            in_flight: &in_flight,
            // No other receipts and no recorded exceptions: the common case.
            source_receipts: &[],
            exceptions: &[],
            today: date!(2026 - 11 - 30),
            stage: Stage::Review,
        };
        c.bench_function(&format!("policy: evaluate, {blocks} block(s)"), |b| {
            b.iter(|| policy::evaluate(black_box(&input), &profiles))
        });
    }
}

/// Parsing a block list, subtracting a block from a holding, coalescing many ranges.
fn blocks(c: &mut Criterion) {
    let list = "192.0.2.0/24\n198.51.100.0/22\n203.0.113.0 - 203.0.113.127\n24.1.0.0/16";
    c.bench_function("blocks: parse a list of four", |b| {
        b.iter(|| parse_block_list(black_box(list), 64))
    });
    let holding: Ipv4Range = "24.0.0.0/16".parse().expect("a /16");
    let hole: Ipv4Range = "24.0.77.0/24".parse().expect("a /24");
    c.bench_function("blocks: subtract a /24 from a /16", |b| {
        b.iter(|| black_box(holding).subtract(black_box(&hole)))
    });
    let scattered: Vec<Ipv4Range> = (0..10_000u32).rev().map(slash24).collect();
    c.bench_function("blocks: coalesce 10,000 adjacent /24s", |b| {
        b.iter_batched(|| scattered.clone(), coalesce, BatchSize::SmallInput)
    });
}

/// The movement of one imported /24, as the transfer-log import appends it.
fn movement(i: u32) -> Movement {
    let party = |name: &str| LedgerParty {
        org_id: None,
        name: Some(name.to_owned()),
        country: Some("US".to_owned()),
    };
    Movement {
        kind: EntryKind::Imported,
        transfer_id: None,
        transfer_reference: None,
        transfer_type: TransferType::ResourceTransfer,
        source_rir: Rir::Arin,
        recipient_rir: Rir::RipeNcc,
        source: party("Historic holder"),
        recipient: party("Historic recipient"),
        range: slash24(i),
        original: Some(slash24(i)),
        transfer_date: datetime!(2015-06-01 12:00 UTC),
        source_registration_date: Some(datetime!(2005-01-01 0:00 UTC)),
    }
}

/// An entry's hash (canonical bytes and SHA-256), its check, and the Merkle tree's append.
fn chain(c: &mut Criterion) {
    let head = ChainHead {
        seq: 41,
        hash: "0".repeat(64),
    };
    let recorded = datetime!(2026-11-30 12:00 UTC);
    c.bench_function("chain: next entry (canonical bytes + SHA-256)", |b| {
        b.iter_batched(
            || movement(7),
            |m| ledger::next_entry(Some(&head), m, recorded),
            BatchSize::SmallInput,
        )
    });
    let entry = ledger::next_entry(Some(&head), movement(7), recorded);
    c.bench_function("chain: check an entry's hash", |b| {
        b.iter(|| ledger::check_hash(black_box(&entry)))
    });
    let leaves: Vec<tlog::Hash> = (0..1_000u32)
        .map(|i| {
            let e = ledger::next_entry(Some(&head), movement(i), recorded);
            tlog::leaf_hash(&tlog::leaf_data(&e))
        })
        .collect();
    c.bench_function("chain: Merkle tree, append 1,000 leaves", |b| {
        b.iter(|| {
            let mut hashes = tlog::Hashes::default();
            tlog::append_leaves(0, &mut hashes, leaves.iter().copied())
        })
    });
}

/// Reading a transfer log of 6,000 records as `seed scale` generates them (about 2.9 MB), the
/// first step of `ipxfer import transfer-log`.
fn transfer_log(c: &mut Criterion) {
    let sizes = scale::Scale {
        holdings: 25_000,
        ledger: 6_000,
        finalized: 0,
        ..Default::default()
    };
    let (_, log) = scale::import_files(&sizes).expect("the generated files");
    c.bench_function("transfer log: read 6,000 records", |b| {
        b.iter(|| transfer_log::parse_bytes(black_box(&log)).expect("a valid log"))
    });
}

/// Writing 6,000 ledger entries of imported /24s as a 4.0 transfer log, the loop of every NRO
/// export and of the public log's rebuild (the entries are cloned outside the timing).
fn transfer_log_writer(c: &mut Criterion) {
    let recorded = datetime!(2026-11-30 12:00 UTC);
    let mut head = None;
    let entries: Vec<_> = (0..6_000u32)
        .map(|i| {
            let e = ledger::next_entry(head.as_ref(), movement(i), recorded);
            head = Some(ChainHead {
                seq: e.seq,
                hash: e.hash.clone(),
            });
            e
        })
        .collect();
    let header = LogHeader {
        version: NroVersion::V4_0,
        producer: None,
        production_date: recorded,
        records_start: datetime!(2015-06-01 12:00 UTC),
        records_end: datetime!(2015-06-01 12:00 UTC),
    };
    c.bench_function("transfer log: write 6,000 entries (4.0)", |b| {
        b.iter_batched(
            || entries.clone(),
            |entries| {
                let out = Vec::with_capacity(4 << 20);
                let mut w = TransferLogWriter::new(out, &header).expect("a Vec takes it");
                for e in entries {
                    w.push_entry(e).expect("a Vec takes it");
                }
                w.finish().expect("a Vec takes it")
            },
            BatchSize::LargeInput,
        )
    });
}

criterion_group!(
    benches,
    policy,
    blocks,
    chain,
    transfer_log,
    transfer_log_writer
);
criterion_main!(benches);
