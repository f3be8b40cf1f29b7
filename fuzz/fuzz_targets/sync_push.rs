//! The sync push decoder: a request body as the server reads it, then every record in it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = outreach::http::sync::pushed::decode_push(data);
});
