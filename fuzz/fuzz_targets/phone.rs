//! Phone normalisation: whatever is typed, a normal phone or a refusal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use outreach::domain::Phone;
use outreach::domain::common::phone::mask;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = mask(&text);
    if let Ok(phone) = Phone::parse(&text) {
        assert_eq!(phone.as_str().len(), 11);
        assert!(Phone::parse(phone.as_str()).is_ok_and(|again| again == phone));
    }
});
