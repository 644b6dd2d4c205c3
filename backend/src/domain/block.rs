//! IPv4 address blocks: the unit that registries hold, list and transfer.
//!
//! An [`Ipv4Range`] is an inclusive range of addresses. Registries publish blocks in two shapes:
//! CIDR prefixes (`198.51.100.0/22`) and, in delegated-extended files, a start address plus an
//! address count that need not be a power of two (768 addresses at 196.4.163.0). Both map onto
//! the same range type; CIDR arithmetic is done with `ipnet`.
//!
//! The module also holds the parsers for blocks typed by people (strict) and for the padded
//! dotted quads some registry files carry (lenient), and the IANA special-purpose registry used
//! to flag space that can never be transferred.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use ipnet::{Ipv4Net, Ipv4Subnets};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a block could not be built or parsed. Messages quote the offending input so that forms
/// and importers can show them as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// Nothing was entered.
    #[error("enter a block as CIDR (198.51.100.0/24) or a range (198.51.100.0 - 198.51.100.255)")]
    Empty,
    /// The text is not a dotted quad of octets 0-255.
    #[error("\"{input}\" is not an IPv4 address")]
    NotAnAddress { input: String },
    /// A user typed leading zeros, which some tools read as octal, so they are refused.
    #[error("\"{input}\" has zero-padded octets: did you mean {unpadded}?")]
    ZeroPadded { input: String, unpadded: Ipv4Addr },
    /// The part after the slash is not a prefix length of 0-32.
    #[error("\"{input}\" is not a valid prefix: the prefix length must be between 0 and 32")]
    BadPrefixLength { input: String },
    /// The address of a CIDR is not the first address of its prefix.
    #[error("\"{input}\" has host bits set: did you mean {network}?")]
    HostBitsSet { input: String, network: Ipv4Net },
    /// A range with nothing on one side of the dash.
    #[error("\"{input}\" needs an address on each side of the dash")]
    IncompleteRange { input: String },
    /// The last address comes before the first.
    #[error("\"{input}\" ends before it starts")]
    EndsBeforeStart { input: String },
    /// A start-and-count block with a count of zero.
    #[error("a block starting at {start} must hold at least one address")]
    ZeroCount { start: Ipv4Addr },
    /// A start-and-count block that runs past the last IPv4 address.
    #[error("{count} addresses starting at {start} run past 255.255.255.255")]
    PastEndOfSpace { start: Ipv4Addr, count: u64 },
    /// A list holds more blocks than one transfer may.
    #[error("the list has {count} blocks: list at most {max} blocks in one transfer")]
    TooMany { count: usize, max: usize },
    /// Two blocks of one list share addresses.
    #[error("{block} overlaps {other} on line {other_line}")]
    Overlap {
        block: Ipv4Range,
        other: Ipv4Range,
        other_line: usize,
    },
}

/// An inclusive range of IPv4 addresses, `start <= end`.
///
/// Ordered by start address, then by end address (the derive follows field order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Range {
    start: u32,
    end: u32,
}

impl Ipv4Range {
    /// The range `start..=end`; an error if `start > end`.
    pub fn new(start: u32, end: u32) -> Result<Self, BlockError> {
        if start > end {
            return Err(BlockError::EndsBeforeStart {
                input: format!("{} - {}", Ipv4Addr::from(start), Ipv4Addr::from(end)),
            });
        }
        Ok(Ipv4Range { start, end })
    }

    /// The addresses of a CIDR prefix (host bits in `net` are ignored).
    pub fn from_net(net: Ipv4Net) -> Self {
        Ipv4Range {
            start: net.network().into(),
            end: net.broadcast().into(),
        }
    }

    /// `count` addresses from `start`, as delegated-extended files give them. The count need not
    /// be a power of two; it must be at least 1 and must not run past 255.255.255.255.
    pub fn from_start_count(start: Ipv4Addr, count: u64) -> Result<Self, BlockError> {
        if count == 0 {
            return Err(BlockError::ZeroCount { start });
        }
        let first = u32::from(start);
        // Checked: a count near u64::MAX must be an error, not an overflow.
        let end = u64::from(first)
            .checked_add(count - 1)
            .and_then(|last| u32::try_from(last).ok())
            .ok_or(BlockError::PastEndOfSpace { start, count })?;
        Ok(Ipv4Range { start: first, end })
    }

    /// The first address, as an integer.
    pub const fn start(&self) -> u32 {
        self.start
    }

    /// The last address, as an integer.
    pub const fn end(&self) -> u32 {
        self.end
    }

