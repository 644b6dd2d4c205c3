//! Tests of IPv4 blocks: parsing what people type, range arithmetic, the special-purpose
//! registry, block lists, and properties checked against plain address sets.

use super::*;
use proptest::prelude::*;

fn range(text: &str) -> Ipv4Range {
    text.parse().unwrap()
}

fn net(text: &str) -> Ipv4Net {
    text.parse().unwrap()
}

fn addr(text: &str) -> Ipv4Addr {
    text.parse().unwrap()
}

fn message(text: &str) -> String {
    text.parse::<Ipv4Range>().unwrap_err().to_string()
}

// --- construction -------------------------------------------------------------------------

#[test]
fn new_accepts_ordered_bounds_and_rejects_reversed_ones() {
    let r = Ipv4Range::new(10, 20).unwrap();
    assert_eq!((r.start(), r.end(), r.size()), (10, 20, 11));
    assert_eq!(Ipv4Range::new(7, 7).unwrap().size(), 1);
    let err = Ipv4Range::new(
        u32::from(addr("198.51.101.0")),
        u32::from(addr("198.51.100.0")),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "\"198.51.101.0 - 198.51.100.0\" ends before it starts"
    );
}

#[test]
fn from_net_covers_the_prefix_and_ignores_host_bits() {
    let r = Ipv4Range::from_net(net("198.51.100.0/22"));
    assert_eq!(
        (r.first(), r.last()),
        (addr("198.51.100.0"), addr("198.51.103.255"))
    );
    assert_eq!(r.size(), 1024);
    assert_eq!(
        Ipv4Range::from_net(net("198.51.100.77/24")),
        range("198.51.100.0/24")
    );
    let all = Ipv4Range::from_net(net("0.0.0.0/0"));
    assert_eq!((all.start(), all.end(), all.size()), (0, u32::MAX, 1 << 32));
}

#[test]
fn from_start_count_takes_counts_that_are_not_powers_of_two() {
    let r = Ipv4Range::from_start_count(addr("196.4.163.0"), 768).unwrap();
    assert_eq!(r.last(), addr("196.4.165.255"));
    assert_eq!(r.size(), 768);
    assert_eq!(
        r.to_cidrs(),
        vec![net("196.4.163.0/24"), net("196.4.164.0/23")]
    );
    assert_eq!(r.as_cidr(), None);
    assert_eq!(r.to_string(), "196.4.163.0 - 196.4.165.255");

    let r = Ipv4Range::from_start_count(addr("196.4.20.0"), 2560).unwrap();
    assert_eq!(r.last(), addr("196.4.29.255"));
    assert_eq!(
        r.to_cidrs(),
        vec![
            net("196.4.20.0/22"),
            net("196.4.24.0/22"),
            net("196.4.28.0/23")
        ]
    );
    assert_eq!(r.to_string(), "196.4.20.0 - 196.4.29.255");
}

#[test]
fn from_start_count_handles_the_edges_of_the_space() {
    let all = Ipv4Range::from_start_count(addr("0.0.0.0"), 1 << 32).unwrap();
    assert_eq!((all.start(), all.end()), (0, u32::MAX));
    assert_eq!(all.as_cidr(), Some(net("0.0.0.0/0")));
    let top = Ipv4Range::from_start_count(addr("255.255.255.255"), 1).unwrap();
    assert_eq!(top.size(), 1);
    assert_eq!(top.to_string(), "255.255.255.255/32");
}

#[test]
fn from_start_count_rejects_zero_and_overruns() {
    assert_eq!(
        Ipv4Range::from_start_count(addr("198.51.100.0"), 0)
            .unwrap_err()
            .to_string(),
        "a block starting at 198.51.100.0 must hold at least one address"
    );
    assert_eq!(
        Ipv4Range::from_start_count(addr("255.255.255.0"), 257)
            .unwrap_err()
            .to_string(),
        "257 addresses starting at 255.255.255.0 run past 255.255.255.255"
    );
    assert!(Ipv4Range::from_start_count(addr("0.0.0.1"), 1 << 32).is_err());
    assert!(Ipv4Range::from_start_count(addr("0.0.0.0"), (1 << 32) + 1).is_err());
    assert!(Ipv4Range::from_start_count(addr("1.2.3.4"), u64::MAX).is_err());
}

