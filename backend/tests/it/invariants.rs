//! Property test over random sequences of filings, decisions and finalizations through the
//! services: whatever happens, holdings never overlap, address space is conserved, the chain
//! verifies, and the imported snapshot with the ledger replayed reproduces the holdings.

use ipxfer::db::holdings;
use ipxfer::domain::workflow::State;
use ipxfer::domain::{Ipv4Range, Side};
use ipxfer::services::ledger;
use ipxfer::services::transfers::Command;
use proptest::prelude::*;

use crate::transfers::{World, need};

/// How far one transfer is taken.
#[derive(Debug, Clone, Copy)]
enum Depth {
    Filed,
    Withdrawn,
    RejectedBySource,
    Accepted,
    Approved,
    Finalized,
}

fn depth() -> impl Strategy<Value = Depth> {
    prop_oneof![
        Just(Depth::Filed),
        Just(Depth::Withdrawn),
        Just(Depth::RejectedBySource),
        Just(Depth::Accepted),
        Just(Depth::Approved),
        Just(Depth::Finalized),
        Just(Depth::Finalized),
    ]
}

/// A /24 or /23 somewhere in the source's 20.0.0.0/20.
fn block() -> impl Strategy<Value = String> {
    (0u32..16, prop::bool::ANY).prop_map(|(third, wide)| {
        if wide {
            format!("20.0.{}.0/23", third & !1)
        } else {
            format!("20.0.{third}.0/24")
        }
    })
}

async fn check_invariants(w: &World, total: u64) {
    let mut ranges = holdings::all_ranges(&w.db.conn).await.unwrap();
    ranges.sort();
    for pair in ranges.windows(2) {
        assert!(pair[0].1 < pair[1].0, "holdings overlap: {pair:?}");
    }
    let held: u64 = ranges.iter().map(|(s, e, _)| (e - s + 1) as u64).sum();
    assert_eq!(held, total, "address space is not conserved");
    let v = ledger::verify(&w.db.conn).await.unwrap();
    assert!(v.is_intact(), "{}", v.summary());
}

async fn run(steps: Vec<(String, Depth)>) {
    let w = World::new().await;
    let total: u64 = holdings::all_ranges(&w.db.conn)
        .await
        .unwrap()
        .iter()
        .map(|(s, e, _)| (e - s + 1) as u64)
        .sum();
    let mut finalized = 0;
    for (block, depth) in steps {
        let Ok(id) = w.file(&block).await else {
            // Refused by policy (not held any more, in flight): nothing may have changed.
            check_invariants(&w, total).await;
            continue;
        };
        w.attach_documents(id).await;
        match depth {
            Depth::Filed => {}
            Depth::Withdrawn => {
                w.act(&w.source_member, id, Command::Withdraw)
                    .await
                    .unwrap();
            }
            Depth::RejectedBySource => {
                w.act(&w.recipient_member, id, Command::Accept { need: need() })
                    .await
                    .unwrap();
                w.act(
                    &w.arin_hostmaster,
                    id,
                    Command::Reject {
                        side: Side::Source,
                        reason: "no".into(),
                    },
                )
                .await
                .unwrap();
            }
            Depth::Accepted | Depth::Approved | Depth::Finalized => {
                w.act(&w.recipient_member, id, Command::Accept { need: need() })
                    .await
                    .unwrap();
                if !matches!(depth, Depth::Accepted) {
                    w.approve(&w.arin_hostmaster, id, Side::Source)
                        .await
                        .unwrap();
                    w.approve(&w.ripe_hostmaster, id, Side::Recipient)
                        .await
                        .unwrap();
                }
                if matches!(depth, Depth::Finalized) {
                    w.act(&w.arin_hostmaster, id, Command::ConfirmFees)
                        .await
                        .unwrap();
                    let state = w
                        .act(&w.arin_hostmaster, id, Command::Finalize)
                        .await
                        .unwrap();
                    assert_eq!(state, State::Completed);
                    finalized += 1;
                }
            }
        }
        check_invariants(&w, total).await;
    }
    let v = ledger::verify(&w.db.conn).await.unwrap();
    assert_eq!(v.entries, finalized);
    // What moved is exactly what the recipient now holds in 20.0.0.0/20.
    let moved: Vec<Ipv4Range> = ipxfer::db::ledger::page_after(&w.db.conn, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.movement.range)
        .collect();
    let received: Vec<Ipv4Range> = w
        .holdings_of(w.ripe_org)
        .await
        .iter()
        .map(|s| s.parse::<Ipv4Range>().unwrap())
        .filter(|r| r.start() >> 12 == u32::from(std::net::Ipv4Addr::new(20, 0, 0, 0)) >> 12)
        .collect();
    assert_eq!(
        ipxfer::domain::block::coalesce(moved),
        ipxfer::domain::block::coalesce(received)
    );
}

proptest! {
    // Each case builds a fresh database: a handful of cases keeps the suite quick on PostgreSQL.
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn holdings_and_ledger_stay_consistent_under_random_workflows(
        steps in prop::collection::vec((block(), depth()), 1..10)
    ) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(steps));
    }
}
