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
mod tests;