#[test]
fn ordering_is_by_start_then_end() {
    let mut v = vec![
        range("10.0.0.0/8"),
        range("9.0.0.0/8"),
        range("10.0.0.0/16"),
    ];
    v.sort();
    assert_eq!(
        v,
        vec![
            range("9.0.0.0/8"),
            range("10.0.0.0/16"),
            range("10.0.0.0/8")
        ]
    );
}

// --- CIDR work ----------------------------------------------------------------------------

#[test]
fn to_cidrs_of_single_prefixes_and_edges() {
    assert_eq!(
        range("198.51.100.0/22").to_cidrs(),
        vec![net("198.51.100.0/22")]
    );
    assert_eq!(range("0.0.0.0/0").to_cidrs(), vec![net("0.0.0.0/0")]);
    assert_eq!(range("0.0.0.0").to_cidrs(), vec![net("0.0.0.0/32")]);
    assert_eq!(
        range("255.255.255.255").to_cidrs(),
        vec![net("255.255.255.255/32")]
    );
    assert_eq!(
        range("0.0.0.1 - 255.255.255.255").to_cidrs().len(),
        32,
        "one prefix per bit length from /32 up to /1"
    );
    assert_eq!(
        range("255.255.255.253 - 255.255.255.255").to_cidrs(),
        vec![net("255.255.255.253/32"), net("255.255.255.254/31")]
    );
    assert_eq!(
        range("0.0.0.0 - 255.255.255.254").to_cidrs().last(),
        Some(&net("255.255.255.254/32"))
    );
}

#[test]
fn as_cidr_only_for_exact_prefixes() {
    assert_eq!(
        range("198.51.100.0/24").as_cidr(),
        Some(net("198.51.100.0/24"))
    );
    assert_eq!(
        range("198.51.100.7").as_cidr(),
        Some(net("198.51.100.7/32"))
    );
    assert_eq!(
        range("198.51.100.0 - 198.51.101.255").as_cidr(),
        Some(net("198.51.100.0/23"))
    );
    // Right size, wrong alignment.
    assert_eq!(range("198.51.101.0 - 198.51.102.255").as_cidr(), None);
    assert_eq!(range("198.51.100.0 - 198.51.100.2").as_cidr(), None);
}

// --- set operations -----------------------------------------------------------------------

#[test]
fn overlaps_contains_and_intersection() {
    let big = range("198.51.100.0/22");
    let inside = range("198.51.101.0/24");
    let across = range("198.51.103.0 - 198.51.104.255");
    let apart = range("198.51.104.0/24");
    let adjacent = range("198.51.104.0");

    assert!(big.overlaps(&inside) && inside.overlaps(&big));
    assert!(big.overlaps(&across));
    assert!(!big.overlaps(&apart) && !big.overlaps(&adjacent));

    assert!(big.contains(&inside) && big.contains(&big));
    assert!(!inside.contains(&big) && !big.contains(&across));

    assert!(big.contains_addr(addr("198.51.100.0")));
    assert!(big.contains_addr(addr("198.51.103.255")));
    assert!(!big.contains_addr(addr("198.51.104.0")));
    assert!(range("0.0.0.0/0").contains_addr(addr("255.255.255.255")));

    assert_eq!(big.intersection(&inside), Some(inside));
    assert_eq!(big.intersection(&across), Some(range("198.51.103.0/24")));
    assert_eq!(big.intersection(&apart), None);
}

#[test]
fn subtract_leaves_zero_one_or_two_remainders() {
    let block = range("198.51.100.0/22");
    assert_eq!(block.subtract(&block), vec![]);
    assert_eq!(block.subtract(&range("0.0.0.0/0")), vec![]);
    assert_eq!(block.subtract(&range("203.0.113.0/24")), vec![block]);
    assert_eq!(
        block.subtract(&range("198.51.100.0/24")),
        vec![range("198.51.101.0 - 198.51.103.255")]
    );
    assert_eq!(
        block.subtract(&range("198.51.103.0/24")),
        vec![range("198.51.100.0 - 198.51.102.255")]
    );
    assert_eq!(
        block.subtract(&range("198.51.101.0/24")),
        vec![range("198.51.100.0/24"), range("198.51.102.0/23")]
    );
    assert_eq!(
        range("0.0.0.0/0").subtract(&range("0.0.0.0")),
        vec![range("0.0.0.1 - 255.255.255.255")]
    );
    assert_eq!(
        range("0.0.0.0/0").subtract(&range("255.255.255.255")),
        vec![range("0.0.0.0 - 255.255.255.254")]
    );
}

