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

/// Whatever can be read; a photo without EXIF, or with broken EXIF, simply has no facts.
pub fn read(bytes: &[u8]) -> ExifFacts {
    let Ok(exif) = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)) else {
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

    #[test]
    fn no_exif_means_no_facts() {
        assert_eq!(read(b"not an image"), ExifFacts::default());
    }
}
