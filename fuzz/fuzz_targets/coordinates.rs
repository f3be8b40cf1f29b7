//! The coordinate parsers: a `bbox` query string, and positions in any datum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use outreach::geo::{BBox, Datum, LatLon};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(b) = BBox::parse(text)
    {
        assert!(b.min.lat <= b.max.lat && b.min.lon <= b.max.lon);
    }
    if data.len() >= 16 {
        let lat = f64::from_le_bytes(data[..8].try_into().unwrap_or_default());
        let lon = f64::from_le_bytes(data[8..16].try_into().unwrap_or_default());
        if let Ok(p) = LatLon::new(lat, lon) {
            for datum in [Datum::Wgs84, Datum::Gcj02, Datum::Bd09] {
                let q = datum.to_wgs84(p);
                assert!(q.lat.is_finite() && q.lon.is_finite());
                let r = datum.from_wgs84(p);
                assert!(r.lat.is_finite() && r.lon.is_finite());
            }
        }
    }
});