#[test]
fn coalesce_merges_overlapping_and_adjacent_ranges() {
    let merged = coalesce([
        range("198.51.102.0/24"),
        range("198.51.100.0/24"),
        range("198.51.101.0/24"),
        range("198.51.100.128/25"),
        range("203.0.113.0/24"),
        range("255.255.255.255"),
        range("255.255.255.254"),
    ]);
    assert_eq!(
        merged,
        vec![
            range("198.51.100.0 - 198.51.102.255"),
            range("203.0.113.0/24"),
            range("255.255.255.254/31"),
        ]
    );
    assert_eq!(coalesce([]), vec![]);
    assert_eq!(
        coalesce([range("128.0.0.0/1"), range("0.0.0.0/1")]),
        vec![range("0.0.0.0/0")]
    );
}

#[test]
fn total_size_sums_addresses() {
    assert_eq!(total_size(&[]), 0);
    assert_eq!(
        total_size(&[range("198.51.100.0/24"), range("203.0.113.7")]),
        257
    );
    assert_eq!(
        total_size(&[range("0.0.0.0/0"), range("0.0.0.0/0")]),
        1 << 33
    );
}

// --- special purpose ----------------------------------------------------------------------

#[test]
fn special_purpose_registry_is_sorted_and_nests_only_the_broadcast() {
    assert_eq!(SPECIAL_PURPOSE.len(), 19);
    for pair in SPECIAL_PURPOSE.windows(2) {
        let (a, b) = (
            Ipv4Range::from_net(pair[0].net),
            Ipv4Range::from_net(pair[1].net),
        );
        assert!(a < b, "{} then {}", pair[0].net, pair[1].net);
        // IANA lists 255.255.255.255/32 inside 240.0.0.0/4; every other pair is disjoint.
        assert!(
            a.end() < b.start() || (a.contains(&b) && b.size() == 1),
            "{} then {}",
            pair[0].net,
            pair[1].net
        );
    }
    for entry in SPECIAL_PURPOSE {
        assert_eq!(entry.net, entry.net.trunc(), "{} has host bits", entry.net);
        assert!(entry.rfc.starts_with("RFC "));
    }
}

#[test]
fn special_purpose_flags_every_touched_entry() {
    let names = |text: &str| -> Vec<&str> {
        range(text)
            .special_purpose()
            .iter()
            .map(|e| e.name)
            .collect()
    };
    assert_eq!(names("198.51.100.0/24"), vec!["Documentation (TEST-NET-2)"]);
    assert_eq!(names("198.51.100.7"), vec!["Documentation (TEST-NET-2)"]);
    assert_eq!(names("10.1.2.0/24"), vec!["Private-Use"]);
    assert_eq!(names("100.127.255.255"), vec!["Shared Address Space"]);
    assert_eq!(
        names("255.255.255.255"),
        vec!["Reserved", "Limited Broadcast"]
    );
    assert_eq!(names("255.255.255.254"), vec!["Reserved"]);
    assert_eq!(names("239.0.0.0/8"), vec!["Multicast"]);
    assert_eq!(names("8.8.8.0/24"), Vec::<&str>::new());
    assert_eq!(names("100.128.0.0/10"), Vec::<&str>::new());
    assert_eq!(names("198.20.0.0/14"), Vec::<&str>::new());
    // Partial overlap counts.
    assert_eq!(names("9.255.255.0 - 10.0.0.0"), vec!["Private-Use"]);
    assert_eq!(
        names("192.0.0.0 - 192.0.2.0"),
        vec!["IETF Protocol Assignments", "Documentation (TEST-NET-1)"]
    );
    assert_eq!(
        range("0.0.0.0/0").special_purpose().len(),
        SPECIAL_PURPOSE.len()
    );

    let as112 = range("192.175.48.0/24").special_purpose();
    assert_eq!(as112[0].rfc, "RFC 7534");
    assert!(as112[0].globally_reachable);
    assert!(!range("192.168.1.0/24").special_purpose()[0].globally_reachable);
}

// --- parsing user input -------------------------------------------------------------------

