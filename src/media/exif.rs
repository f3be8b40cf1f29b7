//! The EXIF facts a visit cares about: where and when the photo was taken, and which way is up.
//! Read before the pixels are re-encoded, since the stored image carries no metadata at all.

use chrono::NaiveDate;
use exif::{In, Tag, Value};

use crate::geo::LatLon;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ExifFacts {
    pub position: Option<LatLon>,
    pub taken_at: Option<chrono::NaiveDateTime>,
    pub offset_minutes: Option<i32>,
    /// EXIF orientation 1–8.
    pub orientation: Option<u8>,
}

/// Whatever can be read; a photo without EXIF simply has no facts. EXIF is read leniently
/// (kamadak-exif's continue-on-error): tools that write a sub-IFD without its end offset, or one
/// bad field, are common, and refusing the whole block would lose the position and time that
/// `photo_far_from_visit` and `photo_time_mismatch` judge.
pub fn read(bytes: &[u8]) -> ExifFacts {
    let parsed = exif::Reader::new()
        .continue_on_error(true)
        .read_from_container(&mut std::io::Cursor::new(bytes))
        .or_else(|e| e.distill_partial_result(|errors| tracing::debug!(count = errors.len(), "EXIF read with errors")));
    let Ok(exif) = parsed else {
        return ExifFacts::default();
    };
    let field = |tag| exif.get_field(tag, In::PRIMARY);
    let orientation = field(Tag::Orientation).and_then(|f| f.value.get_uint(0)).and_then(|o| u8::try_from(o).ok());
    let position = gps(&exif);
    let taken = field(Tag::DateTimeOriginal).or_else(|| field(Tag::DateTime)).and_then(|f| match &f.value {
        Value::Ascii(parts) => parts.first().and_then(|p| exif::DateTime::from_ascii(p).ok()),
        _ => None,
    });
    let offset_minutes = field(Tag::OffsetTimeOriginal).and_then(|f| match &f.value {
        Value::Ascii(parts) => parts.first().and_then(|p| parse_offset(p)),
        _ => None,
    });
    let taken_at = taken.and_then(|t| {
        NaiveDate::from_ymd_opt(i32::from(t.year), u32::from(t.month), u32::from(t.day))
            .and_then(|d| d.and_hms_opt(u32::from(t.hour), u32::from(t.minute), u32::from(t.second)))
    });
    ExifFacts { position, taken_at, offset_minutes, orientation }
}

fn parse_offset(text: &[u8]) -> Option<i32> {
    // "+08:00"
    let s = std::str::from_utf8(text).ok()?;
    let sign = match s.get(..1)? {
        "+" => 1,
        "-" => -1,
        _ => return None,
    };
    let hours: i32 = s.get(1..3)?.parse().ok()?;
    let minutes: i32 = s.get(4..6)?.parse().ok()?;
    Some(sign * (hours * 60 + minutes))
}

fn gps(exif: &exif::Exif) -> Option<LatLon> {
    let degrees = |tag| match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Rational(r) if r.len() >= 3 => Some(r[0].to_f64() + r[1].to_f64() / 60.0 + r[2].to_f64() / 3600.0),
        _ => None,
    };
    let reference = |tag| match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(parts) => parts.first().and_then(|p| p.first().copied()),
        _ => None,
    };
    let mut lat = degrees(Tag::GPSLatitude)?;
    let mut lon = degrees(Tag::GPSLongitude)?;
    if reference(Tag::GPSLatitudeRef) == Some(b'S') {
        lat = -lat;
    }
    if reference(Tag::GPSLongitudeRef) == Some(b'W') {
        lon = -lon;
    }
    // (0, 0) is what some phones write when they had no fix.
    if lat == 0.0 && lon == 0.0 {
        return None;
    }
    LatLon::new(lat, lon).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse() {
        assert_eq!(parse_offset(b"+08:00"), Some(480));
        assert_eq!(parse_offset(b"-03:30"), Some(-210));
        assert_eq!(parse_offset(b"8"), None);
    }

    /// A JPEG whose EXIF has an orientation and a GPS sub-IFD that ends without the four bytes
    /// of its next-IFD offset, as some tools write it (Pillow reads it; a strict parser refuses).
    fn jpeg_with_truncated_gps_ifd() -> Vec<u8> {
        let mut tiff: Vec<u8> = b"II*\0".to_vec();
        tiff.extend(8u32.to_le_bytes());
        let entry = |tag: u16, kind: u16, count: u32, value: u32| {
            let mut e = tag.to_le_bytes().to_vec();
            e.extend(kind.to_le_bytes());
            e.extend(count.to_le_bytes());
            e.extend(value.to_le_bytes());
            e
        };
        // IFD0 at 8: two entries (2 + 24 bytes) and its next-IFD offset (4): ends at 38.
        // The rationals follow at 38 (6 × 8 = 48 bytes), then the GPS IFD at 86.
        let (rationals, gps) = (38u32, 86u32);
        tiff.extend(2u16.to_le_bytes());
        tiff.extend(entry(0x0112, 3, 1, 6));
        tiff.extend(entry(0x8825, 4, 1, gps));
        tiff.extend(0u32.to_le_bytes());
        for (n, d) in [(22u32, 1u32), (34, 1), (4428, 100), (113, 1), (4, 1), (5340, 100)] {
            tiff.extend(n.to_le_bytes());
            tiff.extend(d.to_le_bytes());
        }
        assert_eq!(tiff.len(), gps as usize);
        tiff.extend(4u16.to_le_bytes());
        tiff.extend(entry(0x0001, 2, 2, u32::from(b'N')));
        tiff.extend(entry(0x0002, 5, 3, rationals));
        tiff.extend(entry(0x0003, 2, 2, u32::from(b'E')));
        tiff.extend(entry(0x0004, 5, 3, rationals + 24));
        // No next-IFD offset: the block ends here.
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff);
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
        jpeg.extend(u16::try_from(app1.len() + 2).unwrap_or(0).to_be_bytes());
        jpeg.extend(app1);
        jpeg.extend([0xFF, 0xD9]);
        jpeg
    }

    #[test]
    fn exif_with_a_truncated_sub_ifd_still_gives_its_facts() {
        let jpeg = jpeg_with_truncated_gps_ifd();
        let strict = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&jpeg));
        assert!(strict.is_err(), "a strict read refuses it: {:?}", strict.map(|e| e.fields().count()));
        let facts = read(&jpeg);
        assert_eq!(facts.orientation, Some(6));
        let (lat, lon) = facts.position.map_or((0.0, 0.0), |p| (p.lat, p.lon));
        assert!((lat - 22.5789).abs() < 1e-3 && (lon - 113.0815).abs() < 1e-3, "{lat}, {lon}");
    }

    #[test]
    fn no_exif_means_no_facts() {
        assert_eq!(read(b"not an image"), ExifFacts::default());
    }
}
