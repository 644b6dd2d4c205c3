//! The verification bundle reader behind `ipxfer ledger verify --file`, fed line by line.
#![no_main]

use ipxfer_domain::export::bundle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(check) = bundle::verify_lines(text.lines()) {
        let _ = check.summary();
    }
});