#[test]
fn from_str_accepts_cidr_range_and_single_address() {
    let expected = Ipv4Range::new(
        u32::from(addr("198.51.100.0")),
        u32::from(addr("198.51.101.255")),
    )
    .unwrap();
    for text in [
        "198.51.100.0/23",
        "198.51.100.0 - 198.51.101.255",
        "198.51.100.0-198.51.101.255",
        "198.51.100.0 – 198.51.101.255",
        "198.51.100.0–198.51.101.255",
        "  198.51.100.0/23\t",
        "198.51.100.0 / 23",
    ] {
        assert_eq!(range(text), expected, "{text:?}");
    }
    let single = range(" 198.51.100.7 ");
    assert_eq!((single.first(), single.size()), (addr("198.51.100.7"), 1));
    assert_eq!(range("0.0.0.0/0").size(), 1 << 32);
    assert_eq!(range("198.51.100.7/32"), single);
    assert_eq!(range("198.51.100.7 - 198.51.100.7"), single);
}

#[test]
fn from_str_error_messages() {
    assert_eq!(
        message("198.51.100.0/33"),
        "\"198.51.100.0/33\" is not a valid prefix: the prefix length must be between 0 and 32"
    );
    assert_eq!(
        message("198.51.100.1/24"),
        "\"198.51.100.1/24\" has host bits set: did you mean 198.51.100.0/24?"
    );
    assert_eq!(
        message("198.51.101.0 - 198.51.100.0"),
        "\"198.51.101.0 - 198.51.100.0\" ends before it starts"
    );
    assert_eq!(
        message("198.51.300.0"),
        "\"198.51.300.0\" is not an IPv4 address"
    );
    let empty =
        "enter a block as CIDR (198.51.100.0/24) or a range (198.51.100.0 - 198.51.100.255)";
    assert_eq!(message(""), empty);
    assert_eq!(message("  \t"), empty);
    assert_eq!(
        message("198.051.100.0/24"),
        "\"198.051.100.0\" has zero-padded octets: did you mean 198.51.100.0?"
    );
    assert_eq!(
        message("198.51.100.0 -"),
        "\"198.51.100.0 -\" needs an address on each side of the dash"
    );
    assert_eq!(
        message("198.51.100.0 - 198.51.100"),
        "\"198.51.100\" is not an IPv4 address"
    );
}

#[test]
fn from_str_rejects_malformed_input() {
    for (text, expected) in [
        (
            "198.51.100.0/",
            BlockError::BadPrefixLength {
                input: "198.51.100.0/".into(),
            },
        ),
        (
            "198.51.100.0/+8",
            BlockError::BadPrefixLength {
                input: "198.51.100.0/+8".into(),
            },
        ),
        (
            "198.51.100.0/024",
            BlockError::BadPrefixLength {
                input: "198.51.100.0/024".into(),
            },
        ),
        (
            "198.51.100.0/24/25",
            BlockError::BadPrefixLength {
                input: "198.51.100.0/24/25".into(),
            },
        ),
        (
            "/24",
            BlockError::NotAnAddress {
                input: "/24".into(),
            },
        ),
        (
            "198.51.100",
            BlockError::NotAnAddress {
                input: "198.51.100".into(),
            },
        ),
        (
            "198.51.100.0.1",
            BlockError::NotAnAddress {
                input: "198.51.100.0.1".into(),
            },
        ),
        (
            "198.51..0",
            BlockError::NotAnAddress {
                input: "198.51..0".into(),
            },
        ),
        (
            "198.51.100.-1",
            BlockError::NotAnAddress {
                input: "198.51.100.".into(),
            },
        ),
        (
            "198.51.100.+1",
            BlockError::NotAnAddress {
                input: "198.51.100.+1".into(),
            },
        ),
        (
            "198.51.100.0001",
            BlockError::NotAnAddress {
                input: "198.51.100.0001".into(),
            },
        ),
        (
            "198.51.100.0 198.51.100.9",
            BlockError::NotAnAddress {
                input: "198.51.100.0 198.51.100.9".into(),
            },
        ),
        (
            "- 198.51.100.0",
            BlockError::IncompleteRange {
                input: "- 198.51.100.0".into(),
            },
        ),
        (
            "2001:db8::/32",
            BlockError::NotAnAddress {
                input: "2001:db8::".into(),
            },
        ),
        (
            "example.net",
            BlockError::NotAnAddress {
                input: "example.net".into(),
            },
        ),
    ] {
        assert_eq!(text.parse::<Ipv4Range>(), Err(expected), "{text:?}");
    }
}