    /// The first address.
    pub const fn first(&self) -> Ipv4Addr {
        Ipv4Addr::from_bits(self.start)
    }

    /// The last address.
    pub const fn last(&self) -> Ipv4Addr {
        Ipv4Addr::from_bits(self.end)
    }

    /// The number of addresses (2^32 for the whole space, hence `u64`).
    pub const fn size(&self) -> u64 {
        (self.end - self.start) as u64 + 1
    }

    /// The fewest CIDR prefixes that cover exactly this range, in address order.
    pub fn to_cidrs(&self) -> Vec<Ipv4Net> {
        Ipv4Subnets::new(self.first(), self.last(), 0).collect()
    }

    /// The range as one CIDR prefix, if it is exactly one.
    pub fn as_cidr(&self) -> Option<Ipv4Net> {
        let size = self.size();
        if !size.is_power_of_two() || !u64::from(self.start).is_multiple_of(size) {
            return None;
        }
        // size is 2^k with k <= 32, so the prefix length is 32 - k.
        let prefix_len = 32 - size.trailing_zeros() as u8;
        Ipv4Net::new(self.first(), prefix_len).ok()
    }

    /// Whether the two ranges share at least one address.
    pub fn overlaps(&self, other: &Ipv4Range) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// Whether every address of `other` is in this range.
    pub fn contains(&self, other: &Ipv4Range) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// Whether `addr` is in this range.
    pub fn contains_addr(&self, addr: Ipv4Addr) -> bool {
        (self.start..=self.end).contains(&u32::from(addr))
    }

    /// The addresses in both ranges, if any.
    pub fn intersection(&self, other: &Ipv4Range) -> Option<Ipv4Range> {
        self.overlaps(other).then(|| Ipv4Range {
            start: self.start.max(other.start),
            end: self.end.min(other.end),
        })
    }

    /// What is left of this range once `other` is taken out: none, one or two ranges, in address
    /// order. A partial transfer leaves these with the source.
    pub fn subtract(&self, other: &Ipv4Range) -> Vec<Ipv4Range> {
        let Some(cut) = self.intersection(other) else {
            return vec![*self];
        };
        let mut rest = Vec::with_capacity(2);
        if cut.start > self.start {
            rest.push(Ipv4Range {
                start: self.start,
                end: cut.start - 1,
            });
        }
        if cut.end < self.end {
            rest.push(Ipv4Range {
                start: cut.end + 1,
                end: self.end,
            });
        }
        rest
    }

    /// Every special-purpose entry this range touches; empty for ordinary unicast space.
    pub fn special_purpose(&self) -> Vec<&'static SpecialPurpose> {
        SPECIAL_PURPOSE
            .iter()
            .filter(|entry| self.overlaps(&Ipv4Range::from_net(entry.net)))
            .collect()
    }
}

/// The sorted union of `ranges`: overlapping and adjacent ranges are merged, so two address sets
/// are equal exactly when their coalesced forms are.
pub fn coalesce(ranges: impl IntoIterator<Item = Ipv4Range>) -> Vec<Ipv4Range> {
    let mut sorted: Vec<Ipv4Range> = ranges.into_iter().collect();
    sorted.sort_unstable();
    let mut merged: Vec<Ipv4Range> = Vec::with_capacity(sorted.len());
    for range in sorted {
        match merged.last_mut() {
            // u64 so that a range ending at 255.255.255.255 does not overflow.
            Some(last) if u64::from(range.start) <= u64::from(last.end) + 1 => {
                last.end = last.end.max(range.end);
            }
            _ => merged.push(range),
        }
    }
    merged
}

/// The number of addresses in `ranges`, counting shared addresses once per range; coalesce first
/// to count distinct addresses.
pub fn total_size(ranges: &[Ipv4Range]) -> u64 {
    ranges.iter().map(Ipv4Range::size).sum()
}

/// The octets of a dotted quad, each 1-3 digits and at most 255, and whether any is zero-padded.
fn parse_octets(s: &str) -> Option<(Ipv4Addr, bool)> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    let mut padded = false;
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = part.parse().ok()?;
        padded |= part.len() > 1 && part.starts_with('0');
    }
    if parts.next().is_some() {
        return None;
    }
    Some((Ipv4Addr::from(octets), padded))
}

/// A dotted quad typed by a person: no zero-padded octets.
fn parse_strict_addr(s: &str) -> Result<Ipv4Addr, BlockError> {
    match parse_octets(s) {
        Some((addr, false)) => Ok(addr),
        Some((unpadded, true)) => Err(BlockError::ZeroPadded {
            input: s.to_owned(),
            unpadded,
        }),
        None => Err(BlockError::NotAnAddress {
            input: s.to_owned(),
        }),
    }
}

