//! The operator's policy override file (`--policy`), merged over the shipped profiles and fees.
#![no_main]

use ipxfer::config::Settings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = Settings::with_policy_overrides(text);
});