#[test]
fn parse_padded_addr_reads_arin_octets() {
    assert_eq!(parse_padded_addr("054.224.000.000"), Ok(addr("54.224.0.0")));
    assert_eq!(parse_padded_addr("54.224.0.0"), Ok(addr("54.224.0.0")));
    assert_eq!(
        parse_padded_addr(" 255.255.255.255 "),
        Ok(Ipv4Addr::BROADCAST)
    );
    assert_eq!(
        parse_padded_addr("000.000.000.000"),
        Ok(Ipv4Addr::UNSPECIFIED)
    );
    assert_eq!(
        parse_padded_addr("054.224.000.256")
            .unwrap_err()
            .to_string(),
        "\"054.224.000.256\" is not an IPv4 address"
    );
    for bad in [
        "",
        "054.224.000",
        "0054.224.0.0",
        "54.224.0.0.0",
        "54.224.0.x",
        "54..0.0",
    ] {
        assert_eq!(
            parse_padded_addr(bad),
            Err(BlockError::NotAnAddress { input: bad.into() }),
            "{bad:?}"
        );
    }
}

#[test]
fn parse_block_list_reads_one_block_per_line() {
    let text = "198.51.100.0/24\n\n  203.0.113.0 - 203.0.113.127  \r\n192.0.2.7\n";
    assert_eq!(
        parse_block_list(text, 64),
        Ok(vec![
            range("198.51.100.0/24"),
            range("203.0.113.0/25"),
            range("192.0.2.7"),
        ])
    );
    assert_eq!(parse_block_list("", 64), Ok(vec![]));
    assert_eq!(parse_block_list("\n  \n", 64), Ok(vec![]));
}

#[test]
fn parse_block_list_reports_bad_lines_and_overlaps() {
    let text =
        "198.51.100.0/24\n198.51.300.0\n\n203.0.113.0/24\n198.51.100.128/25\n198.51.100.1/24";
    let errors = parse_block_list(text, 64).unwrap_err();
    let rendered: Vec<(usize, String)> = errors
        .iter()
        .map(|(line, e)| (*line, e.to_string()))
        .collect();
    assert_eq!(
        rendered,
        vec![
            (2, "\"198.51.300.0\" is not an IPv4 address".to_owned()),
            (
                5,
                "198.51.100.128/25 overlaps 198.51.100.0/24 on line 1".to_owned()
            ),
            (
                6,
                "\"198.51.100.1/24\" has host bits set: did you mean 198.51.100.0/24?".to_owned()
            ),
        ]
    );
}

#[test]
fn parse_block_list_refuses_a_list_over_the_cap_before_reading_it() {
    let flood = "192.0.2.0/24\n".repeat(1800);
    assert_eq!(
        parse_block_list(&flood, 64),
        Err(vec![(
            0,
            BlockError::TooMany {
                count: 1800,
                max: 64
            }
        )])
    );
    assert_eq!(parse_block_list("192.0.2.0/24\n\n", 1).unwrap().len(), 1);
}

#[test]
fn parse_block_list_names_every_overlapping_pair() {
    // Line 3 sorts first by address but is reported against the earlier lines.
    let text = "10.0.1.0/24\n10.0.0.0 - 10.0.1.0\n10.0.0.0/16\n10.1.0.0/16";
    let errors = parse_block_list(text, 64).unwrap_err();
    assert_eq!(
        errors,
        vec![
            (
                2,
                BlockError::Overlap {
                    block: range("10.0.0.0 - 10.0.1.0"),
                    other: range("10.0.1.0/24"),
                    other_line: 1
                }
            ),
            (
                3,
                BlockError::Overlap {
                    block: range("10.0.0.0/16"),
                    other: range("10.0.1.0/24"),
                    other_line: 1
                }
            ),
            (
                3,
                BlockError::Overlap {
                    block: range("10.0.0.0/16"),
                    other: range("10.0.0.0 - 10.0.1.0"),
                    other_line: 2
                }
            ),
        ]
    );
    let duplicate = parse_block_list("192.0.2.0/24\n192.0.2.0/24", 64).unwrap_err();
    assert_eq!(
        duplicate[0].1.to_string(),
        "192.0.2.0/24 overlaps 192.0.2.0/24 on line 1"
    );
}

// --- display and serde --------------------------------------------------------------------

