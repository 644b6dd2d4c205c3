//! The operator's policy override file (`--policy`), merged over the shipped profiles and fees.
#![no_main]

use ipxfer_domain::policy::{Profiles, SHIPPED_PROFILES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = Profiles::from_toml_with_overrides(SHIPPED_PROFILES, Some(text));
});