/// A dotted quad from a registry file, for importers only: ARIN pads octets with zeros
/// (`054.224.000.000` is 54.224.0.0), so padded and plain octets are both accepted. Each octet
/// has 1-3 digits and is at most 255; surrounding whitespace is ignored.
pub fn parse_padded_addr(s: &str) -> Result<Ipv4Addr, BlockError> {
    let s = s.trim();
    parse_octets(s)
        .map(|(addr, _)| addr)
        .ok_or_else(|| BlockError::NotAnAddress {
            input: s.to_owned(),
        })
}

/// Blocks typed one per line (blank lines are skipped), at most `max_blocks` of them. On
/// failure, every bad line is reported with its 1-based number, as is every block that overlaps
/// an earlier one in the list. A list over the cap is refused whole (as line 0) before any line
/// is read, so the pairwise overlap report stays bounded by `max_blocks`².
pub fn parse_block_list(
    text: &str,
    max_blocks: usize,
) -> Result<Vec<Ipv4Range>, Vec<(usize, BlockError)>> {
    let count = text.lines().filter(|l| !l.trim().is_empty()).count();
    if count > max_blocks {
        return Err(vec![(
            0,
            BlockError::TooMany {
                count,
                max: max_blocks,
            },
        )]);
    }
    let mut blocks: Vec<(usize, Ipv4Range)> = Vec::new();
    let mut errors: Vec<(usize, BlockError)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match line.parse() {
            Ok(block) => blocks.push((index + 1, block)),
            Err(error) => errors.push((index + 1, error)),
        }
    }

    // Sweep in address order, keeping the blocks that may still reach the next one.
    let mut by_address: Vec<usize> = (0..blocks.len()).collect();
    by_address.sort_by_key(|&i| (blocks[i].1, i));
    let mut open: Vec<usize> = Vec::new();
    for &i in &by_address {
        let block = blocks[i].1;
        open.retain(|&j| blocks[j].1.end >= block.start);
        for &j in &open {
            // Indexes follow line order: report on the later line, naming the earlier one.
            let (earlier, later) = (blocks[i.min(j)], blocks[i.max(j)]);
            errors.push((
                later.0,
                BlockError::Overlap {
                    block: later.1,
                    other: earlier.1,
                    other_line: earlier.0,
                },
            ));
        }
        open.push(i);
    }

    if errors.is_empty() {
        return Ok(blocks.into_iter().map(|(_, block)| block).collect());
    }
    errors.sort_by_key(|(line, error)| match error {
        BlockError::Overlap { other_line, .. } => (*line, *other_line),
        _ => (*line, 0),
    });
    Err(errors)
}

impl FromStr for Ipv4Range {
    type Err = BlockError;

    /// A block typed by a person: `198.51.100.0/24`, `198.51.100.0 - 198.51.101.255` (spaces
    /// optional, hyphen or en dash) or a single address `198.51.100.7`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let input = s.trim();
        if input.is_empty() {
            return Err(BlockError::Empty);
        }

        if let Some((first, last)) = input.split_once(['-', '–']) {
            let (first, last) = (first.trim(), last.trim());
            if first.is_empty() || last.is_empty() {
                return Err(BlockError::IncompleteRange {
                    input: input.to_owned(),
                });
            }
            let (first, last) = (parse_strict_addr(first)?, parse_strict_addr(last)?);
            if first > last {
                return Err(BlockError::EndsBeforeStart {
                    input: input.to_owned(),
                });
            }
            return Ipv4Range::new(first.into(), last.into());
        }

        if let Some((addr, prefix_len)) = input.split_once('/') {
            let addr = match addr.trim() {
                // Quote the whole input rather than an empty string.
                "" => {
                    return Err(BlockError::NotAnAddress {
                        input: input.to_owned(),
                    });
                }
                addr => parse_strict_addr(addr)?,
            };
            let prefix_len = prefix_len.trim();
            let bad_prefix = || BlockError::BadPrefixLength {
                input: input.to_owned(),
            };
            if prefix_len.is_empty()
                || prefix_len.len() > 2
                || !prefix_len.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(bad_prefix());
            }
            let net = prefix_len
                .parse()
                .ok()
                .and_then(|len| Ipv4Net::new(addr, len).ok())
                .ok_or_else(bad_prefix)?;
            if net.network() != addr {
                return Err(BlockError::HostBitsSet {
                    input: input.to_owned(),
                    network: net.trunc(),
                });
            }
            return Ok(Ipv4Range::from_net(net));
        }

        let addr = u32::from(parse_strict_addr(input)?);
        Ipv4Range::new(addr, addr)
    }
}