#[test]
fn display_uses_cidr_when_it_can() {
    assert_eq!(range("198.51.100.0/22").to_string(), "198.51.100.0/22");
    assert_eq!(range("198.51.100.7").to_string(), "198.51.100.7/32");
    assert_eq!(range("0.0.0.0 - 255.255.255.255").to_string(), "0.0.0.0/0");
    assert_eq!(
        range("198.51.100.0 - 198.51.100.2").to_string(),
        "198.51.100.0 - 198.51.100.2"
    );
}

#[test]
fn serde_uses_the_display_form() {
    let blocks = vec![
        range("198.51.100.0/22"),
        range("196.4.163.0 - 196.4.165.255"),
    ];
    let json = serde_json::to_string(&blocks).unwrap();
    assert_eq!(json, r#"["198.51.100.0/22","196.4.163.0 - 196.4.165.255"]"#);
    assert_eq!(
        serde_json::from_str::<Vec<Ipv4Range>>(&json).unwrap(),
        blocks
    );
    let err = serde_json::from_str::<Ipv4Range>(r#""198.51.100.1/24""#).unwrap_err();
    assert!(err.to_string().contains("has host bits set"), "{err}");
    assert!(serde_json::from_str::<Ipv4Range>("42").is_err());
}

// --- properties against a brute-force model -----------------------------------------------

/// Property ranges live inside one aligned window, so address sets are small bit vectors.
const WINDOW: u32 = 1 << 12;

fn window_base() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0),
        Just(u32::MAX - (WINDOW - 1)),
        any::<u32>().prop_map(|b| b & !(WINDOW - 1)),
    ]
}

fn range_in(base: u32) -> impl Strategy<Value = Ipv4Range> {
    // Half the time a short range, so that edges and small pieces show up often.
    let offset = || prop_oneof![0..WINDOW, 0..64u32];
    (offset(), offset())
        .prop_map(move |(a, b)| Ipv4Range::new(base + a.min(b), base + a.max(b)).unwrap())
}

fn two_ranges() -> impl Strategy<Value = (u32, Ipv4Range, Ipv4Range)> {
    window_base().prop_flat_map(|base| (Just(base), range_in(base), range_in(base)))
}

fn members(base: u32, ranges: &[Ipv4Range]) -> Vec<bool> {
    let mut set = vec![false; WINDOW as usize];
    for r in ranges {
        for a in r.start()..=r.end() {
            set[(a - base) as usize] = true;
        }
    }
    set
}

/// The maximal runs of a set, in order: its canonical list of ranges.
fn runs(base: u32, set: &[bool]) -> Vec<Ipv4Range> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < set.len() {
        if set[i] {
            let start = i;
            while i + 1 < set.len() && set[i + 1] {
                i += 1;
            }
            out.push(Ipv4Range::new(base + start as u32, base + i as u32).unwrap());
        }
        i += 1;
    }
    out
}

/// Greedy brute force: at each address try prefix lengths from the shortest up.
fn greedy_cidrs(r: Ipv4Range) -> Vec<Ipv4Net> {
    let mut out = Vec::new();
    let mut at = u64::from(r.start());
    while at <= u64::from(r.end()) {
        let first = Ipv4Addr::from(at as u32);
        let piece = (0..=32u8)
            .map(|len| Ipv4Net::new(first, len).unwrap())
            .find(|n| n.network() == first && u32::from(n.broadcast()) <= r.end())
            .unwrap();
        out.push(piece);
        at = u64::from(u32::from(piece.broadcast())) + 1;
    }
    out
}

/// The fewest aligned power-of-two blocks covering `r`, by dynamic programming.
fn min_cidr_count(r: Ipv4Range) -> usize {
    let (start, end) = (u64::from(r.start()), u64::from(r.end()));
    let len = (end - start + 1) as usize;
    let mut best = vec![usize::MAX; len + 1];
    best[len] = 0;
    for i in (0..len).rev() {
        let at = start + i as u64;
        for k in 0..=32 {
            let size = 1u64 << k;
            if !at.is_multiple_of(size) || at + size - 1 > end {
                continue;
            }
            let next = best[i + size as usize];
            best[i] = best[i].min(next.saturating_add(1));
        }
    }
    best[0]
}

