//! The delegated-extended parser, as `ipxfer import delegated` feeds it: any bytes.
#![no_main]

use ipxfer_domain::delegated;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = delegated::parse_document_bytes(data) {
        // What the importer does with a parsed file must not panic either.
        for _ in file.delegated_ipv4() {}
        let _ = file.mismatches();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = delegated::parse_document(text);
    }
});
