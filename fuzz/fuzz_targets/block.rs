//! Block parsing: a block typed in a form, the block list of a filing, a registry's padded quad.
#![no_main]

use ipxfer_domain::block::{self, Ipv4Range};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(range) = text.parse::<Ipv4Range>() {
        // A parsed block prints back to something that parses to the same block.
        let again: Ipv4Range = range.to_string().parse().expect("a block's display parses");
        assert_eq!(again, range);
        let _ = range.to_cidrs();
    }
    let _ = block::parse_block_list(text, 64);
    let _ = block::parse_padded_addr(text);
});