proptest! {
    #[test]
    fn to_cidrs_is_an_exact_minimal_aligned_cover((base, r, _) in two_ranges()) {
        let cidrs = r.to_cidrs();
        let pieces: Vec<Ipv4Range> = cidrs.iter().map(|&n| Ipv4Range::from_net(n)).collect();
        prop_assert_eq!(pieces.first().map(Ipv4Range::start), Some(r.start()));
        prop_assert_eq!(pieces.last().map(Ipv4Range::end), Some(r.end()));
        for pair in pieces.windows(2) {
            prop_assert_eq!(pair[0].end() + 1, pair[1].start());
        }
        for n in &cidrs {
            prop_assert_eq!(n.addr(), n.network(), "{} is not aligned", n);
        }
        prop_assert_eq!(members(base, &pieces), members(base, &[r]));
        prop_assert_eq!(total_size(&pieces), r.size());
        prop_assert_eq!(&cidrs, &greedy_cidrs(r));
        prop_assert_eq!(cidrs.len(), min_cidr_count(r));
        prop_assert_eq!(r.as_cidr(), (cidrs.len() == 1).then(|| cidrs[0]));
    }

    #[test]
    fn set_operations_agree_with_sets((base, a, b) in two_ranges()) {
        let (sa, sb) = (members(base, &[a]), members(base, &[b]));
        let both: Vec<bool> = sa.iter().zip(&sb).map(|(x, y)| *x && *y).collect();
        let only_a: Vec<bool> = sa.iter().zip(&sb).map(|(x, y)| *x && !*y).collect();

        prop_assert_eq!(a.overlaps(&b), both.iter().any(|x| *x));
        prop_assert_eq!(a.overlaps(&b), b.overlaps(&a));
        prop_assert_eq!(a.contains(&b), sa.iter().zip(&sb).all(|(x, y)| *x || !*y));
        prop_assert_eq!(a.intersection(&b).into_iter().collect::<Vec<_>>(), runs(base, &both));
        prop_assert_eq!(a.subtract(&b), runs(base, &only_a));
    }

    #[test]
    fn contains_addr_agrees_with_membership(
        (base, r, offset) in window_base()
            .prop_flat_map(|base| (Just(base), range_in(base), 0..WINDOW))
    ) {
        let inside = members(base, &[r])[offset as usize];
        prop_assert_eq!(r.contains_addr(Ipv4Addr::from(base + offset)), inside);
    }

    #[test]
    fn coalesce_is_the_sorted_union(
        (base, ranges) in window_base()
            .prop_flat_map(|base| (Just(base), prop::collection::vec(range_in(base), 0..8)))
    ) {
        let merged = coalesce(ranges.iter().copied());
        prop_assert_eq!(&merged, &runs(base, &members(base, &ranges)));
        for pair in merged.windows(2) {
            // Sorted with a gap of at least one address: no overlap, no adjacency.
            prop_assert!(u64::from(pair[0].end()) + 1 < u64::from(pair[1].start()));
        }
        prop_assert_eq!(coalesce(merged.clone()), merged);
    }

    #[test]
    fn display_round_trips_through_from_str(a in any::<u32>(), b in any::<u32>()) {
        let r = Ipv4Range::new(a.min(b), a.max(b)).unwrap();
        prop_assert_eq!(r.to_string().parse::<Ipv4Range>(), Ok(r));
        for net in r.to_cidrs() {
            let piece = Ipv4Range::from_net(net);
            prop_assert_eq!(net.to_string().parse::<Ipv4Range>(), Ok(piece));
            prop_assert_eq!(piece.to_string(), net.to_string());
        }
    }

    #[test]
    fn from_start_count_matches_new(start in any::<u32>(), count in 1..=(1u64 << 32)) {
        let last = u64::from(start) + count - 1;
        match Ipv4Range::from_start_count(Ipv4Addr::from(start), count) {
            Ok(r) => {
                prop_assert_eq!((r.start(), r.size()), (start, count));
                prop_assert_eq!(u64::from(r.end()), last);
            }
            Err(_) => prop_assert!(last > u64::from(u32::MAX)),
        }
    }

    #[test]
    fn parse_padded_addr_reads_any_padding(octets in any::<[u8; 4]>(), widths in any::<[bool; 4]>()) {
        let text = octets
            .iter()
            .zip(widths)
            .map(|(o, pad)| if pad { format!("{o:03}") } else { o.to_string() })
            .collect::<Vec<_>>()
            .join(".");
        prop_assert_eq!(parse_padded_addr(&text), Ok(Ipv4Addr::from(octets)));
    }
}
