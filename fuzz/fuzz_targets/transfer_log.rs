//! The NRO transfer-log reader (`transfers_latest.json`), as `ipxfer import transfers` feeds it.
#![no_main]

use ipxfer_domain::transfer_log;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(log) = transfer_log::parse_bytes(data) {
        for transfer in log.transfers.iter().chain(&log.in_progress) {
            let _ = transfer.is_inter_rir();
            let _ = transfer.ip4_address_count();
            for _ in transfer.transferred_ranges() {}
        }
    }
});
