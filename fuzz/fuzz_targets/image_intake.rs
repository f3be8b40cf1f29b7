//! Any upload through the image intake: sniffing, EXIF, decoding under limits, re-encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use outreach::media::{IntakeLimits, exif, process};

fuzz_target!(|data: &[u8]| {
    // Small limits keep each run fast; the limits themselves are checked before any work.
    let limits = IntakeLimits { max_pixels: 4_000_000, ..IntakeLimits::default() };
    let _ = exif::read(data);
    if let Ok(p) = process(data, &limits) {
        assert!(p.width > 0 && p.height > 0);
    }
});