impl fmt::Display for Ipv4Range {
    /// The CIDR when the range is exactly one prefix, else `first - last`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_cidr() {
            Some(net) => write!(f, "{net}"),
            None => write!(f, "{} - {}", self.first(), self.last()),
        }
    }
}

/// A prefix length written `/24`, used where a size is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PrefixLength(u8);

impl PrefixLength {
    /// `/len`; `None` above 32.
    pub fn new(len: u8) -> Option<PrefixLength> {
        (len <= 32).then_some(PrefixLength(len))
    }

    /// The length in bits.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Number of addresses in a prefix of this length.
    pub fn addresses(self) -> u64 {
        1u64 << (32 - u32::from(self.0))
    }
}

impl fmt::Display for PrefixLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}", self.0)
    }
}

impl<'de> Deserialize<'de> for PrefixLength {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.strip_prefix('/')
            .and_then(|digits| digits.parse::<u8>().ok())
            .and_then(PrefixLength::new)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "\"{text}\" is not a prefix length: write it as \"/24\""
                ))
            })
    }
}

impl Serialize for Ipv4Range {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ipv4Range {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One entry of the IANA IPv4 Special-Purpose Address Registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialPurpose {
    /// The reserved prefix.
    pub net: Ipv4Net,
    /// The registry's name for it.
    pub name: &'static str,
    /// The defining document.
    pub rfc: &'static str,
    /// The registry's "Globally Reachable" column; `false` where it says N/A.
    pub globally_reachable: bool,
}

const fn special(
    octets: [u8; 4],
    prefix_len: u8,
    name: &'static str,
    rfc: &'static str,
    globally_reachable: bool,
) -> SpecialPurpose {
    let [a, b, c, d] = octets;
    SpecialPurpose {
        net: Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix_len),
        name,
        rfc,
        globally_reachable,
    }
}

/// Space that is not ordinary global unicast: the IANA IPv4 Special-Purpose Address Registry
/// (RFC 6890 and its updates) plus multicast and the old class E, in address order. None of it
/// can be held or transferred through a registry.
pub static SPECIAL_PURPOSE: &[SpecialPurpose] = &[
    special([0, 0, 0, 0], 8, "This network", "RFC 791", false),
    special([10, 0, 0, 0], 8, "Private-Use", "RFC 1918", false),
    special(
        [100, 64, 0, 0],
        10,
        "Shared Address Space",
        "RFC 6598",
        false,
    ),
    special([127, 0, 0, 0], 8, "Loopback", "RFC 1122", false),
    special([169, 254, 0, 0], 16, "Link Local", "RFC 3927", false),
    special([172, 16, 0, 0], 12, "Private-Use", "RFC 1918", false),
    special(
        [192, 0, 0, 0],
        24,
        "IETF Protocol Assignments",
        "RFC 6890",
        false,
    ),
    special(
        [192, 0, 2, 0],
        24,
        "Documentation (TEST-NET-1)",
        "RFC 5737",
        false,
    ),
    special([192, 31, 196, 0], 24, "AS112-v4", "RFC 7535", true),
    special([192, 52, 193, 0], 24, "AMT", "RFC 7450", true),
    special(
        [192, 88, 99, 0],
        24,
        "Deprecated (6to4 Relay Anycast)",
        "RFC 7526",
        false,
    ),
    special([192, 168, 0, 0], 16, "Private-Use", "RFC 1918", false),
    special(
        [192, 175, 48, 0],
        24,
        "Direct Delegation AS112 Service",
        "RFC 7534",
        true,
    ),
    special([198, 18, 0, 0], 15, "Benchmarking", "RFC 2544", false),
    special(
        [198, 51, 100, 0],
        24,
        "Documentation (TEST-NET-2)",
        "RFC 5737",
        false,
    ),
    special(
        [203, 0, 113, 0],
        24,
        "Documentation (TEST-NET-3)",
        "RFC 5737",
        false,
    ),
    // Multicast is not unicast space, so never reachable as a destination network.
    special([224, 0, 0, 0], 4, "Multicast", "RFC 5771", false),
    special([240, 0, 0, 0], 4, "Reserved", "RFC 1112", false),
    special(
        [255, 255, 255, 255],
        32,
        "Limited Broadcast",
        "RFC 919",
        false,
    ),
];

#[cfg(test)]
mod tests {
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
                    "\"198.51.100.1/24\" has host bits set: did you mean 198.51.100.0/24?"
                        .to_owned()
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
}
